"""The Moonshine decoder read back from .ort into ONNX computes what the wheel's .ort file computes."""

from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"


def _greedy(session, hidden, steps=12):
    names = [o.name for o in session.get_outputs()]
    empty = np.zeros((1, 8, 0, 52), np.float32)
    past = {f"past_key_values.{layer}.{part}.{kv}": empty for layer in range(8) for part in ("decoder", "encoder") for kv in ("key", "value")}
    ids, logits = [1], []
    for step in range(steps):
        feed = {"input_ids": np.array([[ids[-1]]], np.int64), "encoder_hidden_states": hidden, "use_cache_branch": np.array([step > 0]), **past}
        out = dict(zip(names, session.run(names, feed)))
        logits.append(out["logits"][0, -1])
        ids.append(int(logits[-1].argmax()))
        for layer in range(8):
            for kv in ("key", "value"):
                past[f"past_key_values.{layer}.decoder.{kv}"] = out[f"present.{layer}.decoder.{kv}"]
                if step == 0:
                    past[f"past_key_values.{layer}.encoder.{kv}"] = out[f"present.{layer}.encoder.{kv}"]
    return ids, np.array(logits)


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
    ids_a, logits_a = _greedy(original, hidden)
    ids_b, logits_b = _greedy(converted, hidden)
    assert ids_a == ids_b
    np.testing.assert_allclose(logits_b, logits_a, atol=1e-3)
    # the transcript through emorec's cached decoder is the actor's sentence
    text = moonshine.transcribe(load_audio(DATA / "03-01-05-02-01-01-01.flac", 16000)).lower()
    assert "kids" in text and "door" in text  # RAVDESS statement 01
