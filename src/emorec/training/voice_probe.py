"""Train and evaluate the voice probe on RAVDESS speech (or EMO-DB), with nested model selection.

Protocol (:func:`emorec.data.speech.speech_corpus`): RAVDESS — the EmoBox 6
actor-independent folds, 8 classes; EMO-DB — leave-one-speaker-out (10 folds),
7 classes. UA and WA per fold, mean ± std.

The probe's settings — which Moonshine encoder blocks (:data:`BLOCK_CHOICES`)
and the regularisation ``C`` (:data:`C_CHOICES`) — are chosen for each test
fold by cross-validation over the *other* folds only (nested: the test
speakers never influence the choice). The saved model takes the setting that
cross-validates best over all folds and is fitted on every speaker.
Features come from the feature store (``audio.moonshine``, ``audio.egemaps``),
so a second run computes nothing.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import emorec.metrics as metrics
from emorec.data.speech import speech_corpus
from emorec.evaluation.runner import cross_validate, result_document, summarise_folds, write_result
from emorec.models.voice_probe import NUM_FUNCTIONALS, STATE_DIM, VoiceProbe, utterance_features
from emorec.pipelines.extract import stored_clips
from emorec.store import FeatureStore

__all__ = ["BLOCK_CHOICES", "C_CHOICES", "speaker_normalise", "train_voice_probe"]

EXTRACTORS = ("audio.moonshine", "audio.egemaps")
BLOCK_CHOICES: tuple[tuple[int, ...], ...] = ((4,), (3, 4), (2, 3, 4), (3, 4, 5))
"""Encoder-block sets the selection chooses from (all stored by ``audio.moonshine``)."""
C_CHOICES: tuple[float, ...] = (0.003, 0.01, 0.03)
"""Inverse regularisation strengths the selection chooses from."""


def _features(table, store: FeatureStore, workers: int):
    """Probe inputs of every clip in ``table``.

    Returns ``X`` (num_clips, num_stored_blocks × 832 + 88): every stored encoder
    block's mean+std, then the eGeMAPS functionals; and the stored block
    numbers, in ``X``'s order.

    Raises
    ------
    RuntimeError
        Feature extraction failed for some files.
    ValueError
        Clips whose features hold different encoder blocks.
    """
    X, stored = [], set()
    for _, clip in stored_clips(table.path, store, EXTRACTORS, workers):
        rec = clip.records["audio.moonshine"]
        stored.add(tuple(rec.meta["blocks"]))
        X.append(utterance_features(rec["block_states"], clip.records["audio.egemaps"]["functionals"][0]))
    if len(stored) != 1:
        raise ValueError(f"the clips' features hold different encoder blocks: {sorted(stored)}")
    return np.stack(X), stored.pop()


def _columns(stored: tuple[int, ...], blocks: tuple[int, ...]) -> np.ndarray:
    """Columns of the full feature matrix that hold ``blocks`` (in that order) and the functionals."""
    width = 2 * STATE_DIM
    cols = [np.arange(stored.index(b) * width, (stored.index(b) + 1) * width) for b in blocks]
    return np.concatenate(cols + [np.arange(len(stored) * width, len(stored) * width + NUM_FUNCTIONALS)])


def speaker_normalise(X: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Z-score each speaker's feature rows with that speaker's own mean and std (no labels used).

    Speaker-level feature normalisation is a long-standing SER practice; used at
    test time it is *transductive* (it needs a batch of the test speaker's
    unlabelled utterances), and results must say so.
    """
    out = np.empty_like(X)
    for s in np.unique(speakers):
        rows = speakers == s
        out[rows] = (X[rows] - X[rows].mean(axis=0)) / (X[rows].std(axis=0) + 1e-6)
    return out


def _fit_score(X, y, stored, classes, blocks, C, train, test, seed, X_other: np.ndarray | None = None) -> dict:
    """Fit on ``X[train]``, score on ``X[test]``; with ``X_other`` (the same clips otherwise processed, e.g. band-limited)
    also score the same fitted probe on ``X_other[test]`` (under the key ``other``)."""
    cols = _columns(stored, blocks)
    probe = VoiceProbe(classes, C, blocks).fit(X[train][:, cols], y[train], seed)
    pred = probe.predict_proba(X[test][:, cols]).argmax(axis=1)
    report = metrics.classification_report(y[test], pred, len(classes))
    if X_other is not None:
        report["other"] = metrics.classification_report(y[test], probe.predict_proba(X_other[test][:, cols]).argmax(axis=1), len(classes))
    return report


def band_limited_copies(paths, rate: int, folder: str | Path) -> list[str]:
    """Copies of audio files resampled to ``rate`` Hz (soxr, :func:`emorec.io.media.load_audio`), as FLAC in ``folder``
    (reused when present) — telephone-band versions of a test set (8 kHz keeps nothing above 4 kHz)."""
    import hashlib

    import soundfile as sf

    from emorec.io.media import load_audio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in paths:
        dst = folder / f"{Path(p).stem}_{hashlib.sha1(str(Path(p).resolve()).encode()).hexdigest()[:8]}_{rate}.flac"
        if not dst.is_file():
            tmp = dst.with_suffix(".tmp.flac")
            sf.write(tmp, load_audio(p, rate), rate)
            tmp.replace(dst)
        out.append(str(dst))
    return out


