"""Class priors and the label-shift adjustment of a classifier's probabilities.

A classifier trained on a corpus learns ``p_train(y | x) ∝ p(x | y) · π_y``, with ``π`` the corpus's class frequencies.
Where the classes are met with other frequencies, the Bayes rule for the new prior ``q`` is
``p(y | x) ∝ p_train(y | x) · q_y / π_y`` (Saerens, Latinne & Decaestecker 2002, "Adjusting the outputs of a classifier to
new a priori probabilities: a simple procedure", Neural Computation 14). With ``q`` uniform — the prior of a balanced test, and the
least-informed one for a video of unknown content — this is post-hoc logit adjustment (Menon et al. 2021, "Long-tail
learning via logit adjustment", ICLR, section 4): ``argmax_y log p_train(y | x) − τ log π_y``, which maximises balanced
accuracy (UA) at ``τ = 1``; ``τ`` is chosen on a validation split.

FER2013, which every shipped face model was trained on, holds 25 % happy faces and 1.5 % disgust: a face network
trained on it reads a disgusted face as anger unless the evidence for disgust is 17 times stronger.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FER2013_TRAIN_COUNTS", "PRIOR_TAUS", "adjust_to_uniform", "class_prior"]

FER2013_TRAIN_COUNTS = {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "sad": 4830, "surprise": 3171, "neutral": 4965}
"""Faces per class in FER2013's Training split (28,709; Goodfellow et al. 2013), counted from the corpus."""

PRIOR_TAUS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The grid ``τ`` is chosen from (on a validation split's UA)."""


def class_prior(classes: tuple[str, ...] | list[str], counts: dict[str, float] | None = None, floor: float = 0.0) -> np.ndarray:
    """Class frequencies ``(num_classes,)`` float64 summing to 1, in ``classes`` order.

    Parameters
    ----------
    classes : sequence of str
        The classifier's output classes.
    counts : dict or None
        Examples per class of its training data (default :data:`FER2013_TRAIN_COUNTS`).
    floor : float
        Counts below it are raised to it (``> 0``: a class the training data lacks gets a tiny prior, not an error).

    Raises
    ------
    ValueError
        A class without a count, or a count that is not positive.
    """
    counts = FER2013_TRAIN_COUNTS if counts is None else counts
    missing = [c for c in classes if c not in counts]
    if missing:
        raise ValueError(f"no training count for class(es) {missing}")
    prior = np.array([max(float(counts[c]), floor) for c in classes])
    if (prior <= 0).any():
        raise ValueError(f"training counts must be positive, not {dict(zip(classes, prior))}")
    return prior / prior.sum()


def adjust_to_uniform(probs: np.ndarray, prior: np.ndarray, tau: float = 1.0) -> np.ndarray:
    """Class probabilities re-weighted from the training ``prior`` towards a uniform one: ``p · prior^−τ``, renormalised.

    Parameters
    ----------
    probs : (..., num_classes) array
        A classifier's probabilities; rows that are all zero (e.g. frames without a face) stay zero, NaN rows stay NaN.
    prior : (num_classes,) array
        The training class frequencies (:func:`class_prior`).
    tau : float
        0 leaves ``probs`` unchanged; 1 is the Bayes rule for a uniform prior.

    Returns
    -------
    (..., num_classes) float32
    """
    probs = np.asarray(probs, np.float32)
    if tau == 0:
        return probs
    weighted = probs * np.power(np.asarray(prior, np.float64), -tau).astype(np.float32)
    total = weighted.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weighted / total, probs).astype(np.float32)
