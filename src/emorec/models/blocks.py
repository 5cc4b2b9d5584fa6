"""Shared building blocks for emorec's networks (one place, not copied per model)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["conv_bn_relu", "ConvStage", "TemporalBlock", "AttentiveStatsPooling"]


def conv_bn_relu(cin: int, cout: int, kernel: int = 3) -> nn.Sequential:
    """``Conv2d`` (same padding, no bias) → ``BatchNorm2d`` → ``ReLU``; shape (B, cin, H, W) → (B, cout, H, W)."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ConvStage(nn.Sequential):
    """Two ``conv_bn_relu`` then 2×2 max pooling (VGG-style stage): (B, cin, H, W) → (B, cout, H/2, W/2)."""

    def __init__(self, cin: int, cout: int, dropout: float = 0.0):
        layers = [conv_bn_relu(cin, cout), conv_bn_relu(cout, cout), nn.MaxPool2d(2)]
        if dropout:
            layers.append(nn.Dropout2d(dropout))
        super().__init__(*layers)


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
