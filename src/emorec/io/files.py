"""Walking folders the way users lay out their data: symlinked folders are followed (a corpus is often a link to a
shared copy), each real folder is visited once (no loop on a link back to a parent), hidden files are skipped."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["walk_files"]


def walk_files(root: str | Path, suffixes: Iterable[str] | None = None) -> list[Path]:
    """Every file under ``root`` (recursively, following symlinked folders), sorted; only those whose lower-case
    suffix is in ``suffixes`` when given. ``root`` may itself be a symlink."""
    wanted = None if suffixes is None else {s.lower() for s in suffixes}
    seen: set[tuple[int, int]] = set()
    out = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:  # a link back to a folder already walked
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if (wanted is None or path.suffix.lower() in wanted) and path.is_file():
                out.append(path)
    return sorted(out)
