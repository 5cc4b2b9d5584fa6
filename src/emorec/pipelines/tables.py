"""The tables and summary ``analyze`` writes, built from a clip's features, readings and fused reading.

- :func:`timeline_table` — one row per 0.1 s (``timeline.csv``)
- :func:`segments_table` — one row per speech segment (``segments.csv``)
- :func:`words_table` — one row per transcribed word (``words.csv``)
- :func:`summary` — the clip-level reading, coverage, gaps, models (``summary.json``)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emorec._version import __version__
from emorec.clip import ClipFeatures
from emorec.emotion_space import EMOTIONS
from emorec.fusion import FusedReading, Fusion
from emorec.readings import Reading
from emorec.timeseries import span_to_frames

__all__ = ["presence", "segments_table", "summary", "timeline_table", "words_table"]

_READING_PREFIX = {"face": "face", "voice": "voice", "words": "text"}
"""Timeline column prefix of each modality's own reading."""


def presence(features: ClipFeatures, readings: dict[str, Reading]) -> dict[str, np.ndarray]:
    """(T,) bool masks: ``face`` (a face is read), ``speech`` (VAD), ``words`` (a word is spoken)."""
    t = features.num_frames
    face = readings["face"].mask if "face" in readings else np.zeros(t, bool)
    speech = features.series["audio.vad"].mask if "audio.vad" in features.series else np.zeros(t, bool)
    words = features.series["text.asr"].mask if "text.asr" in features.series else np.zeros(t, bool)
    return {"face": face, "speech": speech, "words": words}


def timeline_table(features: ClipFeatures, readings: dict[str, Reading], fused: FusedReading) -> pd.DataFrame:
    """One row per grid frame: ``time`` (frame start, s), presence flags, ``word``, fused ``arousal``/``valence``
    and ``prob_<emotion>``, then each modality's own reading (``face_*``, ``voice_*``, ``text_*``; NaN outside its mask)."""
    t = features.num_frames
    present = presence(features, readings)
    timeline = pd.DataFrame({"time": np.round(features.timestamps, 3), "face_present": present["face"], "speech_active": present["speech"], "word_spoken": present["words"]})
    word_at = np.full(t, "", dtype=object)
    for w in features.words:
        word_at[span_to_frames(w.start, w.end, t)] = w.word
    timeline["word"] = word_at
    timeline["arousal"] = fused.va[:, 1]
    timeline["valence"] = fused.va[:, 0]
    for i, e in enumerate(EMOTIONS):
        timeline[f"prob_{e}"] = fused.probs[:, i]
    for modality, r in readings.items():
        prefix = _READING_PREFIX.get(modality, modality)
        timeline[f"{prefix}_valence"] = np.where(r.mask, r.va[:, 0], np.nan)
        timeline[f"{prefix}_arousal"] = np.where(r.mask, r.va[:, 1], np.nan)
        if r.probs is not None:
            for i, c in enumerate(r.classes):
                timeline[f"{prefix}_{c}"] = np.where(r.mask, r.probs[:, i], np.nan)
    return timeline


def segments_table(features: ClipFeatures, timeline: pd.DataFrame, voice: Reading | None) -> pd.DataFrame:
    """One row per VAD speech segment: span (s), transcript, fused class probabilities and emotion, mean
    arousal/valence, and the voice model's own class for the whole segment (``voice_emotion``)."""
    t = features.num_frames
    rows = []
    if "audio.vad" in features.records:
        for k, (b, e) in enumerate(features.records["audio.vad"]["segments"]):
            part = timeline.iloc[span_to_frames(b, e, t)]
            probs = part[[f"prob_{x}" for x in EMOTIONS]].mean(axis=0, skipna=True).to_numpy()
            # ASR spans are VAD segments padded (and cut at 20 s): words whose span overlaps this segment
            words = [w.word for w in features.words if w.end > b and w.start < e]
            row = {"segment": k, "start": round(float(b), 3), "end": round(float(e), 3), "transcript": " ".join(words)}
            row["emotion"] = EMOTIONS[int(np.nanargmax(probs))] if np.isfinite(probs).any() else ""
            row.update({f"prob_{x}": float(p) for x, p in zip(EMOTIONS, probs)})
            row["arousal"] = float(part["arousal"].mean(skipna=True))
            row["valence"] = float(part["valence"].mean(skipna=True))
            if voice is not None and k < len(voice.segments.get("segment_ok", ())) and voice.segments["segment_ok"][k]:
                row["voice_emotion"] = voice.classes[int(np.argmax(voice.segments["segment_probs"][k]))]
            rows.append(row)
    return pd.DataFrame(rows, columns=["segment", "start", "end", "transcript", "emotion", *[f"prob_{x}" for x in EMOTIONS], "arousal", "valence", "voice_emotion"])


def words_table(features: ClipFeatures, words: Reading | None) -> pd.DataFrame:
    """One row per transcribed word: text, start/end (s), whether forced alignment placed it, lexicon valence."""
    valence = words.extras.get("word_valence") if words is not None else None
    return pd.DataFrame(
        {
            "word": [w.word for w in features.words],
            "start": [w.start for w in features.words],
            "end": [w.end for w in features.words],
            "aligned": [w.aligned for w in features.words],
            "lexicon_valence": valence.astype(float) if valence is not None and len(valence) else [np.nan] * len(features.words),
        }
    )


def summary(features: ClipFeatures, timeline: pd.DataFrame, fused: FusedReading, readings: dict[str, Reading], fusion: Fusion, elapsed: float) -> dict:
    """``summary.json``: clip-level emotion (mean fused probabilities), arousal/valence, coverage per modality,
    gaps, the models and fusion used, processing time (s) and real-time factor."""
    present_mask = presence(features, readings)
    present = ~np.isnan(fused.probs[:, 0])
    mean_p = np.nanmean(fused.probs[present], axis=0) if present.any() else np.full(len(EMOTIONS), np.nan)
    gaps = list(features.notes)
    if not present_mask["face"].any() and features.records.get("face.track") is not None:
        gaps.append("no face found in any frame: face readings absent")
    if not present_mask["speech"].any() and "audio.vad" in features.records:
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
            "face": round(float(present_mask["face"].mean()), 3),
            "speech": round(float(present_mask["speech"].mean()), 3),
            "words": round(float(present_mask["words"].mean()), 3),
            "any_reading": round(float(present.mean()), 3),
        },
        "transcript": " ".join(w.word for w in features.words),
        "alignment": features.records["text.asr"].meta.get("methods", []) if "text.asr" in features.records else [],
        "gaps": gaps,
        "models": {m: r.description for m, r in readings.items()},
        "model_names": {m: r.model for m, r in readings.items()},
        "fusion": fusion.name,
        "fusion_description": fusion.description,
        "emorec_version": __version__,
        "processing_seconds": round(elapsed, 3),
        "real_time_factor": round(elapsed / max(features.duration, 1e-6), 4),
    }
