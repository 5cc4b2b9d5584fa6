"""Per-person calibration of a face reading: each person's own baseline over the clip, read as their neutral face.

A face network reads some people as slightly happy, sad or angry at rest (the shape of their face, glasses, lighting).
Person-specific normalisation removes that bias: the median of a person's descriptors over a video is taken as their
neutral face and subtracted, so that what is read is how each frame departs from the person's own resting face
(Baltrušaitis, Mahmoud & Robinson 2015, "Cross-dataset learning and person-specific normalisation for automatic Action
Unit detection", FG; the same normalisation serves OpenFace 2.0's action units, Baltrušaitis et al. 2018, FG).

Here the descriptor is the reading's log class probabilities ``z_t = log p_t`` on the 10 Hz grid:

``z'_t = z_t − median_s z_s + log r``, softmax-normalised,

where the median runs over the frames in which the person's face is seen and ``r`` is the neutral reference: neutral
with probability :data:`NEUTRAL_SHARE`, the other classes sharing the rest equally. The person's median frame is read
as ``r``; a frame with more evidence for anger than the person's median moves towards anger.

The assumption is the method's: the person is at rest on at least half of the frames (an interview, a conversation).
A clip that shows one expression throughout (a posed corpus such as MEAD, where each clip is one emotion) is read as
neutral by design — that is why it is off by default (measured in docs/results.md).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_BASELINE_FRAMES", "NEUTRAL_SHARE", "baseline_frames", "person_baseline", "relative_to_baseline"]

NEUTRAL_SHARE = 0.5
"""Probability of neutral in the reference the person's median face is mapped to (the other classes share the rest)."""

MIN_BASELINE_FRAMES = 20
"""Face frames needed for a baseline: 2 s on the 10 Hz grid (fewer: the reading is left as it is)."""


def baseline_frames(probs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``(num_frames,)`` bool: the frames a baseline is taken over — in ``mask``, with finite probabilities that are not
    all zero."""
    probs = np.asarray(probs, np.float64)
    return np.asarray(mask, bool) & np.isfinite(probs).all(axis=-1) & (probs.sum(axis=-1) > 0)


def person_baseline(probs: np.ndarray, mask: np.ndarray, min_frames: int = MIN_BASELINE_FRAMES) -> np.ndarray | None:
    """A person's baseline: the per-class median of the log probabilities over the frames where their face is seen.

    Parameters
    ----------
    probs : (num_frames, num_classes) array
        The reading's class probabilities (rows outside ``mask`` are ignored; they may be zero or NaN).
    mask : (num_frames,) bool
        Frames with the person's face.
    min_frames : int
        Fewer face frames than this (or than 1): no baseline.

    Returns
    -------
    (num_classes,) float64 or None
        Median log probabilities (probabilities floored at 1e-6), or None with too few frames.
    """
    probs = np.asarray(probs, np.float64)
    seen = baseline_frames(probs, mask)
    if seen.sum() < max(1, min_frames):
        return None
    return np.median(np.log(np.clip(probs[seen], 1e-6, 1.0)), axis=0)


def relative_to_baseline(probs: np.ndarray, baseline: np.ndarray, neutral_index: int, neutral_share: float = NEUTRAL_SHARE) -> np.ndarray:
    """Class probabilities read relative to the person's baseline (the module's formula): the baseline itself becomes
    the neutral reference ``r``.

    Parameters
    ----------
    probs : (..., num_classes) array
        Rows that are all zero (no face) stay zero, NaN rows stay NaN.
    baseline : (num_classes,) array
        :func:`person_baseline`.
    neutral_index : int
        Position of the neutral class.
    neutral_share : float
        Neutral's probability in ``r``, in (0, 1).

    Returns
    -------
    (..., num_classes) float32

    Raises
    ------
    ValueError
        ``neutral_share`` outside (0, 1), a ``neutral_index`` out of range, or a baseline of another length.
    """
    probs = np.asarray(probs, np.float32)
    num_classes = probs.shape[-1]
    if not 0 < neutral_share < 1:
        raise ValueError(f"neutral share must lie in (0, 1), not {neutral_share}")
    if not 0 <= neutral_index < num_classes or np.shape(baseline) != (num_classes,):
        raise ValueError(f"a baseline over {num_classes} classes with neutral among them is needed, not {np.shape(baseline)} / index {neutral_index}")
    reference = np.full(num_classes, (1 - neutral_share) / (num_classes - 1))
    reference[neutral_index] = neutral_share
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.log(np.clip(probs, 1e-6, 1.0).astype(np.float64)) - np.asarray(baseline, np.float64) + np.log(reference)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        out = e / e.sum(axis=-1, keepdims=True)
    empty = ~(probs.sum(axis=-1, keepdims=True) > 0)  # no face (zero) or NaN rows: as they were
    return np.where(empty, probs, out).astype(np.float32)
