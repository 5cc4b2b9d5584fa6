"""One generic name → factory registry (the timm ``register_model`` habit).

Instances live next to what they register: ``emorec.features.EXTRACTORS``,
``emorec.models.MODELS``. Configs name registered components only; emorec
never imports an arbitrary dotted path from a user's file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """A named collection of factories.

    Parameters
    ----------
    kind : str
        What is registered (used in error messages), e.g. ``"extractor"``.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering ``factory`` under ``name``; raises ``KeyError`` on a duplicate."""

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise KeyError(f"{self.kind} {name!r} is already registered")
            self._factories[name] = factory
            return factory

        return deco

    def create(self, name: str, **kwargs) -> T:
        """Build the component registered as ``name``; raises ``KeyError`` listing the known names."""
        try:
            factory = self._factories[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._factories))}") from None
        return factory(**kwargs)

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name`` (e.g. a class, to read its attributes); ``KeyError`` if unknown."""
        if name not in self._factories:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._factories))}")
        return self._factories[name]

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: str) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
