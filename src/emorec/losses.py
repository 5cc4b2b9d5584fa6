"""Classification losses any emorec classifier can opt into.

- :func:`focal_loss` — Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017, eq. 5:
  ``FL = −(1 − p_y)^γ log p_y`` per sample.
- :class:`FLDW` — focal loss with dynamic weights (paper 004, ``../shared/seeds/004_c9c76eb9809b30a9.txt``; digest
  ``../shared/docs/methods.md`` §5): each sample's focal loss times ``α``, where ``α = 1`` if the previous epoch classified
  the sample correctly (and throughout the first epoch), else ``α = 1 + C[ŷ, y] / (Σ_i C[ŷ, i] − C[ŷ, ŷ])`` from the
  previous epoch's confusion matrix ``C`` (rows = true class ŷ, columns = predicted class y, y = the sample's previous
  prediction): a sample is weighted up by how often its true class was confused with the class it was mistaken for.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["FLDW", "fldw_alpha", "focal_loss"]


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample focal loss: ``logits`` (B, K), ``target`` (B,) int64 → (B,); ``weight`` (K,) optional class weights
    (as ``cross_entropy``'s). ``gamma = 0`` is the (weighted) cross-entropy."""
    logp = torch.log_softmax(logits, dim=-1).gather(1, target[:, None]).squeeze(1)
    loss = -((1 - logp.exp()) ** gamma) * logp
    return loss * weight[target] if weight is not None else loss


def fldw_alpha(confusion: torch.Tensor, true: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
    """FLDW's per-sample weight from a confusion matrix ``confusion`` (K, K) (rows = true class): ``true``, ``predicted``
    (B,) → α (B,): 1 where ``predicted == true``, else ``1 + C[ŷ, y] / (Σ_i C[ŷ, i] − C[ŷ, ŷ])`` (1 when the row has no
    error at all). Worked example of the source: row sum 100, C[ŷ, ŷ] = 87, C[ŷ, y] = 8 → α = 1 + 8/13 = 1.615."""
    confusion = confusion.to(torch.float64)
    errors = confusion.sum(1) - confusion.diagonal()  # per true class
    num = confusion[true, predicted]
    den = errors[true]
    alpha = 1.0 + torch.where(den > 0, num / den.clamp(min=1e-12), torch.zeros_like(num))
    return torch.where(predicted == true, torch.ones_like(alpha), alpha).to(torch.float32)


class FLDW(nn.Module):
    """Focal loss with dynamic weights (see the module docstring).

    Parameters
    ----------
    num_classes : int
    num_examples : int or None
        Training-set size, when batches carry each example's index: α then uses the sample's own previous-epoch prediction
        (the source's rule). None: α uses the sample's current (detached) prediction against the previous epoch's matrix —
        for recipes whose batches have no index.
    gamma : float
    class_weights : (K,) tensor or None

    Use: ``loss = fldw(logits, target, index)`` each step, ``fldw.end_epoch()`` after each epoch.
    Buffers (checkpointed): ``confusion`` (previous epoch), ``running`` (this epoch), ``previous`` (N,) predictions.
    """

    def __init__(self, num_classes: int, num_examples: int | None = None, gamma: float = 2.0, class_weights: torch.Tensor | None = None):
        super().__init__()
        self.num_classes, self.gamma = num_classes, gamma
        self.register_buffer("confusion", torch.zeros(num_classes, num_classes))
        self.register_buffer("running", torch.zeros(num_classes, num_classes))
        self.register_buffer("epochs_seen", torch.zeros((), dtype=torch.long))
        self.register_buffer("previous", torch.full((num_examples,), -1, dtype=torch.long) if num_examples else torch.zeros(0, dtype=torch.long))
        self.register_buffer("class_weights", class_weights.float() if class_weights is not None else torch.zeros(0))

    def alpha(self, logits: torch.Tensor, target: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        """α (B,) for a batch (all ones in the first epoch)."""
        if int(self.epochs_seen) == 0:
            return torch.ones(len(target))
        if index is not None and len(self.previous):
            predicted = self.previous[index]
            known = predicted >= 0
            predicted = torch.where(known, predicted, target)  # never seen: counted as correct
        else:
            predicted = logits.detach().argmax(1)
        return fldw_alpha(self.confusion, target, predicted)

    def forward(self, logits: torch.Tensor, target: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        """Mean weighted focal loss of a batch (``logits`` (B, K), ``target`` (B,), ``index`` (B,) or None); records the
        batch's predictions for the next epoch's weights when training."""
        weight = self.class_weights if len(self.class_weights) else None
        loss = (self.alpha(logits, target, index).to(logits.dtype) * focal_loss(logits, target, self.gamma, weight)).mean()
        if self.training:
            predicted = logits.detach().argmax(1)
            self.running.index_put_((target, predicted), torch.ones(len(target)), accumulate=True)
            if index is not None and len(self.previous):
                self.previous[index] = predicted
        return loss

    def end_epoch(self) -> None:
        """This epoch's confusion becomes the one the next epoch's α reads."""
        self.confusion.copy_(self.running)
        self.running.zero_()
        self.epochs_seen += 1


class FocalLoss(nn.Module):
    """Mean focal loss (Lin et al., ICCV 2017) with the :class:`FLDW` call signature ``(logits, target, index=None)``:
    FLDW without its dynamic weights, the ablation of the 004 paper.

    Parameters
    ----------
    gamma : float
    class_weights : (K,) tensor or None
    """

    def __init__(self, gamma: float = 2.0, class_weights: torch.Tensor | None = None):
        super().__init__()
        self.gamma = gamma
        self.register_buffer("class_weights", class_weights.float() if class_weights is not None else torch.zeros(0))

    def forward(self, logits: torch.Tensor, target: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        return focal_loss(logits, target, self.gamma, self.class_weights if len(self.class_weights) else None).mean()
