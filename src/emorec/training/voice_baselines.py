"""The issue's reference voice baselines, measured again in emorec's harness on the same folds.

Three fixed-setting classifiers on utterance-level features from the same
feature store the voice models read (nothing is tuned, so no nested
selection is needed; the folds are those of :func:`emorec.data.speech.speech_corpus`:
RAVDESS — the EmoBox 6 actor-independent folds; EMO-DB — leave-one-speaker-out):

- ``egemaps_svm``: eGeMAPSv02 functionals (88; Eyben et al. 2016) → RBF SVM —
  the classic paralinguistic baseline;
- ``encoder_lr``: the frozen Moonshine base-en encoder's output
  (``last_hidden_state``), mean + std over the utterance (832) → logistic regression;
- ``encoder_egemaps_lr``: both concatenated → logistic regression.

Each is standardised on the training folds, class-balanced, scikit-learn
defaults otherwise (``C = 1``). They are the yardsticks ``voice_probe`` and
``voice_tcn`` are compared with in ``docs/results.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import emorec.metrics as metrics
from emorec.data.speech import speech_corpus
from emorec.evaluation.runner import cross_validate, result_document, write_result
from emorec.models.voice_probe import NUM_FUNCTIONALS, utterance_features
from emorec.pipelines.extract import stored_clips
from emorec.store import FeatureStore

__all__ = ["BASELINES", "voice_baselines"]

BASELINES: dict[str, tuple[str, str]] = {
    "egemaps_svm": ("eGeMAPS functionals + SVM (baseline)", "eGeMAPSv02 functionals (88), standardised; RBF SVM, C=1, class-balanced"),
    "encoder_lr": ("frozen Moonshine encoder output + logistic regression (baseline)",
                   "Moonshine base-en last_hidden_state mean+std over the utterance (832), standardised; logistic regression, C=1, class-balanced"),
    "encoder_egemaps_lr": ("frozen Moonshine encoder output + eGeMAPS functionals + logistic regression (baseline)",
                           "Moonshine base-en last_hidden_state mean+std (832) + eGeMAPSv02 functionals (88), standardised; logistic regression, C=1, class-balanced"),
}
"""Baseline name → (label in results, feature and classifier description)."""

_EXTRACTORS = ("audio.moonshine", "audio.egemaps")


def _features(paths, store: FeatureStore, workers: int) -> np.ndarray:
    """(num_clips, 832 + 88): encoder output mean+std, then eGeMAPS functionals, per clip (from the store)."""
    rows = []
    for _, clip in stored_clips(paths, store, _EXTRACTORS, workers):
        rows.append(utterance_features(clip.records["audio.moonshine"]["states"], clip.records["audio.egemaps"]["functionals"][0]))
    return np.stack(rows)


def _classifier(name: str, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name == "egemaps_svm":
        return make_pipeline(StandardScaler(), SVC(C=1.0, kernel="rbf", class_weight="balanced", random_state=seed))
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced", random_state=seed))


def _columns(name: str, width: int) -> slice:
    return {"egemaps_svm": slice(width - NUM_FUNCTIONALS, width), "encoder_lr": slice(0, width - NUM_FUNCTIONALS)}.get(name, slice(0, width))


def voice_baselines(
    root: str | Path, store: str | Path, corpus: str = "ravdess", results: str | Path | None = None, seed: int = 0, workers: int = 2,
    limit_actors: tuple[int, ...] | None = None, names: tuple[str, ...] = tuple(BASELINES),
) -> dict:
    """Score each baseline of ``names`` on every speaker-independent fold of ``corpus``.

    Parameters
    ----------
    root : corpus folder (RAVDESS speech at 16 kHz or EMO-DB), as for :func:`emorec.data.speech.speech_corpus`
    store : feature store (``audio.moonshine``, ``audio.egemaps``; computed once)
    results : optional JSON path; the file holds ``{"kind": "result_set", "results": [...]}``,
        one result per baseline, which ``emorec results`` renders as rows
    limit_actors : RAVDESS actors to keep (smoke runs)

    Returns
    -------
    dict with ``results``: per baseline, UA / WA per fold and their mean ± std.

    Raises
    ------
    ValueError
        Unknown ``corpus`` or baseline name.
    RuntimeError
        Feature extraction failed for some files.
    """
    unknown = sorted(set(names) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown voice baselines {unknown}; choose from {sorted(BASELINES)}")
    data = speech_corpus(root, corpus, None, limit_actors)
    X = _features(list(data.table.path), FeatureStore(store), workers)
    y = data.labels
    out = []
    for name in names:
        label, features = BASELINES[name]
        cols = _columns(name, X.shape[1])

        def score_fold(k: int, train: np.ndarray, test: np.ndarray, name=name, cols=cols) -> dict:
            clf = _classifier(name, seed).fit(X[train][:, cols], y[train])
            return metrics.classification_report(y[test], clf.predict(X[test][:, cols]), len(data.classes))

        folds, summary = cross_validate(data.folds, score_fold)
        out.append(result_document(label, data.dataset, data.protocol + "; fixed settings, nothing chosen on any fold", [seed], summary, folds,
                                   baseline=name, features=features))
    result = {"kind": "result_set", "results": out}
    write_result(result, results)
    return result
