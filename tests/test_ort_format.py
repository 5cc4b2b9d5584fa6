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


def test_spans_of_different_lengths_decode_in_one_batch_as_they_do_alone():
    """Batched greedy decoding (zero-padded encoder states masked out of the cross-attention) gives each span the
    tokens and confidence it gets alone; real speech of 0.5 to 3.7 s: a RAVDESS sentence, German EMO-DB speech, the
    talking-head clip and pieces of them."""
    from emorec.features import moonshine
    from emorec.io.media import load_audio

    ravdess = load_audio(DATA / "03-01-05-02-01-01-01.flac", 16000)
    german = load_audio(DATA / "emodb_03a02Ta.flac", 16000)[:28000]
    talking = load_audio(DATA / "talking_head.mp4", 16000)
    spans = [ravdess, german, talking[: 16000 * 3], ravdess[8000:24000], talking[16000 * 3 : 16000 * 5]]
    assert len({s.size for s in spans}) == len(spans)
    alone = [moonshine.transcribe_many([s])[0] for s in spans]
    batched = moonshine.transcribe_many(spans, batch_size=4)  # two batches, padding in both
    assert [b[0] for b in batched] == [a[0] for a in alone]
    assert [b[2] for b in batched] == [a[2] for a in alone]
    np.testing.assert_allclose([b[1] for b in batched], [a[1] for a in alone], atol=1e-4)
    assert "kids" in batched[0][0].lower()
    # without the mask the padded batch would read the padding: the bias input is what makes it exact
    hidden = [moonshine.encode(s) for s in spans[:2]]
    import onnxruntime as ort

    plain = ort.InferenceSession(str(moonshine.model_dir() / "decoder_model_merged.ort"), providers=["CPUExecutionProvider"])
    try:
        moonshine.greedy_decode_batch(plain, hidden, [20, 20])
    except ValueError as exc:
        assert "different lengths" in str(exc)
    else:
        raise AssertionError("a decoder without the bias input must refuse spans of different lengths")
