"""Attention over a masked sequence (the building block of the cross-modal families).

Masks are (batch, time) bool, True = a real frame: padded keys get zero weight; a
query whose keys are all padded gets a zero output (not NaN).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["CrossModalAttention", "masked_softmax"]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of ``scores`` over ``dim`` with masked-out entries at exactly 0; a slice with no entry left is all zeros."""
    scores = scores.masked_fill(~mask, float("-inf"))
    empty = ~mask.any(dim=dim, keepdim=True)
    return torch.softmax(scores.masked_fill(empty, 0.0), dim=dim).masked_fill(~mask, 0.0)


class CrossModalAttention(nn.Module):
    """Scaled dot-product attention of one modality's frames (queries) over another's (keys, values)
    (Vaswani et al. 2017, section 3.2.1; cross-modal use as in Tsai et al. 2019, MulT, section 3.1).

    Parameters
    ----------
    query_dim, key_dim : int
    dim : int
        Width of the projected queries, keys and values (and of the output).

    Shapes: ``forward(q, k, key_mask)`` with ``q`` (batch, Tq, query_dim), ``k`` (batch, Tk, key_dim),
    ``key_mask`` (batch, Tk) → output (batch, Tq, dim) and weights (batch, Tq, Tk).
    """

    def __init__(self, query_dim: int, key_dim: int, dim: int = 64):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(query_dim, dim), nn.Linear(key_dim, dim), nn.Linear(key_dim, dim)
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, q: torch.Tensor, k: torch.Tensor, key_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = torch.einsum("bqd,bkd->bqk", self.q(q), self.k(k)) * self.scale
        weights = masked_softmax(scores, key_mask[:, None, :].expand_as(scores))
        return torch.einsum("bqk,bkd->bqd", weights, self.v(k)), weights