def _select(X, y, stored, classes, splits: list[np.ndarray], pool: np.ndarray, grid: list[tuple], seed: int, workers: int) -> tuple[tuple, float, dict]:
    """Cross-validate every (blocks, C) of ``grid`` over ``splits`` restricted to the rows in ``pool``; best by mean UA."""
    from joblib import Parallel, delayed

    inner = [test & pool for test in splits if (test & pool).any() and (pool & ~test).any()]
    jobs = [(setting, test) for setting in grid for test in inner]
    reports = Parallel(n_jobs=workers)(delayed(_fit_score)(X, y, stored, classes, b, C, pool & ~test, test, seed) for (b, C), test in jobs)
    scores = {setting: float(np.mean([r["ua"] for (s, _), r in zip(jobs, reports) if s == setting])) for setting in grid}
    best = max(grid, key=scores.get)
    return best, scores[best], {f"{list(b)} C={C}": round(v, 4) for (b, C), v in scores.items()}


def train_voice_probe(
    root: str | Path, store: str | Path, out: str | Path | None, results: str | Path | None = None, seed: int = 0, workers: int = 2,
    limit_actors: tuple[int, ...] | None = None, speaker_norm: bool = False, corpus: str = "ravdess",
    block_choices: tuple[tuple[int, ...], ...] = BLOCK_CHOICES, c_choices: tuple[float, ...] = C_CHOICES, add_emodb: str | Path | None = None,
    test_band: int | None = None,
) -> dict:
    """Nested cross-validation on the speaker-independent folds, then fit on all speakers and save.

    With ``speaker_norm`` every speaker's features are z-scored with that speaker's
    own statistics first (:func:`speaker_normalise`; transductive at test time).
    ``block_choices`` × ``c_choices`` is the selection grid (smaller grids for smoke runs).
    ``add_emodb`` (RAVDESS only): an EMO-DB folder whose clips, mapped by
    :data:`emorec.data.emodb.EMODB_TO_RAVDESS` (boredom left out), join every
    training set — outer, inner and final — and never a test set.
    ``test_band`` (Hz): also score each fold's probe — chosen and fitted on the wide-band clips as usual — on its test
    clips band-limited to that sample rate (:func:`band_limited_copies`, e.g. 8000 for telephone audio); the result is
    then a result set with that row second.

    Returns
    -------
    dict with per-fold UA / WA / chosen setting and their mean ± std.

    Raises
    ------
    ValueError
        Unknown ``corpus``.
    RuntimeError
        Feature extraction failed for some files.
    """
    data = speech_corpus(root, corpus, add_emodb, limit_actors)  # checks the arguments before any feature extraction
    X, stored = _features(data.table, FeatureStore(store), workers)
    X_band = None
    if test_band:
        table = data.table.assign(path=band_limited_copies(data.table.path, test_band, Path(store) / "derived" / f"band_{test_band}"))
        X_band, stored_band = _features(table, FeatureStore(store), workers)
        if stored_band != stored:
            raise ValueError("the band-limited clips' features hold other encoder blocks")
    y, classes, speakers, splits, dataset, protocol = data.labels, data.classes, data.speakers, data.folds, data.dataset, data.protocol
    if speaker_norm:
        X = speaker_normalise(X, speakers)
    masks = [test for _, _, test in splits]
    grid = list(itertools.product(block_choices, c_choices))

    def score_fold(k: int, train: np.ndarray, test: np.ndarray) -> dict:
        (blocks, C), inner_ua, _ = _select(X, y, stored, classes, masks, train, grid, seed, workers)
        return {"blocks": list(blocks), "C": C, "inner_ua": inner_ua, **_fit_score(X, y, stored, classes, blocks, C, train, test, seed, X_band)}

    folds, summary = cross_validate(splits, score_fold)
    band_folds = [{"fold": f["fold"], "test_speakers": f["test_speakers"], **f.pop("other")} for f in folds] if test_band else []
    if test_band:
        summary = summarise_folds(folds)
    (blocks, C), cv_ua, scores = _select(X, y, stored, classes, masks, np.ones(len(y), bool), grid, seed, workers)
    result = result_document(
        "voice_probe" + (" + speaker normalisation" if speaker_norm else ""), dataset,
        protocol + "; encoder blocks and C chosen per test fold by cross-validation over the other folds only (nested)"
        + ("; features z-scored per speaker with that speaker's unlabelled clips (transductive for the test speakers)" if speaker_norm else ""),
        [seed], summary, folds,
        features="Moonshine base-en encoder block outputs, mean+std each (832 per block), + eGeMAPSv02 functionals (88), standardised; "
        f"class-balanced logistic regression; blocks from {[list(b) for b in block_choices]}, C from {list(c_choices)}; "
        f"saved model: blocks {list(blocks)}, C={C} (cross-validated UA {100 * cv_ua:.1f} over all folds)",
        selection=scores,
    )
    if out is not None:
        final = VoiceProbe(classes, C, blocks).fit(X[:, _columns(stored, blocks)], y, seed)
        final.save(out, {k: result[k] for k in ("dataset", "protocol", "features", "metrics", "date", "commit")})
    if test_band:
        band = result_document(
            f"voice_probe, test clips band-limited to {test_band} Hz (telephone band; trained and chosen on wide-band)", dataset,
            result["protocol"] + f"; the same fitted probe of each fold scored on its test clips resampled to {test_band} Hz (nothing above {test_band // 2000} kHz)",
            [seed], summarise_folds(band_folds), band_folds, features=result["features"])
        result = {"kind": "result_set", "results": [result, band]}
    write_result(result, results)
    return result
