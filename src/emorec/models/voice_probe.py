"""Baseline voice emotion classifier: a linear probe on a frozen speech encoder.

Utterance features = [mean, std] of the Moonshine base-en encoder states
(2 × 416) ‖ the 88 eGeMAPSv02 functionals, standardised, then multinomial
logistic regression. Trained by :mod:`emorec.training.voice_probe` on RAVDESS
speech; the weights ship in the package as safetensors
(``emorec/weights/voice_probe.safetensors``).

Licence of the shipped weights: trained on RAVDESS (CC BY-NC-SA 4.0) — research
and non-commercial use only.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["VoiceProbe", "utterance_features", "default_weights_path", "FEATURE_DIM"]

FEATURE_DIM = 2 * 416 + 88


def utterance_features(states: np.ndarray, functionals: np.ndarray) -> np.ndarray:
    """One utterance's probe input.

    Parameters
    ----------
    states : (num_states, 416) np.ndarray
        Moonshine encoder states of the utterance (≈41 per second).
    functionals : (88,) np.ndarray
        eGeMAPSv02 functionals of the utterance.

    Returns
    -------
    features : (920,) np.ndarray of float32
    """
    states = np.asarray(states, np.float32)
    if states.shape[0] == 0:
        raise ValueError("utterance has no encoder states")
    return np.concatenate([states.mean(axis=0), states.std(axis=0), np.asarray(functionals, np.float32).reshape(-1)]).astype(np.float32)


def default_weights_path() -> Path:
    return Path(str(resources.files("emorec") / "weights" / "voice_probe.safetensors"))


class VoiceProbe:
    """Standardise + multinomial logistic regression (scikit-learn for fitting, NumPy to predict).

    Parameters
    ----------
    classes : tuple of str
        Class names, in label order.
    C : float
        Inverse L2 regularisation strength.
    """

    def __init__(self, classes: tuple[str, ...] = (), C: float = 0.1):
        self.classes = tuple(classes)
        self.C = C

    def fit(self, X: np.ndarray, y: np.ndarray, seed: int = 0) -> "VoiceProbe":
        """Fit on ``X`` (num_samples, 920) and integer labels ``y`` (num_samples,)."""
        from sklearn.linear_model import LogisticRegression

        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-6
        clf = LogisticRegression(C=self.C, max_iter=3000, random_state=seed)
        clf.fit((X - self.mean_) / self.scale_, y)
        coef = np.zeros((len(self.classes), X.shape[1]), np.float32)
        intercept = np.full(len(self.classes), -1e9, np.float32)
        coef[clf.classes_] = clf.coef_
        intercept[clf.classes_] = clf.intercept_
        self.coef_, self.intercept_ = coef, intercept
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(num_samples, 920)`` → class probabilities ``(num_samples, num_classes)``."""
        z = ((np.atleast_2d(X) - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def save(self, path: str | Path, info: dict | None = None) -> None:
        """Write the weights as safetensors, with classes and ``info`` in the metadata."""
        from safetensors.numpy import save_file

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: np.ascontiguousarray(getattr(self, k + "_"), np.float32) for k in ("mean", "scale", "coef", "intercept")}
        save_file(tensors, str(path), metadata={"classes": json.dumps(self.classes), "C": str(self.C), "info": json.dumps(info or {})})

    @classmethod
    def load(cls, path: str | Path | None = None) -> "VoiceProbe":
        """Read weights written by :meth:`save` (default: the ones shipped in the package).

        Raises
        ------
        FileNotFoundError
            No weights at ``path``.
        """
        from safetensors import safe_open

        path = Path(path) if path else default_weights_path()
        if not path.exists():
            raise FileNotFoundError(f"{path}: voice probe weights not found (train them with `emorec train voice_probe`)")
        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata()
            probe = cls(tuple(json.loads(meta["classes"])), float(meta["C"]))
            for k in ("mean", "scale", "coef", "intercept"):
                setattr(probe, k + "_", fh.get_tensor(k))
            probe.info_ = json.loads(meta.get("info", "{}"))
        return probe
