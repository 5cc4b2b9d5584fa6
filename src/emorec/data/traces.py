"""Corpora with continuous arousal/valence traces beside the media (RECOLA, SEWA, AVEC-style), read from a user's copy.

Two layouts are recognised under ``root``:

- **CSV beside the media** (SEWA / AVEC-style exports): ``<id>.<wav|flac|mp4|avi|mkv>`` and ``<id>.csv`` with a time
  column (``time``, ``frameTime`` or ``timestamp``, seconds) and ``arousal`` and ``valence`` columns (any case).
- **RECOLA / AVEC 2016**: media under ``recordings_audio/``, ``recordings_video/`` or beside, and the gold standard as
  ARFF files ``ratings_gold_standard/arousal/<id>.arff`` and ``ratings_gold_standard/valence/<id>.arff`` with the
  attributes ``Instance_name``, ``frameTime`` and ``GoldStandard`` (40 ms steps).

:func:`load_trace_corpus` indexes the pairs; :func:`trace_on_grid` resamples a trace to emorec's 10 Hz grid (mean of
the samples in each 0.1 s frame, linear interpolation where a frame holds none, NaN outside the trace).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emorec.errors import DatasetError
from emorec.timeseries import RATE
from emorec.io.files import walk_files

__all__ = ["load_trace_corpus", "read_trace", "trace_on_grid"]

MEDIA = (".wav", ".flac", ".mp4", ".avi", ".mkv", ".mov", ".webm")
_TIME = ("time", "frametime", "timestamp")


def _read_arff(path: Path) -> pd.DataFrame:
    """The data rows of a (dense, numeric) ARFF file as a DataFrame with its attribute names."""
    names, rows, data = [], [], False
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("%"):
            continue
        low = line.lower()
        if low.startswith("@attribute"):
            names.append(line.split()[1].strip("'\""))
        elif low.startswith("@data"):
            data = True
        elif data:
            rows.append([v.strip().strip("'\"") for v in line.split(",")])
    if not names or not rows:
        raise DatasetError(path, "not an ARFF file with data rows")
    return pd.DataFrame(rows, columns=names)


def read_trace(path: str | Path, dimension: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(times (N,) s, values (N, D))`` of a trace file: a CSV (columns arousal, valence → D = 2, in that order) or a
    RECOLA ARFF (``GoldStandard`` of one ``dimension`` → D = 1).

    Raises
    ------
    DatasetError
        Unreadable file, no time column, missing dimensions, or non-numeric values.
    """
    path = Path(path)
    try:
        table = _read_arff(path) if path.suffix.lower() == ".arff" else pd.read_csv(path, sep=None, engine="python")
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(path, f"unreadable trace file ({exc})") from None
    cols = {c.lower(): c for c in table.columns}
    time = next((cols[c] for c in _TIME if c in cols), None)
    if time is None:
        raise DatasetError(path, f"no time column ({', '.join(_TIME)})")
    wanted = ["goldstandard"] if path.suffix.lower() == ".arff" else ["arousal", "valence"]
    missing = [w for w in wanted if w not in cols]
    if missing:
        raise DatasetError(path, f"missing trace column(s) {missing}")
    try:
        times = pd.to_numeric(table[time]).to_numpy(float)
        values = np.stack([pd.to_numeric(table[cols[w]]).to_numpy(float) for w in wanted], axis=1)
    except (ValueError, TypeError):
        raise DatasetError(path, "non-numeric time or trace values") from None
    order = np.argsort(times)
    return times[order], values[order]


def trace_on_grid(times: np.ndarray, values: np.ndarray, num_frames: int, rate: float = RATE) -> np.ndarray:
    """Resample ``values`` (N, D) at ``times`` (N,) seconds to (num_frames, D) on the grid of ``rate`` Hz: the mean of the
    samples inside each frame; frames without a sample take the linear interpolation; NaN before the first or after the last sample."""
    out = np.full((num_frames, values.shape[1]), np.nan)
    if len(times) == 0:
        return out
    idx = np.floor(times * rate).astype(int)
    ok = (idx >= 0) & (idx < num_frames)
    sums = np.zeros_like(out)
    counts = np.zeros(num_frames)
    np.add.at(sums, idx[ok], values[ok])
    np.add.at(counts, idx[ok], 1)
    have = counts > 0
    out[have] = sums[have] / counts[have, None]
    centres = (np.arange(num_frames) + 0.5) / rate
    inside = (centres >= times[0]) & (centres <= times[-1]) & ~have
    for d in range(values.shape[1]):
        out[inside, d] = np.interp(centres[inside], times, values[:, d])
    return out


def load_trace_corpus(root: str | Path) -> pd.DataFrame:
    """Index media with continuous traces under ``root`` (either layout of the module docstring).

    Returns
    -------
    DataFrame with columns id, path (media), traces (";"-joined trace files: one CSV, or arousal then valence ARFF), layout.

    Raises
    ------
    DatasetError
        Missing folder, or no media file with a trace.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "trace corpus folder not found")
    media = {p.stem: p for p in walk_files(root, MEDIA)}
    rows = []
    gold = root / "ratings_gold_standard"
    for stem, path in media.items():
        csv = path.with_suffix(".csv")
        arousal, valence = gold / "arousal" / f"{stem}.arff", gold / "valence" / f"{stem}.arff"
        if csv.is_file():
            rows.append({"id": stem, "path": str(path), "traces": str(csv), "layout": "csv"})
        elif arousal.is_file() and valence.is_file():
            rows.append({"id": stem, "path": str(path), "traces": f"{arousal};{valence}", "layout": "recola"})
    if not rows:
        raise DatasetError(root, "no media file with a trace (<id>.csv beside <id>.wav/.mp4, or ratings_gold_standard/{arousal,valence}/<id>.arff)")
    return pd.DataFrame(rows)
