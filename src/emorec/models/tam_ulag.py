"""``tam_ulag``: multi-task multimodal emotion recognition with a temporal attention mechanism (TAM) and unimodal labels
generated during training (ULAG) (seed ``../shared/seeds/002_18277bc3dd2a31d9.txt``, "Self-supervised Multimodal Emotion
Recognition Combining Temporal Attention Mechanism and Unimodal Label Automatic Generation Strategy"; digest
``../shared/docs/methods.md`` §3).

The network (this module):

- TAM, per modality: a multilayer recurrent network (:class:`~emorec.models.blocks.MaskedRNN`) whose outputs are pooled
  by learned temporal attention weights (:class:`~emorec.models.blocks.TemporalAttentionPooling`: each time step's
  contribution to the utterance vector). Ablation ``temporal="mean"``: mean pooling over the observed steps.
- Shared semantic space: each utterance vector projected to the same width ``shared`` → ``s_m``.
- Fine-grained fusion per semantic dimension: for every dimension j, weights over the modalities present,
  ``α_{m,j} = softmax_m(w_{m,j} s_{m,j} + b_{m,j})``, and ``f_j = Σ_m α_{m,j} s_{m,j}`` → a post-fusion layer → ``F``.
- Four heads trained jointly: the multimodal head on ``F`` and one unimodal head per modality on ``s_m``.

The unimodal labels (ULAG) are made by the training objective (:mod:`emorec.training.ulag`), which reads
:meth:`TAMULAG.forward_all`'s features; the model has no labels of its own.

Outputs (sequence-model contract, :mod:`emorec.models.sequence`): ``forward`` gives the multimodal head,
(B, num_classes [+ 2 valence/arousal]); :meth:`TAMULAG.forward_all` gives every head, the features ULAG reads and the
attention weights. Regression-only use (MOSI-style sentiment as valence): ``num_classes=0``.
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.blocks import InputNorm, MaskedRNN, TemporalAttentionPooling, bound_affect, masked_mean, masked_softmax, uncompact
from emorec.models.sequence import FRAME_DIMS, MODALITIES, SequenceModel
from emorec.models.weights import shipped_path

__all__ = ["TAMULAG", "default_weights_path"]

DEFAULT_DIMS = FRAME_DIMS
"""Input widths of emorec's stored features: audio.moonshine ‖ audio.egemaps, face.cnn embedding, text.minilm."""


def default_weights_path():
    return shipped_path("tam_ulag.safetensors")


class _Head(nn.Module):
    """A hidden layer and the outputs: class logits, then valence/arousal (tanh) when ``affect``."""

    def __init__(self, dim: int, num_classes: int, affect: bool, dropout: float):
        super().__init__()
        self.num_classes = num_classes
        self.hidden = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, dim), nn.ReLU())
        self.out = nn.Linear(dim, num_classes + (2 if affect else 0))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.hidden(z)
        return bound_affect(self.out(h), self.num_classes), h


