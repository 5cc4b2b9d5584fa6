"""The one evaluation runner: folds → per-fold metrics → mean ± std → result JSON.

Every cross-validation in emorec (``emorec cv MODEL``; the voice recipes; the
sequence-model recipe) goes through :func:`cross_validate`, and every result file
is made by :func:`result_document` and written by :func:`write_result`, so all
result JSONs carry the same fields (model, dataset, protocol, seeds, metrics,
folds, date, commit) that ``emorec results`` renders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emorec.evaluation.results import git_commit

__all__ = ["SUMMARY_METRICS", "cross_validate", "result_document", "summarise_folds", "write_result"]

SUMMARY_METRICS = ("ua", "wa", "f1_weighted", "f1_macro", "ccc_valence", "ccc_arousal", "pearson_valence", "pearson_arousal", "rmse_valence", "rmse_arousal",
                   "segment_ua", "segment_wa", "segment_f1_weighted", "acc2", "acc2_has_zero", "acc2_non_zero", "f1_has_zero", "f1_non_zero",
                   "acc7", "mae", "corr")
"""Per-fold metrics averaged into ``<metric>_mean`` / ``<metric>_std`` when every fold has them."""


def summarise_folds(folds: Sequence[dict], keys: Sequence[str] = SUMMARY_METRICS) -> dict[str, float]:
    """Mean and (population) standard deviation over folds of each metric in ``keys`` present in every fold."""
    out = {}
    for k in keys:
        values = [f[k] for f in folds if k in f and f[k] is not None]
        if folds and len(values) == len(folds):
            out[f"{k}_mean"] = float(np.mean(values))
            out[f"{k}_std"] = float(np.std(values))
    return out


def cross_validate(
    folds: Iterable[tuple[int, Any, np.ndarray]],
    score_fold: Callable[[int, np.ndarray, np.ndarray], dict],
    only: Sequence[int] | None = None,
) -> tuple[list[dict], dict[str, float]]:
    """Run ``score_fold`` on every fold and summarise.

    Parameters
    ----------
    folds : iterable of (fold number, test speakers, (N,) bool test mask)
        Speaker-independent folds (``SpeechCorpus.folds``, ``MultimodalCorpus.folds``).
    score_fold : callable
        ``score_fold(k, train_mask, test_mask)`` → dict of metrics (and anything else to keep per fold).
    only : sequence of int or None
        Run these fold numbers only (smoke runs); None = all.

    Returns
    -------
    folds : list of dict
        ``{"fold": k, "test_speakers": ..., **score_fold(...)}``; folds with an empty or full test set are skipped.
    summary : dict
        :func:`summarise_folds` of them.
    """
    rows = []
    for k, test_speakers, test in folds:
        test = np.asarray(test, bool)
        if (only is not None and k not in only) or not test.any() or test.all():
            continue
        rows.append({"fold": k, "test_speakers": test_speakers, **score_fold(k, ~test, test)})
    return rows, summarise_folds(rows)


def result_document(model: str, dataset: str, protocol: str, seeds: Sequence[int], metrics: dict, folds: list[dict] | None = None,
                    commit: str | None = None, **extra) -> dict:
    """One result in the shape ``emorec results`` reads: model, dataset, protocol, seeds, metrics, folds, ``extra``, date, commit."""
    doc = {"model": model, "dataset": dataset, "protocol": protocol, "seeds": list(seeds), **extra}
    doc["metrics"] = metrics
    if folds is not None:
        doc["folds"] = folds
    doc["date"] = time.strftime("%Y-%m-%d")
    doc["commit"] = commit if commit is not None else git_commit()
    return doc


def write_result(result: dict, path: str | Path | None) -> Path | None:
    """Write a result (or a ``{"kind": "result_set", "results": [...]}``) as indented JSON; None writes nothing."""
    if path is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    return path
