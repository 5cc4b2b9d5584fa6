"""Every kind of bad or unusual input of the harness (``tools/bad_media.py``, issue 21) through ``emorec analyze`` in one
process: each gives its documented exit code and message or note, never a traceback, and a good input's outputs are
all written (nothing lost or overwritten; the README's outcome table lists the same kinds)."""

import json
from pathlib import Path

import pytest
from bad_media import make_all  # tools/ (on the path through conftest)
from typer.testing import CliRunner

from emorec.cli import app

OUTPUTS = ("summary.json", "timeline.csv", "segments.csv", "words.csv")
PHOTO_OUTPUTS = ("summary.json", "faces.csv", "annotated.png", "report.html")


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return make_all(tmp_path_factory.mktemp("bad_media"))


def test_the_harness_has_every_kind_the_issue_lists(cases):
    assert len(cases) >= 25
    wanted = {"truncated_10pct", "truncated_50pct", "truncated_90pct", "audio_bit_flips", "video_bit_flips", "zero_length_mp4", "text_named_mp4",
              "audio_named_mp4", "video_only", "rotated90", "rotated180", "rotated270", "variable_frame_rate", "narrow_band_8k", "six_channels",
              "timestamp_gap", "non_english", "silence", "very_short_wav", "very_short_mp4", "one_frame_video", "image", "huge_frames", "odd_file_name",
              "symlink", "unwritable_output", "output_is_a_file", "duplicate_stems"}
    assert wanted <= set(cases)


def test_every_kind_gives_its_documented_outcome(cases, tmp_path, session_store):
    runner = CliRunner()
    wrong = []
    for name, case in cases.items():
        out = case.out or tmp_path / name
        flags = case.flags if "--store" in case.flags else ["--store", str(session_store.root), *case.flags]
        result = runner.invoke(app, ["analyze", *map(str, case.inputs), "--out", str(out), "--json", *flags])
        text = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            wrong.append(f"{name}: raised {type(result.exception).__name__}: {result.exception}")
            continue
        if result.exit_code != case.code or case.expect.lower() not in text.lower() or "Traceback" in text:
            wrong.append(f"{name}: exit {result.exit_code} (documented {case.code}), expected {case.expect!r} in: {text[-400:]}")
            continue
        if case.code != 2:  # every input that was read has all its outputs, each in its own folder
            objects = json.loads(result.stdout)
            for obj in objects if isinstance(objects, list) else [objects]:
                wanted = PHOTO_OUTPUTS if obj.get("kind") == "image" else OUTPUTS
                if obj["status"] == "ok" and not all((Path(obj["output"]) / f).is_file() for f in wanted):
                    wrong.append(f"{name}: outputs missing in {obj['output']}")
            if isinstance(objects, list):
                folders = [o["output"] for o in objects]
                if len(set(folders)) != len(folders):
                    wrong.append(f"{name}: two inputs share an output folder")
    assert not wrong, "\n".join(wrong)
