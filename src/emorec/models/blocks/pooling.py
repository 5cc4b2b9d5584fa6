"""Pooling a sequence into one vector per item, padded frames excluded.

Masks are (batch, time) bool, True = a real frame. An item with no real frame
pools to zeros (never NaN), so a missing modality stays a well-defined input.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AttentiveStatsPooling", "TemporalAttentionPooling", "masked_mean"]


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real frames: ``x`` (batch, time, dim), ``mask`` (batch, time) → (batch, dim); zeros where no frame is real."""
    m = mask.to(x.dtype).unsqueeze(-1)
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


class TemporalAttentionPooling(nn.Module):
    """Learned temporal attention pooling: ``a_t = softmax_t(v^T tanh(W h_t))``, output ``Σ_t a_t h_t``
    (Bahdanau-style additive scores; the temporal attention module of methods.md §3 pools RNN outputs this way).

    Shapes: ``x`` (batch, time, dim), ``mask`` (batch, time) → pooled (batch, dim) and the weights
    (batch, time) (zeros on padded frames; all zeros for an item with no real frame).
    """

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.score(x).squeeze(-1).masked_fill(~mask, float("-inf"))
        empty = ~mask.any(dim=1, keepdim=True)
        weights = torch.softmax(scores.masked_fill(empty, 0.0), dim=1).masked_fill(~mask, 0.0)
        return torch.einsum("bt,btd->bd", weights, x), weights


class AttentiveStatsPooling(nn.Module):
    """Attentive statistics pooling (Okabe, Koshinaka & Shinoda, Interspeech 2018, section 3):
    attention-weighted mean and standard deviation over time, padded frames excluded.

    Shapes: ``x`` (batch, channels, time), ``mask`` (batch, time) bool (True = real
    frame) → (batch, 2 × channels).
    """

    def __init__(self, channels: int, hidden: int = 64):
        super().__init__()
        self.attention = nn.Sequential(nn.Conv1d(channels, hidden, 1), nn.Tanh(), nn.Conv1d(hidden, 1, 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = self.attention(x).squeeze(1).masked_fill(~mask, float("-inf"))
        w = torch.softmax(scores, dim=1).unsqueeze(1)
        mean = (w * x).sum(dim=2)
        var = (w * x * x).sum(dim=2) - mean * mean
        return torch.cat([mean, var.clamp(min=1e-6).sqrt()], dim=1)
