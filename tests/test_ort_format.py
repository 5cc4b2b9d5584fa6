"""The Moonshine decoder read back from .ort into ONNX computes what the wheel's .ort file computes."""

from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"


def test_converted_decoder_matches_ort_file():
    import onnxruntime as ort

    from emorec.features import moonshine
    from emorec.features.ort_format import ort_to_onnx
    from emorec.io.media import load_audio

    source = moonshine.model_dir() / "decoder_model_merged.ort"
    proto = ort_to_onnx(source)
    assert len(proto.graph.node) > 0 and any(n.op_type == "If" for n in proto.graph.node)
    converted = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    original = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    hidden = moonshine.encode(load_audio(DATA / "03-01-05-02-01-01-01.flac", 16000))[None]
    ids_a, logits_a = moonshine.greedy_decode(original, hidden, 12)
    ids_b, logits_b = moonshine.greedy_decode(converted, hidden, 12)
    assert len(ids_a) >= 5
    assert ids_a == ids_b
    np.testing.assert_allclose(logits_b, logits_a, atol=1e-3)
    # the transcript through emorec's cached decoder is the actor's sentence
    text = moonshine.transcribe(load_audio(DATA / "03-01-05-02-01-01-01.flac", 16000)).lower()
    assert "kids" in text and "door" in text  # RAVDESS statement 01
