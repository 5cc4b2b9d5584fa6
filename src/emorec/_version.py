"""emorec's version (one place; ``emorec.__version__`` re-exports it)."""

__version__ = "0.1.0"
