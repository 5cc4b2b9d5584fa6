"""Metrics of the field, as pure functions on NumPy arrays.

Definitions (stated because the literature mixes them up):

- **WA** (weighted accuracy) = overall accuracy = correct / total.
- **UA** (unweighted accuracy, = UAR) = mean over classes of per-class recall.
  Neither is precision.
- **F1 macro** = unweighted mean of per-class F1; **F1 weighted** = mean of
  per-class F1 weighted by class support.
- **CCC** (Lin 1989) = 2 cov(x, y) / (var(x) + var(y) + (mean(x) - mean(y))²),
  population (biased) moments.
- **Acc-2** on sentiment scores: "has-zero" (negative < 0 vs non-negative ≥ 0,
  all samples) and "non-zero" (negative < 0 vs positive > 0, samples whose
  label is 0 excluded). **Acc-7**: scores rounded and clipped to [-3, 3].
"""

from __future__ import annotations

import numpy as np

__all__ = ["acc2", "acc7", "ccc", "classification_report", "sentiment_report", "confusion_matrix", "f1_macro", "f1_weighted", "mae", "pearson", "ua", "wa"]


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """``(num_classes, num_classes)`` counts; rows = true class, columns = predicted class."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    k = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def wa(y_true, y_pred) -> float:
    """Weighted accuracy = overall accuracy."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float((y_true == y_pred).mean())


def ua(y_true, y_pred, num_classes: int | None = None) -> float:
    """Unweighted accuracy (UAR) = mean per-class recall over classes present in ``y_true``."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    support = cm.sum(axis=1)
    present = support > 0
    return float((np.diag(cm)[present] / support[present]).mean())


def _per_class_f1(y_true, y_pred, num_classes=None):
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(float)
    precision = np.divide(tp, cm.sum(axis=0), out=np.zeros_like(tp), where=cm.sum(axis=0) > 0)
    recall = np.divide(tp, cm.sum(axis=1), out=np.zeros_like(tp), where=cm.sum(axis=1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
    return f1, cm.sum(axis=1), cm


def f1_macro(y_true, y_pred, num_classes: int | None = None) -> float:
    """Unweighted mean of per-class F1 over the classes seen in ``y_true`` or ``y_pred``."""
    f1, support, cm = _per_class_f1(y_true, y_pred, num_classes)
    seen = (support > 0) | (cm.sum(axis=0) > 0)
    return float(f1[seen].mean())


def f1_weighted(y_true, y_pred, num_classes: int | None = None) -> float:
    """Per-class F1 averaged with weights = class support in ``y_true``."""
    f1, support, _ = _per_class_f1(y_true, y_pred, num_classes)
    return float((f1 * support).sum() / support.sum())


def ccc(x, y) -> float:
    """Concordance correlation coefficient (Lin 1989), population moments; in [-1, 1]."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(), y.var()
    cov = ((x - mx) * (y - my)).mean()
    denom = vx + vy + (mx - my) ** 2
    return float(2 * cov / denom) if denom > 0 else 0.0


def pearson(x, y) -> float:
    """Pearson correlation coefficient."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    sx, sy = x.std(), y.std()
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy)) if sx > 0 and sy > 0 else 0.0


def mae(x, y) -> float:
    """Mean absolute error."""
    return float(np.abs(np.asarray(x, float) - np.asarray(y, float)).mean())


def acc2(y_true, y_pred, convention: str = "non-zero") -> float:
    """Binary sentiment accuracy from scores; ``convention`` is "has-zero" or "non-zero" (see module doc)."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    if convention == "has-zero":
        return float(((y_true >= 0) == (y_pred >= 0)).mean())
    if convention == "non-zero":
        keep = y_true != 0
        return float(((y_true[keep] > 0) == (y_pred[keep] > 0)).mean())
    raise ValueError(f"unknown Acc-2 convention {convention!r}")


def acc7(y_true, y_pred) -> float:
    """Seven-class accuracy: scores rounded to integers and clipped to [-3, 3]."""
    def r(v):
        return np.clip(np.round(np.asarray(v, float)), -3, 3)

    return float((r(y_true) == r(y_pred)).mean())


def classification_report(y_true, y_pred, num_classes: int | None = None) -> dict:
    """WA, UA, F1 macro/weighted and the confusion matrix, JSON-able."""
    return {
        "wa": wa(y_true, y_pred),
        "ua": ua(y_true, y_pred, num_classes),
        "f1_macro": f1_macro(y_true, y_pred, num_classes),
        "f1_weighted": f1_weighted(y_true, y_pred, num_classes),
        "confusion": confusion_matrix(y_true, y_pred, num_classes).tolist(),
        "num_samples": len(y_true),
    }


def sentiment_report(y_true, y_pred) -> dict:
    """The field's table for sentiment scores in [-3, 3] (CMU-MOSI / MOSEI / CH-SIMS; Zadeh et al. 2016, and the MMSA
    toolkit's conventions): Acc-2 and weighted F1 under both conventions (``has_zero``: 0 counts as non-negative;
    ``non_zero``: examples labelled 0 are dropped), Acc-7 (rounded, clipped), MAE and Pearson r.
    ``y_true``, ``y_pred`` (N,) scores on the same scale."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    nz = y_true != 0
    return {
        "acc2_has_zero": acc2(y_true, y_pred, "has-zero"),
        "f1_has_zero": f1_weighted((y_true >= 0).astype(int), (y_pred >= 0).astype(int), 2),
        "acc2_non_zero": acc2(y_true, y_pred, "non-zero"),
        "f1_non_zero": f1_weighted((y_true[nz] > 0).astype(int), (y_pred[nz] > 0).astype(int), 2),
        "acc7": acc7(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "corr": pearson(y_true, y_pred),
        "num_samples": len(y_true),
    }
