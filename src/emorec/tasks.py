"""Tasks: what a model is trained for — loss, metrics, label spec. Models do not know their task.

(The pyannote ``Model`` → ``Task`` habit: a network maps inputs to outputs; the
task says how outputs are scored.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from emorec import metrics

__all__ = ["ClassificationTask", "RegressionTask"]


@dataclass
class ClassificationTask:
    """Single-label classification: cross-entropy (optional label smoothing); WA, UA, F1.

    Attributes
    ----------
    classes : tuple of str
    label_smoothing : float
    """

    classes: tuple[str, ...]
    label_smoothing: float = 0.0

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``(batch, num_classes)`` logits, ``(batch,)`` int targets → scalar loss."""
        return nn.functional.cross_entropy(logits, target, label_smoothing=self.label_smoothing)

    def scores(self, logits: np.ndarray, target: np.ndarray) -> dict[str, float]:
        """Metrics keyed as the field writes them (``ua``, ``wa``, ``f1_macro``, ``f1_weighted``)."""
        pred = logits.argmax(axis=1)
        k = len(self.classes)
        return {"wa": metrics.wa(target, pred), "ua": metrics.ua(target, pred, k), "f1_macro": metrics.f1_macro(target, pred, k), "f1_weighted": metrics.f1_weighted(target, pred, k)}


@dataclass
class RegressionTask:
    """Multi-output regression (e.g. valence, arousal, dominance): MSE loss; Pearson r, CCC, MAE per output.

    Attributes
    ----------
    names : tuple of str
        One per output column, e.g. ``("valence", "arousal", "dominance")``.
    """

    names: tuple[str, ...]

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``(batch, num_outputs)`` predictions and targets → scalar MSE."""
        return nn.functional.mse_loss(pred, target.float())

    def scores(self, pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
        out = {}
        for i, name in enumerate(self.names):
            out[f"pearson_{name}"] = metrics.pearson(target[:, i], pred[:, i])
            out[f"ccc_{name}"] = metrics.ccc(target[:, i], pred[:, i])
            out[f"mae_{name}"] = metrics.mae(target[:, i], pred[:, i])
        out["pearson_mean"] = float(np.mean([out[f"pearson_{n}"] for n in self.names]))
        return out
