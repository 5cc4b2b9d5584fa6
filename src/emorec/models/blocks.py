"""Shared building blocks for emorec's networks (one place, not copied per model)."""

from __future__ import annotations

from torch import nn

__all__ = ["conv_bn_relu", "ConvStage"]


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
