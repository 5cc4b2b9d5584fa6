"""Berlin EMO-DB (Burkhardt et al., Interspeech 2005; free for research).

File names ``SSTTTEV``: speaker SS, text TTT, emotion letter E, version V.
Protocol: leave-one-speaker-out (10 folds). Note: the copy in
``../shared/data/emodb_2s`` was cut/padded to exactly 2.0 s at 22.05 kHz
upstream, so results on it are not comparable to full-length EMO-DB results.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emorec.errors import DatasetError
from emorec.io.files import walk_files

__all__ = ["EMODB_CLASSES", "EMODB_SPEAKERS", "EMODB_TO_RAVDESS", "load_emodb"]

_LETTERS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness", "N": "neutral"}
EMODB_CLASSES = tuple(_LETTERS.values())
EMODB_SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")
EMODB_TO_RAVDESS = {"anger": "angry", "disgust": "disgust", "fear": "fearful", "happiness": "happy", "sadness": "sad", "neutral": "neutral"}
"""EMO-DB class → RAVDESS class, for training on both corpora. Boredom has no
RAVDESS counterpart and is left out (it is not RAVDESS "calm": calm is a
positive low-arousal state, boredom a negative one)."""


def load_emodb(root: str | Path) -> pd.DataFrame:
    """Index EMO-DB (``wav/`` of the original or a flat folder of .wav/.flac).

    Returns
    -------
    DataFrame with columns path, speaker, text, emotion, label (index in :data:`EMODB_CLASSES`),
    fold (leave-one-speaker-out: the speaker's index in :data:`EMODB_SPEAKERS`).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "EMO-DB folder not found")
    rows = []
    for path in walk_files(root):
        if path.suffix.lower() not in (".wav", ".flac"):
            continue
        stem = path.stem
        if len(stem) != 7 or stem[:2] not in EMODB_SPEAKERS or stem[5] not in _LETTERS:
            raise DatasetError(path, "not an EMO-DB file name (expected SSTTTEV, e.g. 03a01Fa)")
        emotion = _LETTERS[stem[5]]
        rows.append({"path": str(path), "speaker": stem[:2], "text": stem[2:5], "emotion": emotion, "label": EMODB_CLASSES.index(emotion), "fold": EMODB_SPEAKERS.index(stem[:2])})
    if not rows:
        raise DatasetError(root, "no EMO-DB files found")
    return pd.DataFrame(rows)
