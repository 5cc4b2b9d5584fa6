"""Train and evaluate the baseline voice probe on RAVDESS speech (or EMO-DB).

Protocol: RAVDESS — the EmoBox 6 actor-independent folds (test actors per fold
listed in :data:`emorec.data.ravdess.EMOBOX_FOLDS`), 8 classes; EMO-DB —
leave-one-speaker-out (10 folds), 7 classes. UA and WA per fold, mean ± std;
then one model fitted on all speakers is saved (the shipped weights are the
RAVDESS one).
Features come from the feature store (``audio.moonshine``, ``audio.egemaps``),
so a second run computes nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from emorec import metrics
from emorec.data.ravdess import EMOBOX_FOLDS, RAVDESS_CLASSES, load_ravdess
from emorec.evaluation.results import git_commit
from emorec.models.voice_probe import VoiceProbe, utterance_features
from emorec.pipelines.extract import extract_clip, extract_many
from emorec.store import FeatureStore

__all__ = ["ravdess_features", "train_voice_probe"]

EXTRACTORS = ("audio.moonshine", "audio.egemaps")


def ravdess_features(root: str | Path, store: FeatureStore, workers: int = 2, limit_actors: tuple[int, ...] | None = None):
    """Probe inputs of every RAVDESS speech clip: ``X (num_clips, 920)``, labels, the index table."""
    table = load_ravdess(root)
    if limit_actors:
        table = table[table.actor.isin(limit_actors)].reset_index(drop=True)
    return _features(table, store, workers)


def _features(table, store: FeatureStore, workers: int):
    report = extract_many(table.path, store, EXTRACTORS, workers=workers, progress=True)
    if report.failures:
        raise RuntimeError(f"feature extraction failed for {len(report.failures)} files: {list(report.failures.items())[:3]}")
    X = []
    for path in table.path:
        clip = extract_clip(path, store, EXTRACTORS)  # all reused from the store
        X.append(utterance_features(clip.records["audio.moonshine"]["states"], clip.records["audio.egemaps"]["functionals"][0]))
    return np.stack(X), table.label.to_numpy(), table


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


def train_voice_probe(root: str | Path, store: str | Path, out: str | Path | None, results: str | Path | None = None, C: float = 0.1, seed: int = 0, workers: int = 2, limit_actors: tuple[int, ...] | None = None, speaker_norm: bool = False, corpus: str = "ravdess") -> dict:
    """Cross-validate on the EmoBox folds, fit on all actors, save weights (+ evaluation JSON).

    With ``speaker_norm`` every actor's features are z-scored with that actor's
    own statistics first (:func:`speaker_normalise`; transductive at test time).

    Returns
    -------
    dict with per-fold and mean ± std UA / WA.
    """
    store = FeatureStore(store)
    if corpus == "ravdess":
        X, y, table = ravdess_features(root, store, workers, limit_actors)
        classes, speakers = RAVDESS_CLASSES, table.actor.to_numpy()
        splits = [(k, list(actors), table.actor.isin(actors).to_numpy()) for k, actors in enumerate(EMOBOX_FOLDS)]
        dataset = "RAVDESS speech (1440 clips, 24 actors, 8 classes)" if limit_actors is None else f"RAVDESS speech, actors {limit_actors}"
        protocol = "EmoBox 6 actor-independent folds (speaker-independent), fit on 5 folds / test on 1"
    elif corpus == "emodb":
        from emorec.data.emodb import EMODB_CLASSES, EMODB_SPEAKERS, load_emodb

        table = load_emodb(root)
        X, y, table = _features(table, store, workers)
        classes, speakers = EMODB_CLASSES, table.speaker.to_numpy()
        splits = [(k, [spk], (table.speaker == spk).to_numpy()) for k, spk in enumerate(EMODB_SPEAKERS)]
        dataset = "EMO-DB, this copy cut/padded to 2.0 s (535 clips, 10 speakers, 7 classes)"
        protocol = "leave-one-speaker-out (10 folds, speaker-independent)"
    else:
        raise ValueError(f"unknown corpus {corpus!r} (ravdess or emodb)")
    if speaker_norm:
        X = speaker_normalise(X, speakers)
    folds = []
    for k, test_speakers, test in splits:
        if not test.any() or test.all():
            continue
        probe = VoiceProbe(classes, C).fit(X[~test], y[~test], seed)
        pred = probe.predict_proba(X[test]).argmax(axis=1)
        rep = metrics.classification_report(y[test], pred, len(classes))
        folds.append({"fold": k, "test_speakers": test_speakers, **rep})
    ua = np.array([f["ua"] for f in folds])
    wa = np.array([f["wa"] for f in folds])
    result = {
        "model": "voice_probe" + (" + speaker normalisation" if speaker_norm else ""),
        "dataset": dataset,
        "protocol": protocol + ("; features z-scored per speaker with that speaker's unlabelled clips (transductive for the test speakers)" if speaker_norm else ""),
        "seeds": [seed],
        "features": "Moonshine base-en encoder mean+std (832) + eGeMAPSv02 functionals (88), standardised; logistic regression C=%g" % C,
        "metrics": {"ua_mean": float(ua.mean()), "ua_std": float(ua.std()), "wa_mean": float(wa.mean()), "wa_std": float(wa.std())},
        "folds": folds,
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
    }
    if out is not None:
        final = VoiceProbe(classes, C).fit(X, y, seed)
        final.save(out, {k: result[k] for k in ("dataset", "protocol", "metrics", "date", "commit")})
    if results is not None:
        Path(results).parent.mkdir(parents=True, exist_ok=True)
        Path(results).write_text(json.dumps(result, indent=1))
    return result
