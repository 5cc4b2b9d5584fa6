"""Emotion categories and their place in arousal/valence space.

emorec's common category set (:data:`EMOTIONS`) and a mapping of each corpus's
labels onto it, plus a category → (valence, arousal) table so categorical
predictions and corpora can be read on the dimensional axes.

The coordinates are the NRC Valence-Arousal-Dominance Lexicon v1 scores of the
category words (Mohammad, ACL 2018, "Obtaining Reliable Human Ratings of
Valence, Arousal, and Dominance for 20,000 English Words"), rescaled from
[0, 1] to [-1, 1] (``2 s - 1``). Words used: neutral, happy, sadness, anger,
fear, disgust, surprise. "calm", "boredom" and "contempt" are not on the
verified list emorec carries: they are emorec's own placements (calm:
valence of "happy" halved, arousal below "neutral"; boredom: below neutral on
both; contempt: valence of disgust, arousal of neutral), marked as such in
:data:`SOURCE`.

This is a **proxy**: a word's rated valence/arousal is not the valence/arousal
of a face or voice expressing that category. It lets categorical corpora check
the direction of dimensional outputs, nothing more.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EMOTIONS", "FER_CLASSES", "SOURCE", "VALENCE_AROUSAL", "project_probs", "to_common", "valence_arousal_of"]

EMOTIONS = ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")
"""emorec's common categories (the six basic emotions + neutral)."""

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013's seven classes in its label order (0-6; Goodfellow et al. 2013): the output order of every face model."""

_NRC = {  # word: (valence, arousal) in [0, 1], NRC-VAD v1
    "neutral": (0.469, 0.184),
    "happy": (1.000, 0.735),
    "sadness": (0.052, 0.288),
    "anger": (0.167, 0.865),
    "fear": (0.073, 0.840),
    "disgust": (0.052, 0.775),
    "surprise": (0.875, 0.875),
}


def _rescale(v: float, a: float) -> tuple[float, float]:
    return round(2 * v - 1, 3), round(2 * a - 1, 3)


VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    "neutral": _rescale(*_NRC["neutral"]),
    "happy": _rescale(*_NRC["happy"]),
    "sad": _rescale(*_NRC["sadness"]),
    "angry": _rescale(*_NRC["anger"]),
    "fear": _rescale(*_NRC["fear"]),
    "disgust": _rescale(*_NRC["disgust"]),
    "surprise": _rescale(*_NRC["surprise"]),
    "calm": (0.5, -0.8),
    "boredom": (-0.3, -0.8),
    "contempt": (_rescale(*_NRC["disgust"])[0], _rescale(*_NRC["neutral"])[1]),
}
"""Category → (valence, arousal), each in [-1, 1]."""

SOURCE = {k: "NRC-VAD v1 (Mohammad 2018), rescaled to [-1, 1]" for k in EMOTIONS}
SOURCE.update({k: "emorec's placement (not from a lexicon)" for k in ("calm", "boredom", "contempt")})

_ALIASES = {
    "neutral": "neutral", "calm": "neutral", "boredom": "neutral",
    "happy": "happy", "happiness": "happy", "joy": "happy",
    "sad": "sad", "sadness": "sad",
    "angry": "angry", "anger": "angry",
    "fear": "fear", "fearful": "fear", "anxiety": "fear",
    "disgust": "disgust", "disgusted": "disgust", "contempt": "disgust",
    "surprise": "surprise", "surprised": "surprise",
}


def to_common(label: str) -> str:
    """A corpus label in emorec's common set (calm and boredom → neutral, contempt → disgust).

    Raises
    ------
    KeyError
        Unknown label.
    """
    return _ALIASES[label.lower()]


def valence_arousal_of(classes: tuple[str, ...] | list[str]) -> np.ndarray:
    """``(num_classes, 2)`` array of (valence, arousal) for class names (own table first, then common set)."""
    rows = []
    for c in classes:
        key = c if c in VALENCE_AROUSAL else to_common(c)
        rows.append(VALENCE_AROUSAL[key])
    return np.asarray(rows, np.float32)


def project_probs(probs: np.ndarray, classes: tuple[str, ...] | list[str]) -> np.ndarray:
    """Sum class probabilities ``(..., num_classes)`` onto :data:`EMOTIONS` → ``(..., 7)``."""
    matrix = np.zeros((len(classes), len(EMOTIONS)), np.float32)
    for i, c in enumerate(classes):
        matrix[i, EMOTIONS.index(to_common(c))] = 1.0
    return probs @ matrix
