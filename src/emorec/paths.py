"""Where emorec keeps what it computes on a user's machine.

- :func:`cache_dir` — ``EMOREC_CACHE``, default ``~/.cache/emorec``: files derived
  from installed packages (the folded Moonshine graphs, ≈ 360 MB).
- :func:`default_store` — ``EMOREC_STORE``, default ``<cache_dir>/features``: the
  feature store used when no ``--store`` is given.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "default_store"]


def cache_dir() -> Path:
    """emorec's cache root: ``$EMOREC_CACHE``, else ``~/.cache/emorec``."""
    return Path(os.environ.get("EMOREC_CACHE", Path.home() / ".cache" / "emorec"))


def default_store() -> Path:
    """The default feature store: ``$EMOREC_STORE``, else ``cache_dir() / "features"``."""
    return Path(os.environ.get("EMOREC_STORE", cache_dir() / "features"))
