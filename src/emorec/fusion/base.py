"""The fusion contract: one clip's readings (and features) → fused per-frame emotion.

A fusion is registered in :data:`FUSIONS` and built by name
(``emorec analyze --fusion NAME``, ``emorec.analyze(..., fusion=NAME)``)::

    @register_fusion("my_fusion")
    class MyFusion(Fusion):
        description = "what it does, in one line"

        def fuse(self, readings, features):
            ...
            return FusedReading(probs, va, mask)

``masked_mean`` (:mod:`emorec.fusion.masked_mean`) is the first entry; trained
fusions (the seed model families) load their weights in ``__init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar

import numpy as np

from emorec.clip import ClipFeatures
from emorec.emotion_space import EMOTIONS
from emorec.readings.base import Reading
from emorec.registry import Registry

__all__ = ["FUSIONS", "FusedReading", "Fusion", "cached_model", "create_fusion", "register_fusion"]


@dataclass
class FusedReading:
    """A fusion's output for one clip.

    Attributes
    ----------
    probs : (T, 7) float
        Probabilities over :data:`~emorec.emotion_space.EMOTIONS`; rows sum to 1 where ``mask``, NaN elsewhere.
    va : (T, 2) float
        (valence, arousal) in [-1, 1]; NaN where no reading is present.
    mask : (T,) bool
        Frames with a fused reading.
    tables : dict of str → DataFrame
        What the fusion lets users inspect, written by ``analyze`` as ``<name>.csv`` (e.g. ``attention``: the utterance
        models' attention weights per frame).
    """

    probs: np.ndarray
    va: np.ndarray
    mask: np.ndarray
    tables: dict = field(default_factory=dict)

    def __post_init__(self):
        t = self.mask.shape[0]
        if self.probs.shape != (t, len(EMOTIONS)) or self.va.shape != (t, 2):
            raise ValueError(f"fused reading shapes: probs {self.probs.shape} (want ({t}, {len(EMOTIONS)})), va {self.va.shape} (want ({t}, 2))")


class Fusion:
    """Base class of every fusion: :meth:`fuse` maps readings to a :class:`FusedReading`.

    Subclasses set ``name`` (set by :func:`register_fusion`), ``description`` (one line for ``summary.json``) and
    ``requires`` (stored series they read, e.g. embeddings).
    Constructor keywords are the fusion's settings (e.g. a weights file).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    """Extractors whose series :meth:`fuse` reads besides the readings (``analyze`` extracts them too)."""

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this fusion cannot run in this installation (e.g. its weights are not shipped), or None if it can."""
        return None

    def fuse(self, readings: dict[str, Reading], features: ClipFeatures) -> FusedReading:  # pragma: no cover - abstract
        """Fuse one clip.

        Parameters
        ----------
        readings : dict of str → Reading
            The modalities present (``face``, ``voice``, ``words``), each with its mask; absent modalities are missing keys.
        features : ClipFeatures
            The clip's stored features on the same grid (for fusions that read embeddings).

        Returns
        -------
        FusedReading
        """
        raise NotImplementedError


FUSIONS: Registry[Fusion] = Registry("fusion")
"""Every registered fusion, by name."""


def register_fusion(name: str) -> Callable[[type[Fusion]], type[Fusion]]:
    """Class decorator registering a :class:`Fusion` subclass under ``name``; ``KeyError`` on a duplicate."""

    def deco(cls: type[Fusion]) -> type[Fusion]:
        cls.name = name
        FUSIONS.register(name)(cls)
        return cls

    return deco


def create_fusion(name: str, **settings) -> Fusion:
    """Build the fusion registered as ``name``; ``KeyError`` listing the known ones if unknown."""
    return FUSIONS.create(name, **settings)


@lru_cache(maxsize=4)
def cached_model(name: str, path: str):
    """The registered model ``name`` with the weights at ``path`` (eval mode), loaded once per process (trained fusions
    call this in :meth:`Fusion.fuse`, so a batch loads each model once)."""
    from emorec.models import load_pretrained

    return load_pretrained(name, path)
