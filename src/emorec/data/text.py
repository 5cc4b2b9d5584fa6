"""Text corpora: EmoBank (Buechel & Hahn, EACL 2017; CC BY-SA 4.0) and MELD
transcripts (Poria et al., ACL 2019; GPL-3.0).

EmoBank: ``emobank.csv`` (id, split, V, A, D on 1-5, text), official
train/dev/test split. Rows with empty text are dropped and reported (the
public file has one, ``easy_money_13624_13628``, written as the bare word "None"). MELD: ``{train,dev,test}_sent_emo.csv``, 7
emotions and 3 sentiments, official split; utterances are used one at a time
(single-utterance protocol, no dialogue context).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from emorec.errors import DatasetError

__all__ = ["MELD_CLASSES", "load_emobank", "load_meld"]

MELD_CLASSES = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")


def load_emobank(root: str | Path) -> pd.DataFrame:
    """EmoBank rows with non-empty text: columns id, split (train/dev/test), V, A, D, text.

    Raises
    ------
    DatasetError
        File missing or a required column absent.
    """
    path = Path(root)
    path = path / "emobank.csv" if path.is_dir() else path
    if not path.exists():
        raise DatasetError(path, "EmoBank CSV not found")
    df = pd.read_csv(path, keep_default_na=False)
    missing = {"id", "split", "V", "A", "D", "text"} - set(df.columns)
    if missing:
        raise DatasetError(path, f"not the EmoBank CSV (missing columns {sorted(missing)})")
    # the public CSV writes the one text-less sentence as the bare word "None" (Python's None)
    empty = df.text.str.strip().isin(["", "None"])
    if empty.any():
        warnings.warn(f"{path}: {int(empty.sum())} row(s) with empty text dropped (ids: {', '.join(df.id[empty].astype(str)[:5])})", stacklevel=2)
    df = df[~empty].reset_index(drop=True)
    for col in ("V", "A", "D"):
        df[col] = pd.to_numeric(df[col], errors="raise").astype(float)
    return df


def load_meld(root: str | Path) -> pd.DataFrame:
    """MELD utterances of all three official splits: columns split, text, emotion, label, sentiment, speaker, dialogue, utterance."""
    root = Path(root)
    parts = []
    for split in ("train", "dev", "test"):
        path = root / f"{split}_sent_emo.csv"
        if not path.exists():
            raise DatasetError(path, "MELD split file not found")
        df = pd.read_csv(path, keep_default_na=False)
        if "Utterance" not in df or "Emotion" not in df:
            raise DatasetError(path, "not a MELD CSV (needs Utterance and Emotion columns)")
        unknown = set(df.Emotion) - set(MELD_CLASSES)
        if unknown:
            raise DatasetError(path, f"unknown MELD emotions {sorted(unknown)}")
        # MELD's CSVs carry mis-decoded UTF-8 (e.g. "â\x80\x99" for ’): repair where it round-trips
        text = df.Utterance.map(lambda s: _repair(s))
        parts.append(pd.DataFrame({
            "split": split, "text": text, "emotion": df.Emotion, "label": [MELD_CLASSES.index(e) for e in df.Emotion],
            "sentiment": df.Sentiment, "speaker": df.Speaker, "dialogue": df.Dialogue_ID, "utterance": df.Utterance_ID,
        }))
    return pd.concat(parts, ignore_index=True)


def _repair(text: str) -> str:
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
