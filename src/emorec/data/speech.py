"""Speech emotion corpora with their speaker-independent folds, as the voice recipes use them.

One place that turns "RAVDESS (+ EMO-DB as extra training data)" or "EMO-DB"
into a clip table, integer labels, speakers and test-fold masks, so every voice
model (:mod:`emorec.training.voice_probe`, :mod:`emorec.training.voice_tcn`) is
scored on exactly the same folds.

Protocols: RAVDESS — the EmoBox 6 actor-independent folds
(:data:`emorec.data.ravdess.EMOBOX_FOLDS`), 8 classes; EMO-DB —
leave-one-speaker-out (10 folds), 7 classes. With ``add_emodb``, EMO-DB clips
mapped by :data:`emorec.data.emodb.EMODB_TO_RAVDESS` (boredom left out) join
every training set and never a test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SpeechCorpus", "speech_corpus"]


@dataclass
class SpeechCorpus:
    """Clips, labels and speaker-independent folds of one speech emotion corpus.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per clip (column ``path``), the extra training clips last.
    labels : (num_clips,) np.ndarray of int
        Index into ``classes``.
    classes : tuple of str
    speakers : (num_clips,) np.ndarray of str
    folds : list of (fold number, test speakers, (num_clips,) bool test mask)
        Extra training clips are in no test mask.
    dataset, protocol : str
        Descriptions for results files.
    """

    table: pd.DataFrame
    labels: np.ndarray
    classes: tuple[str, ...]
    speakers: np.ndarray
    folds: list[tuple[int, list, np.ndarray]]
    dataset: str
    protocol: str


def speech_corpus(root: str | Path, corpus: str = "ravdess", add_emodb: str | Path | None = None, limit_actors: tuple[int, ...] | None = None) -> SpeechCorpus:
    """Index ``corpus`` at ``root`` with its folds (see the module docstring).

    Raises
    ------
    ValueError
        Unknown ``corpus``, or ``add_emodb`` with a corpus other than RAVDESS.
    emorec.errors.DatasetError
        The corpus folder is missing or holds a malformed file name.
    """
    if add_emodb is not None and corpus != "ravdess":
        raise ValueError("add_emodb joins EMO-DB to RAVDESS training sets; use it with corpus='ravdess'")
    if corpus == "ravdess":
        from emorec.data.ravdess import EMOBOX_FOLDS, RAVDESS_CLASSES, load_ravdess

        table = load_ravdess(root)
        if limit_actors:
            table = table[table.actor.isin(limit_actors)].reset_index(drop=True)
        classes, speakers = RAVDESS_CLASSES, table.actor.astype(str).to_numpy()
        folds = [(k, list(actors), table.actor.isin(actors).to_numpy()) for k, actors in enumerate(EMOBOX_FOLDS)]
        dataset = "RAVDESS speech (1440 clips, 24 actors, 8 classes)" if limit_actors is None else f"RAVDESS speech, actors {limit_actors}"
        protocol = "EmoBox 6 actor-independent folds (speaker-independent), fit on 5 folds / test on 1"
    elif corpus == "emodb":
        from emorec.data.emodb import EMODB_CLASSES, EMODB_SPEAKERS, load_emodb

        table = load_emodb(root)
        classes, speakers = EMODB_CLASSES, table.speaker.astype(str).to_numpy()
        folds = [(k, [spk], (table.speaker == spk).to_numpy()) for k, spk in enumerate(EMODB_SPEAKERS)]
        dataset = "EMO-DB, this copy cut/padded to 2.0 s (535 clips, 10 speakers, 7 classes)"
        protocol = "leave-one-speaker-out (10 folds, speaker-independent)"
    else:
        raise ValueError(f"unknown corpus {corpus!r} (ravdess or emodb)")
    labels = table.label.to_numpy()
    if add_emodb is not None:
        from emorec.data.emodb import EMODB_TO_RAVDESS, load_emodb

        extra = load_emodb(add_emodb)
        extra = extra[extra.emotion.isin(list(EMODB_TO_RAVDESS))].reset_index(drop=True)
        labels = np.concatenate([labels, [classes.index(EMODB_TO_RAVDESS[e]) for e in extra.emotion]])
        speakers = np.concatenate([speakers, "emodb-" + extra.speaker.astype(str).to_numpy()])
        folds = [(k, spk, np.concatenate([test, np.zeros(len(extra), bool)])) for k, spk, test in folds]  # never tested on
        table = pd.concat([table, extra], ignore_index=True)
        dataset += f" + EMO-DB training clips ({len(extra)}, 6 classes mapped, boredom left out; never in a test fold)"
    return SpeechCorpus(table, labels, tuple(classes), speakers, folds, dataset, protocol)