@register_model(
    "tam_ulag", task="classification+regression", modalities=("audio", "video", "text"), level="utterance",
    inputs="audio.moonshine ‖ audio.egemaps (441), face.cnn embedding (768), text.minilm (384), 10 Hz, with masks",
    outputs="7 class logits (+ valence, arousal) per utterance from the multimodal head; unimodal heads for training",
    weights="tam_ulag.safetensors", card="docs/models/tam_ulag.md",
    source="seed 002 (methods.md §3): TAM (multilayer RNN + temporal attention), per-dimension fusion in a shared space, multi-task with ULAG",
)
class TAMULAG(SequenceModel):
    """TAM encoders → shared space → per-dimension fusion → multimodal head (+ three unimodal heads).

    Parameters
    ----------
    dims : dict of str → int
        Input width per modality.
    hidden : int
        RNN width.
    shared : int
        Width of the shared semantic space (every ``s_m`` and ``F``).
    layers : int
        RNN layers per modality (multilayer RNN of the TAM).
    cell : {"gru", "lstm"}
    temporal : {"attention", "mean"}
        ``mean``: the ablation without TAM.
    dropout : float
    num_classes : int
    affect : bool
        Valence/arousal outputs (regression mode: ``num_classes=0, affect=True``).

    Raises
    ------
    ValueError
        Unknown ``temporal`` or ``cell``; no outputs at all.
    """

    level = "utterance"

    def __init__(self, dims: dict | None = None, hidden: int = 64, shared: int = 64, layers: int = 2, cell: str = "gru", temporal: str = "attention",
                 dropout: float = 0.2, num_classes: int = 7, affect: bool = True):
        super().__init__()
        if temporal not in ("attention", "mean"):
            raise ValueError(f"tam_ulag: temporal must be 'attention' or 'mean', not {temporal!r}")
        if num_classes == 0 and not affect:
            raise ValueError("tam_ulag: no outputs (num_classes=0 and affect=False)")
        dims = dict(DEFAULT_DIMS if dims is None else dims)
        self.dims, self.temporal, self.num_classes, self.affect = dims, temporal, num_classes, affect
        self.modalities = tuple(m for m in MODALITIES if m in dims)
        self.input_norm = nn.ModuleDict({m: InputNorm(d) for m, d in dims.items()})  # fitted on the training data
        self.input = nn.ModuleDict({m: nn.Sequential(nn.Dropout(dropout), nn.Linear(d, hidden), nn.ReLU()) for m, d in dims.items()})
        self.rnn = nn.ModuleDict({m: MaskedRNN(hidden, hidden, layers, cell, dropout=dropout) for m in dims})
        self.pool = nn.ModuleDict({m: TemporalAttentionPooling(hidden) for m in dims}) if temporal == "attention" else None
        self.project = nn.ModuleDict({m: nn.Sequential(nn.Linear(hidden, shared), nn.Tanh()) for m in dims})
        n = len(self.modalities)
        self.dim_weight = nn.Parameter(torch.ones(n, shared))  # w_{m,j}
        self.dim_bias = nn.Parameter(torch.zeros(n, shared))  # b_{m,j}
        self.post = nn.Sequential(nn.Linear(shared, shared), nn.ReLU())
        self.head = _Head(shared, num_classes, affect, dropout)
        self.unimodal = nn.ModuleDict({m: _Head(shared, num_classes, affect, dropout) for m in dims})

    def utterance_vectors(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """TAM per modality: ``s_m`` (B, shared) in the shared space, availability (B,) bool, temporal weights (B, L_m)."""
        s, available, weights = {}, {}, {}
        for m in self.modalities:
            h, h_mask, _ = self.rnn[m](self.input[m](self.input_norm[m](x[m])) * mask[m].unsqueeze(-1), mask[m])
            if self.pool is not None:
                u, w = self.pool[m](h, h_mask)
            else:
                u = masked_mean(h, h_mask)
                w = h_mask.to(h.dtype) / h_mask.sum(1, keepdim=True).clamp(min=1)
            available[m] = mask[m].any(dim=1)
            s[m] = self.project[m](u) * available[m].unsqueeze(-1).to(u.dtype)
            weights[m] = w
        return s, available, weights

    def fuse(self, s: dict[str, torch.Tensor], available: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-dimension fusion: ``F`` (B, shared) and the weights α (B, M, shared) (0 for an absent modality)."""
        stack = torch.stack([s[m] for m in self.modalities], dim=1)  # (B, M, shared)
        present = torch.stack([available[m] for m in self.modalities], dim=1)  # (B, M)
        scores = stack * self.dim_weight + self.dim_bias
        alpha = masked_softmax(scores, present.unsqueeze(-1).expand_as(scores), dim=1)
        return self.post((alpha * stack).sum(dim=1)), alpha

    def forward_all(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> dict:
        """Every head: ``outputs`` dict (``multimodal`` and each modality → (B, K[+2])), ``features`` dict (``multimodal`` →
        the multimodal head's hidden features, each modality → its head's hidden features; (B, shared) — what ULAG
        compares), ``available`` dict of (B,) bool, ``temporal_weights`` dict of (B, L_m), ``dimension_weights`` (B, M, shared)."""
        s, available, weights = self.utterance_vectors(x, mask)
        fused, alpha = self.fuse(s, available)
        out, feat = self.head(fused)
        outputs, features = {"multimodal": out}, {"multimodal": feat}
        for m in self.modalities:
            outputs[m], features[m] = self.unimodal[m](s[m])
        return {"outputs": outputs, "features": features, "available": available, "temporal_weights": weights, "dimension_weights": alpha}

    def attention(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> list[tuple[str, torch.Tensor]]:
        """The TAM's temporal weights per modality, (modality, (B, T)) on the input grid (0 on unobserved frames) — for plots."""
        _, _, weights = self.utterance_vectors(x, mask)
        return [(m, uncompact(weights[m], mask[m])) for m in self.modalities]

    def forward_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:
        s, available, _ = self.utterance_vectors(x, mask)
        return self.fuse(s, available)[0]

    def forward_head(self, features: torch.Tensor, mask: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(features)[0]
