"""RAVDESS speech (Livingstone & Russo 2018, CC BY-NC-SA 4.0).

Labels are in the file names ``MM-CC-EE-II-SS-RR-AA``: modality, channel,
emotion EE (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful,
07 disgust, 08 surprised), intensity II (01 normal, 02 strong), statement SS,
repetition RR, actor AA (odd male, even female). Works on the original layout
(``Actor_01/…``, ``.wav``) and on this project's 16 kHz FLAC copy.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emorec.errors import DatasetError
from emorec.io.files import walk_files

__all__ = ["EMOBOX_FOLDS", "RAVDESS_CLASSES", "fold_of_actor", "load_ravdess"]

RAVDESS_CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")

EMOBOX_FOLDS = ((1, 11, 20, 21), (4, 10, 12, 14), (8, 9, 19, 23), (3, 5, 7, 24), (2, 15, 16, 18), (6, 13, 17, 22))
"""Test actors of EmoBox's 6 actor-independent folds (Ma et al., Interspeech 2024)."""


def fold_of_actor(actor: int) -> int:
    """Index (0-5) of the EmoBox fold whose test set holds ``actor``."""
    for i, actors in enumerate(EMOBOX_FOLDS):
        if actor in actors:
            return i
    raise ValueError(f"actor {actor} is in no EmoBox fold")


def load_ravdess(root: str | Path, speech_only: bool = True) -> pd.DataFrame:
    """Index a RAVDESS folder.

    Parameters
    ----------
    root : str or Path
        Folder holding ``Actor_XX`` folders (or the files directly).
    speech_only : bool
        Keep vocal channel 01 (speech) only.

    Returns
    -------
    DataFrame with columns path, actor, emotion (name), label (0-7), intensity,
    statement, repetition, gender, fold (EmoBox fold of the actor).

    Raises
    ------
    DatasetError
        No RAVDESS file found, or a file name that does not parse.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "RAVDESS folder not found")
    rows = []
    for path in walk_files(root):
        if path.suffix.lower() not in (".wav", ".flac", ".mp4") or path.name.startswith("."):
            continue
        parts = path.stem.split("-")
        if len(parts) != 7 or not all(p.isdigit() for p in parts):
            raise DatasetError(path, "not a RAVDESS file name (expected MM-CC-EE-II-SS-RR-AA)")
        modality, channel, emotion, intensity, statement, repetition, actor = map(int, parts)
        if not 1 <= emotion <= 8:
            raise DatasetError(path, f"emotion code {emotion:02d} outside 01-08")
        if not 1 <= actor <= 24:
            raise DatasetError(path, f"actor code {actor:02d} outside 01-24")
        if speech_only and channel != 1:
            continue
        rows.append(
            {
                "path": str(path), "actor": actor, "emotion": RAVDESS_CLASSES[emotion - 1], "label": emotion - 1,
                "intensity": intensity, "statement": statement, "repetition": repetition,
                "gender": "male" if actor % 2 else "female", "fold": fold_of_actor(actor),
            }
        )
    if not rows:
        raise DatasetError(root, "no RAVDESS files found (expected Actor_XX/MM-CC-EE-II-SS-RR-AA.wav)")
    return pd.DataFrame(rows)
