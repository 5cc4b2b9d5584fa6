"""`analyze` outputs on the bundled clips equal the stored reference (tests/data/analyze_reference.json, written by
scripts/analyze_reference.py before the architecture refactor) within 1e-4: every timeline column, segment
probabilities, classes and the clip-level reading — with the face CNN in float32 and the face reading's training class
prior, as the reference was made. The default int8 face CNN keeps every class and moves the readings by little. (The
default uniform class prior changes the face reading by design: tests/test_class_prior.py.)"""

import importlib.util
import json
from pathlib import Path

import pytest

from emorec.pipelines.analyze import analyze

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("analyze_reference", ROOT / "scripts" / "analyze_reference.py")
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)
EXPECTED = json.loads(reference.REFERENCE.read_text())


@pytest.mark.parametrize("name", reference.CLIPS)
def test_outputs_equal_the_reference(name, data_dir, session_store):
    got = reference.snapshot(analyze(data_dir / name, None, store=session_store, plot=False, face_precision="float32", face_prior="training"))
    assert reference.compare(EXPECTED[name], got) <= 1e-4


@pytest.mark.parametrize("name", reference.CLIPS)
def test_int8_face_cnn_keeps_the_reference_classes(name, data_dir, session_store):
    got = reference.snapshot(analyze(data_dir / name, None, store=session_store, plot=False, face_prior="training"))
    difference = reference.compare(EXPECTED[name], got)
    assert difference < float("inf")  # every class (clip, segments, modalities) as in the reference
    assert difference <= 0.05  # measured: 0.018-0.031 on the clips with a face, 0 on the audio-only clip


def test_compare_catches_a_changed_reading():
    name = reference.CLIPS[0]
    changed = json.loads(json.dumps(EXPECTED[name]))
    changed["timeline"]["valence"][0] = (changed["timeline"]["valence"][0] or 0.0) + 0.01
    assert reference.compare(EXPECTED[name], changed) > 1e-4
    changed = json.loads(json.dumps(EXPECTED[name]))
    changed["emotion"] = "surprise" if changed["emotion"] != "surprise" else "sad"
    assert reference.compare(EXPECTED[name], changed) == float("inf")
