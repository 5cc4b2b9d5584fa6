"""``tcn_gated`` as a fusion for ``emorec analyze``: the trained :class:`~emorec.models.tcn_gated.TCNGated` reads the clip's
stored voice, face and word embeddings (not the per-modality readings) and gives per-frame valence/arousal and class
probabilities — a learned, gated weighting of the modalities present in each frame (patent 000; ``docs/models/tcn_gated.md``).
"""

from __future__ import annotations

import numpy as np

from emorec.clip import ClipFeatures
from emorec.emotion_space import EMOTIONS
from emorec.fusion.base import FusedReading, Fusion, cached_model, register_fusion
from emorec.readings.base import Reading

__all__ = ["TCNGatedFusion", "sequence_inputs"]

AUDIO_SERIES = ("audio.moonshine", "audio.egemaps")
VIDEO_SERIES = "face.cnn"
TEXT_SERIES = "text.minilm"


def sequence_inputs(features: ClipFeatures, dims: dict[str, int]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A clip's stored series as the sequence-model inputs: ``x`` dict of (T, D_m) float32, ``mask`` dict of (T,) bool;
    a modality whose series is missing is zeros with an all-False mask. The same features the composite corpora use
    (:mod:`emorec.training.multimodal`)."""
    t = features.num_frames
    x, mask = {}, {}
    if all(n in features.series for n in AUDIO_SERIES):
        x["audio"] = np.concatenate([features.series[n].data for n in AUDIO_SERIES], axis=1).astype(np.float32)
        mask["audio"] = features.series[AUDIO_SERIES[0]].mask.copy()
    if VIDEO_SERIES in features.series:
        x["video"], mask["video"] = features.series[VIDEO_SERIES].data.astype(np.float32), features.series[VIDEO_SERIES].mask.copy()
    if TEXT_SERIES in features.series:
        x["text"], mask["text"] = features.series[TEXT_SERIES].data.astype(np.float32), features.series[TEXT_SERIES].mask.copy()
    for m, d in dims.items():
        if m not in x or x[m].shape[1] != d:
            x[m], mask[m] = np.zeros((t, d), np.float32), np.zeros(t, bool)
        x[m][~mask[m]] = 0.0
    return x, mask


@register_fusion("tcn_gated")
class TCNGatedFusion(Fusion):
    """Learned fusion: per-modality causal TCNs, text-anchored gates, a second TCN (patent 000).

    Parameters
    ----------
    weights : str or None
        Weights file (default: the shipped ones).
    """

    description = "tcn_gated (patent 000): per-modality causal TCNs over voice, face and word embeddings, text-anchored gated fusion, second TCN; trained on composite (label-paired) sequences"
    requires = (*AUDIO_SERIES, VIDEO_SERIES, TEXT_SERIES)

    def __init__(self, weights: str | None = None):
        from emorec.models.tcn_gated import default_weights_path

        self.weights = weights or str(default_weights_path())

    @classmethod
    def unavailable(cls) -> str | None:
        from emorec.models.tcn_gated import default_weights_path

        path = default_weights_path()
        return None if path.is_file() else f"no weights at {path} (train them with `emorec train sequence tcn_gated --out {path}`)"

    def fuse(self, readings: dict[str, Reading], features: ClipFeatures) -> FusedReading:
        import torch

        model = cached_model("tcn_gated", self.weights)
        x, mask = sequence_inputs(features, model.dims)
        with torch.inference_mode():
            out = model({m: torch.from_numpy(v)[None] for m, v in x.items()}, {m: torch.from_numpy(v)[None] for m, v in mask.items()})[0].numpy()
        present = np.any(np.stack(list(mask.values())), axis=0)
        k = model.num_classes
        probs = np.full((features.num_frames, len(EMOTIONS)), np.nan)
        va = np.full((features.num_frames, 2), np.nan)
        if k == len(EMOTIONS):
            z = out[:, :k] - out[:, :k].max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            probs[present] = p[present]
        va[present] = out[present, k : k + 2]
        return FusedReading(probs, va, present)
