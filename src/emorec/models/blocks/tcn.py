"""Temporal convolutional networks (TCN; Bai, Kolter & Koltun 2018, "An Empirical Evaluation of Generic
Convolutional and Recurrent Networks for Sequence Modeling", section 3), mask-aware.

Shapes follow ``torch.nn.Conv1d``: (batch, channels, time). Masks are (batch, time)
bool, True = a real frame; padded frames are zeroed after each convolution, so a
padded batch gives each sequence the output it has alone.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TCN", "TemporalBlock"]


class TemporalBlock(nn.Module):
    """One residual block of a temporal convolutional network (TCN; Bai, Kolter & Koltun 2018,
    "An Empirical Evaluation of Generic Convolutional and Recurrent Networks for Sequence
    Modeling", section 3): two dilated 1-D convolutions with GELU and dropout, plus the input.

    Shape: (batch, channels, time) → (batch, channels, time). ``causal`` pads on the
    left only (the output at t sees inputs up to t); otherwise the padding is
    symmetric (utterance-level models see both sides).
    """

    def __init__(self, channels: int, kernel: int = 3, dilation: int = 1, dropout: float = 0.1, causal: bool = False):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.causal = causal
        self.conv1 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(channels, channels, kernel, dilation=dilation)
        self.drop = nn.Dropout(dropout)
        self.act = nn.GELU()

    def _padded(self, x: torch.Tensor) -> torch.Tensor:
        left = self.pad if self.causal else self.pad // 2
        return nn.functional.pad(x, (left, self.pad - left))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask`` (batch, time) bool, True = real frame: padded frames are zeroed after each
        convolution, so a padded batch gives each sequence the output it has alone."""
        keep = (lambda h: h) if mask is None else (lambda h: h * mask[:, None])
        h = keep(self.drop(self.act(self.conv1(self._padded(x)))))
        h = keep(self.drop(self.act(self.conv2(self._padded(h)))))
        return keep(x + h)


class TCN(nn.Module):
    """A stack of :class:`TemporalBlock` with dilations ``d_1, d_2, ...`` (receptive field
    ``1 + 2 (kernel - 1) Σ d_i`` frames), optionally after a linear input projection.

    Parameters
    ----------
    in_dim : int
        Input features per frame.
    channels : int
        Width of the blocks (the input is projected when ``in_dim != channels``).
    dilations : tuple of int
        One block per dilation (N = ``len(dilations)``).
    kernel, dropout : int, float
    causal : bool
        Left padding only: the output at frame t sees frames ≤ t (streaming, as in methods.md §1).

    Shapes: ``forward(x, mask)`` with ``x`` (batch, time, in_dim) and ``mask`` (batch, time) bool →
    (batch, time, channels), zeros on padded frames. Time-major in and out (the sequence-model contract).
    """

    def __init__(self, in_dim: int, channels: int = 64, dilations: tuple[int, ...] = (1, 2, 4), kernel: int = 3, dropout: float = 0.1, causal: bool = False):
        super().__init__()
        self.proj = nn.Identity() if in_dim == channels else nn.Linear(in_dim, channels)
        self.blocks = nn.ModuleList(TemporalBlock(channels, kernel, d, dropout, causal) for d in dilations)
        self.out_dim = channels

    @property
    def receptive_field(self) -> int:
        """Frames one output sees."""
        return 1 + sum(2 * (b.conv1.kernel_size[0] - 1) * b.conv1.dilation[0] for b in self.blocks)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.proj(x).transpose(1, 2)
        if mask is not None:
            h = h * mask[:, None]
        for block in self.blocks:
            h = block(h, mask)
        return h.transpose(1, 2)
