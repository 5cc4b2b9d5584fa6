"""emorec's compact facial-expression CNN (VGG-style stages) for 48×48 grey faces.

A VGG-style network of the kind that holds the strong single-model FER2013
results (e.g. Khaireddin & Chen 2021, "Facial Emotion Recognition: State of
the Art Performance on FER2013", a tuned VGG at 73.28 %), reduced to fit a
2-core CPU: four stages of two 3×3 conv-BN-ReLU layers and 2×2 pooling
(32-64-128-256 channels), global average pooling, dropout, linear head.

Shapes: ``forward_features`` (batch, 1, 48, 48) → (batch, 256) expression
embedding; ``forward_head`` (batch, 256) → (batch, num_classes) logits.
Input: grey faces scaled to [0, 1] then standardised with mean 0.5, std 0.25.
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models.blocks import ConvStage

__all__ = ["FaceCNN", "INPUT_MEAN", "INPUT_STD"]

INPUT_MEAN, INPUT_STD = 0.5, 0.25
"""Input standardisation: ``(grey / 255 - INPUT_MEAN) / INPUT_STD``."""


class FaceCNN(nn.Module):
    """Compact VGG-style CNN for 48×48 grey face crops.

    Parameters
    ----------
    num_classes : int
    width : int
        Channels of the first stage (doubles per stage).
    dropout : float
    """

    def __init__(self, num_classes: int = 7, width: int = 32, dropout: float = 0.3):
        super().__init__()
        self.num_classes, self.width = num_classes, width
        self.stages = nn.Sequential(
            ConvStage(1, width), ConvStage(width, 2 * width, 0.1), ConvStage(2 * width, 4 * width, 0.1), ConvStage(4 * width, 8 * width, 0.1)
        )
        self.embed_dim = 8 * width
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.embed_dim, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x).mean(dim=(2, 3))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
