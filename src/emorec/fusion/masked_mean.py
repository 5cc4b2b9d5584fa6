"""``masked_mean``: decision-level (late) fusion by an unweighted mean over the modalities present in each frame.

Class probabilities of the face and voice readings are first projected onto
:data:`~emorec.emotion_space.EMOTIONS` (:func:`~emorec.emotion_space.project_probs`);
the words reading has no classes and enters valence/arousal only. A modality
missing in a frame is left out, never read as a zero; frames with no reading
stay NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emorec.clip import ClipFeatures
from emorec.emotion_space import EMOTIONS, project_probs
from emorec.fusion.base import FusedReading, Fusion, register_fusion
from emorec.readings.base import Reading

__all__ = ["MaskedMean", "masked_mean"]


def masked_mean(readings: Sequence[tuple[np.ndarray, np.ndarray]], num_frames: int, dim: int) -> np.ndarray:
    """Mean over modalities of ``(values (T, D), mask (T,))`` pairs → (T, D); NaN where none is present."""
    total = np.zeros((num_frames, dim), np.float64)
    count = np.zeros(num_frames)
    for values, mask in readings:
        total[mask] += values[mask]
        count += mask
    out = np.full_like(total, np.nan)
    ok = count > 0
    out[ok] = total[ok] / count[ok, None]
    return out


@register_fusion("masked_mean")
class MaskedMean(Fusion):
    """Unweighted mean of the modalities present in each frame (no training)."""

    description = "masked mean of the modalities present in each frame (decision-level late fusion); categories → valence/arousal by NRC-VAD word scores"

    def fuse(self, readings: dict[str, Reading], features: ClipFeatures) -> FusedReading:
        t = features.num_frames
        probs = [(project_probs(r.probs, r.classes), r.mask) for r in readings.values() if r.probs is not None]
        va = [(r.va, r.mask) for r in readings.values()]
        fused_p = masked_mean(probs, t, len(EMOTIONS))
        fused_va = masked_mean(va, t, 2)
        return FusedReading(fused_p, fused_va, ~np.isnan(fused_p[:, 0]) | ~np.isnan(fused_va[:, 0]))
