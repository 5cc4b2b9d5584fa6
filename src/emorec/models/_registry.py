"""The model registry (timm's ``register_model`` / ``create_model`` habit).

Each model family registers itself in its own module::

    @register_model("my_model", task="classification", modalities=("audio",), inputs="...", outputs="8 classes")
    class MyModel(nn.Module): ...

and is then built by name (:func:`create_model`), loaded with its trained weights
(:func:`load_pretrained`) and listed (:func:`list_models`, ``emorec models``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emorec.models.weights import shipped_path
from emorec.registry import Registry

__all__ = ["MODELS", "ModelInfo", "create_model", "list_models", "load_pretrained", "model_info", "register_model"]


@dataclass(frozen=True)
class ModelInfo:
    """What a registered model is.

    Attributes
    ----------
    name : str
    task : str
        ``"classification"``, ``"regression"`` or both joined by ``"+"``.
    modalities : tuple of str
        Modalities read, from ``("audio", "video", "text")``.
    level : str
        ``"frame"`` (one output per 10 Hz frame), ``"utterance"`` (one per segment or clip) or ``"image"`` (one per face crop).
    inputs : str
        The stored features or data it reads.
    outputs : str
    weights : str, callable or None
        File name of the shipped weights under ``emorec/weights``, or a function returning the path of
        weights installed by another package (None: nothing shipped; train it).
    card : str or None
        Model card, relative to the repository (``docs/models/<name>.md``).
    source : str
        Paper or patent section the model follows.
    factory : callable
        ``factory(**config)`` → an untrained model.
    loader : callable or None
        ``loader(path)`` → the model with the weights at ``path`` (None: the family has no weights format).
    """

    name: str
    task: str
    modalities: tuple[str, ...]
    level: str
    inputs: str
    outputs: str
    weights: str | Callable[[], Path] | None
    card: str | None
    source: str
    factory: Callable[..., Any]
    loader: Callable[[Path], Any] | None

    @property
    def weights_path(self) -> Path | None:
        """Where the shipped weights are (or would be) installed; None if the family ships none."""
        if callable(self.weights):
            try:
                return Path(self.weights())
            except ImportError:
                return None
        return shipped_path(self.weights) if self.weights else None

    @property
    def shipped(self) -> bool:
        """Whether trained weights are installed with the package."""
        return self.weights_path is not None and self.weights_path.is_file()


MODELS: Registry[ModelInfo] = Registry("model")
"""Every registered model family, by name (values: :class:`ModelInfo`)."""


def register_model(
    name: str,
    *,
    task: str,
    modalities: tuple[str, ...],
    level: str,
    inputs: str,
    outputs: str,
    weights: str | Callable[[], Path] | None = None,
    card: str | None = None,
    source: str = "",
    loader: Callable[[Path], Any] | None = None,
) -> Callable:
    """Decorator registering a model class or factory function under ``name``.

    ``loader`` (``path`` → model with weights) defaults to the class's ``load`` classmethod if it has one.

    Raises
    ------
    KeyError
        ``name`` is already registered.
    """

    def deco(factory: Callable) -> Callable:
        load = loader if loader is not None else getattr(factory, "load", None)
        info = ModelInfo(name, task, tuple(modalities), level, inputs, outputs, weights, card, source, factory, load)
        MODELS.register(name)(lambda: info)
        return factory

    return deco


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of a registered model; ``KeyError`` naming the known ones if unknown."""
    return MODELS.create(name)


def list_models(modality: str | None = None) -> list[ModelInfo]:
    """Registered models, sorted by name; only those reading ``modality`` if given."""
    infos = [model_info(n) for n in MODELS.names()]
    return [i for i in infos if modality is None or modality in i.modalities]


def create_model(name: str, **config) -> Any:
    """An untrained model of family ``name`` built with ``config`` (the family's keyword arguments).

    Raises
    ------
    KeyError
        Unknown name (the message lists the registered ones).
    """
    return model_info(name).factory(**config)


def load_pretrained(name: str, path: str | Path | None = None) -> Any:
    """Model ``name`` with trained weights: those at ``path``, else the ones shipped in the package.

    Raises
    ------
    KeyError
        Unknown name.
    FileNotFoundError
        No weights at ``path``, or none shipped for ``name`` (the message says how to train them).
    """
    info = model_info(name)
    if info.loader is None:
        raise FileNotFoundError(f"model {name!r} has no weights format; build it with create_model({name!r})")
    target = Path(path) if path is not None else info.weights_path
    if target is None or not target.is_file():
        raise FileNotFoundError(f"{target}: no weights for model {name!r} (train them with `emorec train {name}`)")
    return info.loader(target)
