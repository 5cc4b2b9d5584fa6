"""The sequence-model contract every multimodal model family follows.

Inputs are per-modality sequences on the 10 Hz grid and their masks::

    x    = {"audio": (B, T, D_a), "video": (B, T, D_v), "text": (B, T, D_l)}   float
    mask = {"audio": (B, T),      "video": (B, T),      "text": (B, T)}        bool, True = observed

A modality absent for an item has an all-False mask (its values are zeros and
must not be read). A model implements

- ``forward_features(x, mask) → (B, T, D)`` frame-level features (or (B, D) for
  a model that is utterance-level by construction), and
- ``forward_head(features, mask) → outputs``: ``(B, T, K)`` for ``level = "frame"``,
  ``(B, K)`` for ``level = "utterance"``; the first ``num_classes`` outputs are
  class logits, the next two (valence, arousal) in [-1, 1] when ``affect`` is set.

``forward = forward_head ∘ forward_features`` (timm's split, so features can be
read out for plots and probes). Training (:mod:`emorec.training.sequence`) and
the evaluation runner rely on nothing else.
"""

from __future__ import annotations

import inspect
from typing import ClassVar

import torch
from torch import nn

__all__ = ["FRAME_DIMS", "MODALITIES", "SequenceModel", "frame_mask"]

MODALITIES = ("audio", "video", "text")
FRAME_DIMS = {"audio": 441, "video": 768, "text": 384}
"""Per-frame input sizes of the 10 Hz fusion inputs: voice (eGeMAPS LLD means 25 + Moonshine encoder states 416), face
(the ``face_cnn`` ensemble's embedding, 3 × 256), words (MiniLM, 384)."""
"""Modality keys of the inputs, in this order."""


def frame_mask(mask: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B, T) bool: frames where at least one modality is observed."""
    return torch.stack(list(mask.values()), dim=0).any(dim=0)


class SequenceModel(nn.Module):
    """Base class of the multimodal sequence models (see the module docstring for the contract).

    Attributes
    ----------
    level : {"frame", "utterance"}
    modalities : tuple of str
        Input modalities read (keys of ``x``).
    num_classes : int
        Class logits in the output (0 = none).
    affect : bool
        Two more outputs: valence, arousal in [-1, 1].
    """

    level: ClassVar[str] = "utterance"
    modalities: tuple[str, ...] = MODALITIES
    num_classes: int = 0
    affect: bool = False

    def forward_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor, mask: dict[str, torch.Tensor]) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.forward_head(self.forward_features(x, mask), mask)

    @property
    def num_outputs(self) -> int:
        return self.num_classes + (2 if self.affect else 0)

    config: dict
    """The keyword arguments the model was built with (set by :meth:`__init_subclass__`'s wrapper); saved with the weights."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__init__
        signature = inspect.signature(init)

        def __init__(self, *args, **config):
            if args:
                raise TypeError(f"{cls.__name__} takes keyword arguments only (they are saved with the weights)")
            init(self, **config)
            if type(self) is cls:  # the full configuration, defaults included
                bound = signature.bind(self, **config)
                bound.apply_defaults()
                self.config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in bound.arguments.items() if k != "self"}

        __init__.__doc__ = init.__doc__
        __init__.__wrapped__ = init  # inspect.signature(cls) shows the real keywords
        cls.__init__ = __init__

    def save(self, path, info: dict | None = None) -> None:
        """Write the weights (safetensors, float16: half the size; :meth:`load` computes in float32) with the model's ``config`` and ``info`` in the metadata."""
        from emorec.models.weights import save_weights

        save_weights(path, self.state_dict(), {"config": self.config, "class": type(self).__name__, "info": info or {}}, half=True)

    @classmethod
    def load(cls, path) -> SequenceModel:
        """Rebuild from :meth:`save`'s file (eval mode; ``info_`` = the training notes).

        Raises
        ------
        FileNotFoundError, ValueError
            No file, not safetensors, or weights of another model class.
        """
        from emorec.models.weights import read_weights

        state, meta = read_weights(path)
        if meta.get("class") != cls.__name__:
            raise ValueError(f"{path}: weights of {meta.get('class')!r}, not of {cls.__name__}")
        model = cls(**meta["config"])
        missing, unexpected = model.load_state_dict(state, strict=False)
        # weights saved before a model had input standardisation were trained without it: identity (the default) is right
        missing = [k for k in missing if not (k.startswith("input_norm.") and k.endswith((".mean", ".std")))]
        if missing or unexpected:
            raise ValueError(f"{path}: weights do not fit {cls.__name__} (missing {missing[:3]}, unexpected {unexpected[:3]})")
        model.info_ = meta.get("info", {})
        return model.eval()
