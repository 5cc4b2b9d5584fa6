"""A user's own corpus in the generic layout: a folder of media/images plus ``labels.csv``.

``labels.csv`` columns: ``path`` (relative to the folder), ``label`` (class
name) and optionally ``speaker`` (for speaker-independent folds) and
``split`` (train/dev/test).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emorec.errors import DatasetError

__all__ = ["load_folder"]


def load_folder(root: str | Path, num_folds: int = 5) -> pd.DataFrame:
    """Index a folder + ``labels.csv`` corpus.

    Returns
    -------
    DataFrame with columns path (absolute), emotion, label (index in the sorted class names),
    and, where a ``speaker`` column is given, fold (speakers dealt round-robin into ``num_folds``).

    Raises
    ------
    DatasetError
        No ``labels.csv``, missing columns, or a listed file that does not exist.
    """
    root = Path(root)
    csv = root / "labels.csv"
    if not csv.exists():
        raise DatasetError(csv, "labels.csv not found (columns: path, label[, speaker][, split])")
    df = pd.read_csv(csv, keep_default_na=False)
    missing = {"path", "label"} - set(df.columns)
    if missing:
        raise DatasetError(csv, f"missing columns {sorted(missing)}")
    paths = [root / p for p in df.path]
    absent = [str(p) for p in paths if not p.exists()]
    if absent:
        raise DatasetError(csv, f"{len(absent)} listed file(s) do not exist, e.g. {absent[0]}")
    classes = sorted(set(df.label))
    out = pd.DataFrame({"path": [str(p) for p in paths], "emotion": df.label, "label": [classes.index(c) for c in df.label]})
    for col in ("speaker", "split"):
        if col in df:
            out[col] = df[col].astype(str)
    if "speaker" in out:
        from emorec.data.images import subject_folds

        out["fold"] = subject_folds(out.speaker, num_folds)
    return out
