"""Batches of inputs: one output folder per input that never collides, and writability checked before any work.

- :func:`output_folders` — the rule: one input writes into ``out`` itself; several inputs each get
  ``out/<path relative to their common parent, without the extension>``, and inputs that would still collide
  (``a/clip.mp4`` and ``a/clip.wav``) keep their extension as a suffix (``a/clip_mp4``, ``a/clip_wav``).
- :func:`check_writable` — a folder that can be created and written to, or an :class:`~emorec.errors.OutputError`
  naming the path and the problem.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from emorec.errors import OutputError

__all__ = ["check_writable", "output_folders"]


def output_folders(files: Sequence[Path], out: Path) -> dict[Path, Path]:
    """Input file → its own output folder under ``out`` (see the module docstring); distinct for distinct inputs."""
    files = [Path(f) for f in files]
    if len(files) == 1:
        return {files[0]: Path(out)}
    resolved = [f.resolve() for f in files]
    parent = Path(os.path.commonpath([str(r.parent) for r in resolved]))
    stems = [r.relative_to(parent).with_suffix("") for r in resolved]
    clashes = {s for s in stems if stems.count(s) > 1}
    folders = {}
    for f, r, s in zip(files, resolved, stems):
        name = s.with_name(f"{s.name}_{r.suffix.lstrip('.').lower()}") if s in clashes else s
        folders[f] = Path(out) / name
    if len(set(folders.values())) != len(files):  # the same file given twice: keep one folder per distinct input
        seen: dict[Path, int] = {}
        for f in files:
            k = seen.get(folders[f], 0)
            seen[folders[f]] = k + 1
            if k:
                folders[f] = folders[f].with_name(f"{folders[f].name}_{k + 1}")
    return folders


def check_writable(folder: str | Path, what: str = "output folder") -> Path:
    """Create ``folder`` if needed and check that a file can be written into it.

    Raises
    ------
    OutputError
        The path exists as a file, or the folder cannot be created or written to (the message names it and the reason).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, f"{what} exists and is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".emorec-write-check-"):
            pass
    except OSError as exc:
        raise OutputError(folder, f"{what} cannot be written ({exc.strerror or exc})") from None
    return folder
