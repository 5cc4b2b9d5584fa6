"""Tasks: what a model is trained for — loss, metrics, label spec. Models do not know their task.

(The pyannote ``Model`` → ``Task`` habit: a network maps inputs to outputs; the
task says how outputs are scored.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import emorec.metrics as metrics

__all__ = ["ClassAffectTask", "ClassificationTask", "DistillationTask", "RegressionTask", "SequenceTask", "ccc_loss"]


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
class DistillationTask(ClassificationTask):
    """Classification taught by a teacher's soft targets as well as the labels (knowledge distillation,
    Hinton et al. 2015, "Distilling the Knowledge in a Neural Network", section 2).

    Training targets are ``(batch, 1 + num_classes)`` floats: the class index, then the teacher's class
    probabilities. The loss is ``(1 − weight) · CE(logits, label) + weight · T² · KL(q_T ‖ softmax(logits / T))``,
    where ``q_T ∝ teacher_probs^(1/T)`` (the teacher's distribution at temperature T). Integer ``(batch,)``
    targets (validation) get the plain cross-entropy of :class:`ClassificationTask`.

    Attributes
    ----------
    weight : float
        Share of the distillation term, in [0, 1].
    temperature : float
    """

    weight: float = 0.5
    temperature: float = 2.0

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if target.ndim == 1:
            return super().loss(logits, target)
        hard = nn.functional.cross_entropy(logits, target[:, 0].long(), label_smoothing=self.label_smoothing)
        t = self.temperature
        soft = torch.log(target[:, 1:].clamp_min(1e-8)) / t
        soft = torch.softmax(soft, dim=1)
        kd = nn.functional.kl_div(torch.log_softmax(logits / t, dim=1), soft, reduction="batchmean") * t * t
        return (1 - self.weight) * hard + self.weight * kd

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


def ccc_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 − CCC`` averaged over columns; ``pred``, ``target`` (batch, num_outputs).

    CCC = 2 cov(x, y) / (var x + var y + (mean x − mean y)²) (Lin 1989), the
    loss of the AVEC challenges and of the ``tcn_gated`` method.
    """
    mp, mt = pred.mean(0), target.mean(0)
    cov = ((pred - mp) * (target - mt)).mean(0)
    ccc = 2 * cov / (pred.var(0, unbiased=False) + target.var(0, unbiased=False) + (mp - mt) ** 2 + 1e-8)
    return (1 - ccc).mean()


@dataclass
class ClassAffectTask:
    """Emotion classes plus (valence, arousal) read from them: the model outputs
    (batch, num_classes + 2) — logits, then valence and arousal.

    Loss: class-weighted cross-entropy (optional label smoothing) + ``affect_weight`` ×
    ``1 − CCC`` (:func:`ccc_loss`) against each class's (valence, arousal) coordinates
    (``affect``, e.g. :func:`emorec.emotion_space.valence_arousal_of` — a proxy).
    Scores: WA, UA, F1 of the classes; CCC of valence and arousal against the proxy.

    Attributes
    ----------
    classes : tuple of str
    affect : (num_classes, 2) np.ndarray
        (valence, arousal) of each class.
    class_weights : (num_classes,) np.ndarray or None
        Cross-entropy weights (e.g. inverse class frequency); None = equal.
    affect_weight, label_smoothing : float
    """

    classes: tuple[str, ...]
    affect: np.ndarray
    class_weights: np.ndarray | None = None
    affect_weight: float = 0.5
    label_smoothing: float = 0.0

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        k = len(self.classes)
        weight = None if self.class_weights is None else torch.as_tensor(self.class_weights, dtype=out.dtype)
        ce = nn.functional.cross_entropy(out[:, :k], target, weight=weight, label_smoothing=self.label_smoothing)
        return ce + self.affect_weight * ccc_loss(out[:, k:], torch.as_tensor(self.affect, dtype=out.dtype)[target])

    def scores(self, out: np.ndarray, target: np.ndarray) -> dict[str, float]:
        k = len(self.classes)
        res = ClassificationTask(self.classes).scores(out[:, :k], target)
        proxy = np.asarray(self.affect)[target]
        res["ccc_valence"] = metrics.ccc(proxy[:, 0], out[:, k])
        res["ccc_arousal"] = metrics.ccc(proxy[:, 1], out[:, k + 1])
        return res


@dataclass
class SequenceTask:
    """The task of the multimodal sequence models (:mod:`emorec.models.sequence`): class logits and, when
    the model has them, (valence, arousal) outputs — per utterance (B, K[+2]) or per frame (B, T, K[+2]).

    Targets are the dict :func:`emorec.training.multimodal.collate` builds. Loss: class-weighted
    cross-entropy (over real frames at frame level) + ``affect_weight`` × (1 − CCC) of valence/arousal
    against the targets' (valence, arousal) (:func:`ccc_loss`; the ``tcn_gated`` objective).

    Attributes
    ----------
    classes : tuple of str
    level : {"utterance", "frame"}
    class_weights : (K,) np.ndarray or None
    affect_weight : float
    class_loss : torch.nn.Module or None
        Replaces the cross-entropy at utterance level: called as ``class_loss(logits, label, index)`` with each example's
        corpus index (or None) — :class:`emorec.losses.FLDW` (the 004 paper's loss; its ``end_epoch()`` is called after
        every training epoch) or :class:`emorec.losses.FocalLoss`.
    """

    classes: tuple[str, ...]
    level: str = "utterance"
    class_weights: np.ndarray | None = None
    affect_weight: float = 0.5
    class_loss: nn.Module | None = None

    def _flat(self, out: torch.Tensor, target: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.level == "frame":
            keep = target["frames"]
            return out[keep], target["frame_label"][keep], target["frame_va"][keep], target.get("rated", keep)[keep]
        rated = target["va_rated"] if "va_rated" in target else (target["label"] >= 0)[:, None].expand(-1, 2)
        return out, target["label"], target["va"], rated

    def loss(self, out: torch.Tensor, target: dict) -> torch.Tensor:
        """``out`` (B, K[+2]) or (B, T, K[+2]) and the targets dict → scalar loss. Rows without a class (label −1, e.g. rated
        traces) add no cross-entropy; rows without a rating add no CCC term."""
        k = len(self.classes)
        out, label, va, rated = self._flat(out, target)
        weight = None if self.class_weights is None else torch.as_tensor(self.class_weights, dtype=out.dtype)
        has_class = label >= 0
        loss = out.new_zeros(())
        if k and has_class.any() and self.class_loss is not None and self.level == "utterance":
            index = target.get("index")
            index = index[has_class] if index is not None and bool((index >= 0).all()) else None
            loss = loss + self.class_loss(out[has_class, :k], label[has_class], index)
        elif k and has_class.any():
            loss = loss + nn.functional.cross_entropy(out[has_class, :k], label[has_class], weight=weight)
        if out.shape[1] >= k + 2 and self.affect_weight:
            if rated.dim() == 1:
                rated = rated[:, None].expand(-1, 2)
            for c in range(2):  # valence, arousal: each over the rows rated in it
                if int(rated[:, c].sum()) > 1:
                    loss = loss + self.affect_weight / 2 * ccc_loss(out[rated[:, c], k + c : k + c + 1], va[rated[:, c], c : c + 1].to(out.dtype))
        return loss

    def scores(self, out: np.ndarray, label: np.ndarray, va: np.ndarray | None = None) -> dict[str, float]:
        """WA, UA, F1 (macro, weighted) and confusion of the classes; CCC, Pearson r and RMSE of valence/arousal when predicted.
        ``out`` (N, K[+2]) flattened over utterances or real frames; ``label`` (N,), −1 without a class; ``va`` (N, 2), NaN without a rating."""
        k = len(self.classes)
        has_class = label >= 0
        res = metrics.classification_report(label[has_class], out[has_class, :k].argmax(1), k) if has_class.any() else {"num_samples": 0}
        if out.shape[1] >= k + 2 and va is not None:
            for i, name in enumerate(("valence", "arousal")):
                rated = np.isfinite(va[:, i])
                if rated.sum() < 2:
                    continue
                res[f"ccc_{name}"] = metrics.ccc(va[rated, i], out[rated, k + i])
                res[f"pearson_{name}"] = metrics.pearson(va[rated, i], out[rated, k + i])
                res[f"rmse_{name}"] = float(np.sqrt(np.mean((va[rated, i] - out[rated, k + i]) ** 2)))
        return res
