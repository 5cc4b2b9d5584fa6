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


def test_converted_encoder_matches_ort_file_and_exposes_block_outputs():
    """emorec's encoder session (read back from .ort, block outputs added) gives the .ort file's
    states; the last block's output, layer-normed, is ``last_hidden_state``."""
    import onnxruntime as ort

    from emorec.features import moonshine
    from emorec.io.media import load_audio

    audio = load_audio(DATA / "03-01-05-02-01-01-01.flac", 16000)
    original = ort.InferenceSession(str(moonshine.model_dir() / "encoder_model.ort"), providers=["CPUExecutionProvider"])
    reference = original.run(None, {"input_values": audio[None]})[0][0]
    states, blocks = moonshine.encode(audio, (3, 7))
    assert blocks.shape == (states.shape[0], 2, 416)
    np.testing.assert_allclose(states, reference, atol=1e-3)
    last = blocks[:, 1]
    normed = (last - last.mean(1, keepdims=True)) / np.sqrt(last.var(1, keepdims=True) + 1e-5)
    # the final layer norm has a learned per-channel scale: states / normed is the same in every frame
    scale = np.median(states / normed, axis=0)
    np.testing.assert_allclose(normed * scale, states, atol=0.05 * np.abs(states).max())
    assert not np.allclose(blocks[:, 0], blocks[:, 1])
