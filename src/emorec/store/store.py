"""A feature store that never recomputes what it has and survives ``kill -9``.

Layout under ``root``::

    objects/ab/<key>.npz    arrays of one extractor on one clip (no pickle)
    objects/ab/<key>.json   entry card: media hash, extractor, params, path, time
    index.parquet           table of all entries, rebuilt from the cards

The key is a hash of the media file's content + extractor name + version +
parameters + the keys of the records it was computed from
(:meth:`emorec.features.base.Extractor.key`). Each file is written to a
temporary name and renamed into place (atomic on POSIX), the card last: an
entry exists only once its card does, so a killed run leaves either a whole
entry or none, and the next run computes only what is missing.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from emorec.errors import StoreError
from emorec.clip import Record

__all__ = ["FeatureStore"]

# CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide
# state; two threads parsing at once (numpy parses every .npy header with
# ast.literal_eval) can raise "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905 and follow-ups). The extractors run on two
# threads (pipelines.extract), so reads of the store are serialised here.
_READ_LOCK = threading.Lock()


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class FeatureStore:
    """Feature records keyed by content, on disk.

    Parameters
    ----------
    root : str or Path
        Folder of the store (created if missing).
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.root / "objects" / key[:2]
        return folder / f"{key}.npz", folder / f"{key}.json"

    def has(self, key: str) -> bool:
        """Whether a complete entry (arrays and card) exists for ``key``."""
        arrays, card = self._paths(key)
        return card.exists() and arrays.exists()

    def save(self, key: str, record: Record, card: dict[str, Any]) -> None:
        """Write one entry atomically: arrays first, then its card."""
        arrays, card_path = self._paths(key)
        payload = dict(record.arrays)
        payload["__meta__"] = np.array(json.dumps(record.meta))
        _atomic_write(arrays, lambda fh: np.savez_compressed(fh, **payload))
        card = {**card, "key": key, "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "bytes": arrays.stat().st_size}
        _atomic_write(card_path, lambda fh: fh.write(json.dumps(card, indent=1).encode()))

    def load(self, key: str) -> Record:
        """Read one entry.

        Raises
        ------
        StoreError
            The entry is missing or unreadable.
        """
        arrays, _ = self._paths(key)
        try:
            with _READ_LOCK, np.load(arrays, allow_pickle=False) as data:
                out = {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise StoreError(arrays, f"feature-store entry is unreadable ({exc})") from None
        meta = json.loads(str(out.pop("__meta__"))) if "__meta__" in out else {}
        return Record(out, meta)

    def cards(self) -> list[dict[str, Any]]:
        """All entry cards."""
        out = []
        for card in sorted((self.root / "objects").glob("*/*.json")):
            if card.name.startswith(".tmp-"):  # a write in progress, or left by a killed run
                continue
            try:
                out.append(json.loads(card.read_text()))
            except (OSError, json.JSONDecodeError):
                continue
        return out

    def write_index(self):
        """Rebuild ``index.parquet`` from the cards and return it as a DataFrame."""
        import pandas as pd

        cards = self.cards()
        for c in cards:
            c["params"] = json.dumps(c.get("params", {}), sort_keys=True)
            c["deps"] = json.dumps(c.get("deps", {}), sort_keys=True)
        df = pd.DataFrame(cards)
        if len(df):
            self.root.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.root / "index.parquet", lambda fh: df.to_parquet(fh, index=False))
        return df

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.root)!r})"
