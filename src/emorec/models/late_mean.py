"""``late_mean``: the ``masked_mean`` yardstick as a trainable model — one unimodal model per modality (a GRU over the
observed frames, mean pooling, a linear head), each trained on its own modality's examples, fused by the unweighted mean
of the modalities present (class probabilities and valence/arousal), exactly the rule of the default ``masked_mean``
fusion (:mod:`emorec.fusion.masked_mean`).

It exists so a learned fusion can be compared with ``masked_mean`` on the same folds with unimodal models trained on the
same training folds (the shipped readings were trained on data that overlaps the composite folds, so scoring them there
would not be honest). Not shipped; trained by ``emorec cv late_mean``.

Shapes (sequence-model contract): ``x`` dict of (B, T, D_m), ``mask`` dict of (B, T) → (B, num_classes + 2): the log of the
mean class probabilities (so ``argmax`` and ``softmax`` read as probabilities), then valence, arousal.
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.blocks import InputNorm, MaskedRNN, bound_affect, masked_mean
from emorec.models.sequence import FRAME_DIMS, MODALITIES, SequenceModel

__all__ = ["LateMean"]

DEFAULT_DIMS = FRAME_DIMS


@register_model(
    "late_mean", task="classification+regression", modalities=("audio", "video", "text"), level="utterance",
    inputs="audio.moonshine ‖ audio.egemaps (441), face.cnn embedding (768), text.minilm (384), 10 Hz, with masks",
    outputs="7 class log-probabilities (+ valence, arousal): the unweighted mean of the unimodal models present", weights=None, card="docs/models/late_mean.md",
    source="the masked_mean fusion's rule (emorec.fusion.masked_mean) over per-fold unimodal GRU models: the yardstick of the learned fusions",
)
class LateMean(SequenceModel):
    """Unimodal GRU models fused by the masked mean.

    Parameters
    ----------
    dims : dict of str → int
    hidden : int
    dropout : float
    num_classes : int
    """

    level = "utterance"

    def __init__(self, dims: dict | None = None, hidden: int = 64, dropout: float = 0.2, num_classes: int = 7):
        super().__init__()
        dims = dict(DEFAULT_DIMS if dims is None else dims)
        self.dims, self.num_classes, self.affect = dims, num_classes, True
        self.modalities = tuple(m for m in MODALITIES if m in dims)
        self.drop = nn.Dropout(dropout)
        self.input_norm = nn.ModuleDict({m: InputNorm(d) for m, d in dims.items()})  # fitted on the training data
        self.encoder = nn.ModuleDict({m: MaskedRNN(d, hidden, 1, "gru") for m, d in dims.items()})
        self.heads = nn.ModuleDict({m: nn.Linear(hidden, num_classes + 2) for m in dims})

    def unimodal(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Each modality's outputs (B, K + 2) (logits, then tanh valence/arousal) and availability (B,) bool."""
        outs, available = {}, {}
        k = self.num_classes
        for m in self.modalities:
            h, h_mask, _ = self.encoder[m](self.drop(self.input_norm[m](x[m])) * mask[m].unsqueeze(-1), mask[m])
            o = self.heads[m](self.drop(masked_mean(h, h_mask)))
            outs[m] = bound_affect(o, k)
            available[m] = mask[m].any(dim=1)
        return outs, available

    def forward_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:
        outs, available = self.unimodal(x, mask)
        k = self.num_classes
        w = torch.stack([available[m] for m in self.modalities], dim=1).to(next(iter(outs.values())).dtype)  # (B, M)
        n = w.sum(1, keepdim=True).clamp(min=1)
        probs = sum(torch.softmax(outs[m][:, :k], dim=-1) * w[:, i : i + 1] for i, m in enumerate(self.modalities)) / n
        va = sum(outs[m][:, k:] * w[:, i : i + 1] for i, m in enumerate(self.modalities)) / n
        probs = torch.where(n > 0, probs, torch.full_like(probs, 1.0 / max(k, 1)))
        return torch.cat([torch.log(probs.clamp(min=1e-8)), va], dim=-1)

    def forward_head(self, features: torch.Tensor, mask: dict[str, torch.Tensor]) -> torch.Tensor:
        return features
