"""What a modality's emotion reading is: :class:`Reading`, and the base class of the reading extractors.

A *reading* is one model's emotion estimate for one modality on the clip's 10 Hz
grid: class probabilities over the model's own classes, (valence, arousal) in
[-1, 1] and a mask of the frames it covers. Readings are computed by
extractors registered in :data:`emorec.features.EXTRACTORS` (``face.emotion``,
``audio.emotion``, ``text.emotion``), so they are cached in the feature store
like any feature and a store filled by ``emorec extract`` serves ``analyze``.
Fusions (:mod:`emorec.fusion`) combine readings; they never touch raw media.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emorec.clip import ClipFeatures, Record
from emorec.features.base import Extractor
from emorec.models.weights import weights_digest

__all__ = ["READING_EXTRACTORS", "Reading", "ReadingExtractor", "reading_record", "readings_of", "weights_digest"]

READING_EXTRACTORS = {"face": "face.emotion", "voice": "audio.emotion", "words": "text.emotion"}
"""Modality (as ``analyze`` names it) → the extractor that reads its emotion."""


@dataclass
class Reading:
    """One modality's emotion reading on the 10 Hz grid.

    Attributes
    ----------
    modality : str
        ``"face"``, ``"voice"`` or ``"words"``.
    model : str
        Registered model name (``emorec models``).
    description : str
        What produced it (model, training data, licence), for ``summary.json``.
    classes : tuple of str
        The model's own classes (empty for a dimensional-only reading).
    probs : (T, len(classes)) float32 or None
        Class probabilities per frame (rows sum to 1 where ``mask``).
    va : (T, 2) float32
        (valence, arousal) in [-1, 1] per frame.
    mask : (T,) bool
        Frames the reading covers; values elsewhere are meaningless (zeros).
    segments : dict of str → ndarray
        Per speech segment extras (``segment_probs`` (S, C) + ``segment_ok`` (S,), ``segment_va`` (S, 2)).
    extras : dict of str → ndarray
        Other per-item outputs (e.g. ``word_valence`` (num_words,)).
    """

    modality: str
    model: str
    description: str
    classes: tuple[str, ...]
    probs: np.ndarray | None
    va: np.ndarray
    mask: np.ndarray
    segments: dict[str, np.ndarray] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.mask.size)

    @classmethod
    def from_record(cls, modality: str, record: Record) -> Reading:
        """Rebuild from a reading extractor's :class:`~emorec.clip.Record` (see :func:`reading_record`)."""
        arrays, meta = record.arrays, record.meta
        classes = tuple(meta.get("classes", ()))
        segments = {k: v for k, v in arrays.items() if k.startswith("segment_")}
        extras = {k: v for k, v in arrays.items() if k not in ("probs", "va", "mask", "grid") and not k.startswith("segment_")}
        return cls(modality, meta["model"], meta["description"], classes, arrays.get("probs") if classes else None, arrays["va"], arrays["mask"], segments, extras)


def reading_record(model: str, description: str, classes: tuple[str, ...], probs: np.ndarray | None, va: np.ndarray, mask: np.ndarray, **arrays: np.ndarray) -> Record:
    """A reading as a store :class:`~emorec.clip.Record`: ``grid`` = probabilities ‖ (valence, arousal) per frame
    (the 10 Hz :class:`~emorec.timeseries.TimeSeries` of the reading, columns named in ``meta``), plus ``probs``,
    ``va``, ``mask`` and any per-segment / per-word ``arrays``."""
    va = np.asarray(va, np.float32)
    parts = ([np.asarray(probs, np.float32)] if classes else []) + [va]
    out = {"grid": np.concatenate(parts, axis=1), "va": va, "mask": np.asarray(mask, bool), **arrays}
    if classes:
        out["probs"] = np.asarray(probs, np.float32)
    columns = [f"prob_{c}" for c in classes] + ["valence", "arousal"]
    return Record(out, {"model": model, "description": description, "classes": list(classes), "columns": columns})


class ReadingExtractor(Extractor):
    """Base class of the reading extractors: parameter ``model`` (a registered model name) and ``weights``
    (a weights file; None = the shipped ones). The weights' digest enters the store key."""

    modality: str = ""
    models: tuple[str, ...] = ()
    """Registered model names this reading can run."""

    def __init__(self, model: str, weights: str | None = None):
        if model not in self.models:
            raise ValueError(f"{self.name}: model {model!r} is not a {self.modality} model; choose one of {', '.join(self.models)}")
        self.model = model
        self.weights = weights

    def weights_path(self) -> Path:
        """The weights this reading runs: ``weights`` if given, else the shipped ones.

        Raises
        ------
        FileNotFoundError
            No such file (the message says how to train them).
        """
        from emorec.models import model_info

        path = Path(self.weights) if self.weights else model_info(self.model).weights_path
        if path is None or not path.is_file():
            raise FileNotFoundError(f"{self.modality} model {self.model}: no weights at {path} (train them with `emorec train {self.model}`)")
        return path

    def params(self) -> dict[str, Any]:
        return {"model": self.model, "weights": weights_digest(str(self.weights_path()))}


def readings_of(features: ClipFeatures) -> dict[str, Reading]:
    """Every reading present in ``features``, keyed by modality (``face``, ``voice``, ``words``)."""
    return {m: Reading.from_record(m, features.records[name]) for m, name in READING_EXTRACTORS.items() if name in features.records}
