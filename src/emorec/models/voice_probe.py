"""emorec's voice emotion classifier: a linear probe on frozen speech-encoder blocks.

Utterance features = [mean, std] over time of the outputs of chosen Moonshine
base-en encoder blocks (2 × 416 per block) ‖ the 88 eGeMAPSv02 functionals,
standardised, then class-balanced multinomial logistic regression. Which
blocks and how much regularisation are chosen by cross-validation inside the
training speakers (:mod:`emorec.training.voice_probe`). Middle blocks are used
because they carry more paralinguistic information than the last one (the
layer-wise finding of Pepino, Riera & Ferrer 2021, "Emotion recognition from
speech using wav2vec 2.0 embeddings", section 4). The weights ship in the
package as safetensors (``emorec/weights/voice_probe.safetensors``).

Licence of the shipped weights: trained on RAVDESS (CC BY-NC-SA 4.0) and EMO-DB
(free for research) — research and non-commercial use only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emorec.models._registry import register_model
from emorec.models.speech_encoder import ENCODER_DIM, NUM_FUNCTIONALS, select_blocks
from emorec.models.weights import read_weights, save_weights, shipped_path

__all__ = ["VoiceProbe", "default_weights_path", "feature_dim", "utterance_features"]

STATE_DIM = ENCODER_DIM


def feature_dim(num_blocks: int) -> int:
    """Length of the probe input for ``num_blocks`` encoder blocks: ``num_blocks × 832 + 88``."""
    return num_blocks * 2 * STATE_DIM + NUM_FUNCTIONALS


def utterance_features(block_states: np.ndarray, functionals: np.ndarray) -> np.ndarray:
    """One utterance's probe input.

    Parameters
    ----------
    block_states : (num_states, num_blocks, 416) np.ndarray
        Outputs of the chosen encoder blocks over the utterance (≈41 states per second);
        a ``(num_states, 416)`` array counts as one block.
    functionals : (88,) np.ndarray
        eGeMAPSv02 functionals of the utterance.

    Returns
    -------
    features : (num_blocks × 832 + 88,) np.ndarray of float32
        Per block: mean over time, then std over time; then the functionals.

    Raises
    ------
    ValueError
        The utterance has no encoder state.
    """
    states = np.asarray(block_states, np.float32)
    if states.ndim == 2:
        states = states[:, None]
    if states.shape[0] == 0:
        raise ValueError("utterance has no encoder states")
    pooled = np.concatenate([states.mean(axis=0), states.std(axis=0)], axis=1).reshape(-1)  # block by block: mean, std
    return np.concatenate([pooled, np.asarray(functionals, np.float32).reshape(-1)]).astype(np.float32)


def default_weights_path() -> Path:
    return shipped_path("voice_probe.safetensors")


class VoiceProbe:
    """Standardise + class-balanced multinomial logistic regression (scikit-learn for fitting, NumPy to predict).

    Parameters
    ----------
    classes : tuple of str
        Class names, in label order.
    C : float
        Inverse L2 regularisation strength.
    blocks : tuple of int
        Moonshine encoder blocks (0-7) whose outputs the features hold, in order.
    """

    def __init__(self, classes: tuple[str, ...] = (), C: float = 0.01, blocks: tuple[int, ...] = (3, 4)):
        self.classes = tuple(classes)
        self.C = C
        self.blocks = tuple(int(b) for b in blocks)

    def select_blocks(self, block_states: np.ndarray, stored: tuple[int, ...] | list[int]) -> np.ndarray:
        """Pick this probe's blocks out of stored block outputs.

        ``block_states`` (num_states, len(stored), 416), with ``stored`` the block
        numbers it holds (``meta["blocks"]`` of an ``audio.moonshine``
        record) → (num_states, len(self.blocks), 416).

        Raises
        ------
        ValueError
            A block the probe needs was not stored.
        """
        return select_blocks(block_states, stored, self.blocks)

    def fit(self, X: np.ndarray, y: np.ndarray, seed: int = 0) -> VoiceProbe:
        """Fit on ``X`` (num_samples, feature_dim(len(blocks))) and integer labels ``y`` (num_samples,)."""
        from sklearn.linear_model import LogisticRegression

        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-6
        clf = LogisticRegression(C=self.C, max_iter=3000, random_state=seed, class_weight="balanced")
        clf.fit((X - self.mean_) / self.scale_, y)
        coef = np.zeros((len(self.classes), X.shape[1]), np.float32)
        intercept = np.full(len(self.classes), -1e9, np.float32)
        coef[clf.classes_] = clf.coef_
        intercept[clf.classes_] = clf.intercept_
        self.coef_, self.intercept_ = coef, intercept
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(num_samples, feature_dim)`` → class probabilities ``(num_samples, num_classes)``."""
        z = ((np.atleast_2d(X) - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def save(self, path: str | Path, info: dict | None = None) -> None:
        """Write the weights as safetensors, with classes and ``info`` in the metadata."""
        tensors = {k: np.ascontiguousarray(getattr(self, k + "_"), np.float32) for k in ("mean", "scale", "coef", "intercept")}
        save_weights(path, tensors, {"classes": self.classes, "C": self.C, "blocks": self.blocks, "info": info or {}})

    @classmethod
    def load(cls, path: str | Path | None = None) -> VoiceProbe:
        """Read weights written by :meth:`save` (default: the ones shipped in the package).

        Raises
        ------
        FileNotFoundError
            No weights at ``path``.
        ValueError
            Weights of the older format (last encoder block only).
        """
        path = Path(path) if path else default_weights_path()
        if not path.exists():
            raise FileNotFoundError(f"{path}: voice probe weights not found (train them with `emorec train voice_probe`)")
        tensors, meta = read_weights(path, framework="np")
        if "blocks" not in meta:
            raise ValueError(f"{path}: voice probe weights from before encoder-block features (retrain with `emorec train voice_probe`)")
        probe = cls(tuple(meta["classes"]), float(meta["C"]), tuple(meta["blocks"]))
        for k in ("mean", "scale", "coef", "intercept"):
            setattr(probe, k + "_", tensors[k])
        probe.info_ = meta.get("info", {})
        return probe


register_model(
    "voice_probe", task="classification", modalities=("audio",), level="utterance",
    inputs="audio.moonshine encoder blocks (mean+std) + 88 eGeMAPS functionals", outputs="8 RAVDESS classes",
    weights="voice_probe.safetensors", card="docs/models/voice_probe.md",
    source="layer-wise probe of a speech encoder (Pepino, Riera & Ferrer 2021, section 4); eGeMAPS (Eyben et al. 2016)",
)(VoiceProbe)
