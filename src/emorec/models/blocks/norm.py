"""Input standardisation fitted on the training data (the features' own scales differ by orders of magnitude: Moonshine
encoder states, eGeMAPS LLDs in dB and Hz, unit-length word vectors)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["InputNorm", "fit_input_norms"]


class InputNorm(nn.Module):
    """``(x − mean) / std`` per feature, with ``mean`` and ``std`` buffers (saved with the weights; identity until fitted).

    Shapes: (..., dim) → (..., dim).
    """

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, frames: np.ndarray) -> None:
        """Set the statistics from (N, dim) observed frames of the training data (a near-constant feature keeps std 1)."""
        if len(frames) == 0:
            return
        mean, std = frames.mean(0), frames.std(0)
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(np.where(std > 1e-6, std, 1.0), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def fit_input_norms(model: nn.Module, frames: dict[str, np.ndarray]) -> None:
    """Fit every :class:`InputNorm` in ``model.input_norm`` (a ModuleDict keyed by modality) from ``frames[modality]``
    (N, dim) — the training set's observed frames; models without ``input_norm`` are left alone."""
    norms = getattr(model, "input_norm", None)
    if norms is None:
        return
    for m, norm in norms.items():
        if m in frames:
            norm.fit(frames[m])
