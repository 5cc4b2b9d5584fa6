"""Face-image corpora: FER2013 (Goodfellow et al. 2013; research use) and CK+
(Lucey et al. 2010; non-commercial research only).

FER2013 is read from either layout: the image-folder copy
(``{train,test}/<class>/*.jpg``, test files named ``PublicTest_*`` /
``PrivateTest_*``) or the original ``fer2013.csv`` (emotion, pixels, Usage).
Standard split: Training (28,709) / PublicTest (3,589, validation) /
PrivateTest (3,589, test). CK+48: ``<class>/S<subject>_<seq>_<frame>.png``,
split by subject, never by image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emorec.emotion_space import FER_CLASSES
from emorec.errors import DatasetError

__all__ = ["CKPLUS_CLASSES", "FER_CLASSES", "load_ckplus", "load_fer2013", "read_images", "subject_folds"]

CKPLUS_CLASSES = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")


def load_fer2013(root: str | Path) -> pd.DataFrame:
    """Index FER2013.

    Returns
    -------
    DataFrame with columns path (or ``pixels`` for the CSV layout), label
    (0-6 in :data:`FER_CLASSES` order), emotion, split ("train", "val" = PublicTest, "test" = PrivateTest).

    Raises
    ------
    DatasetError
        Missing folder, unknown class folder, or a test file of neither public nor private test.
    """
    root = Path(root)
    if (root / "fer2013.csv").exists() or root.suffix == ".csv":
        csv = root if root.suffix == ".csv" else root / "fer2013.csv"
        df = pd.read_csv(csv)
        missing = {"emotion", "pixels", "Usage"} - set(df.columns)
        if missing:
            raise DatasetError(csv, f"not the FER2013 CSV (missing columns {sorted(missing)})")
        split = df.Usage.map({"Training": "train", "PublicTest": "val", "PrivateTest": "test"})
        return pd.DataFrame({"pixels": df.pixels, "label": df.emotion.astype(int), "emotion": [FER_CLASSES[i] for i in df.emotion], "split": split})
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        raise DatasetError(root, "FER2013 folder must hold train/ and test/ (or fer2013.csv)")
    rows = []
    for part in ("train", "test"):
        for class_dir in sorted((root / part).iterdir()):
            if not class_dir.is_dir():
                continue
            if class_dir.name not in FER_CLASSES:
                raise DatasetError(class_dir, f"unknown FER2013 class folder (expected one of {FER_CLASSES})")
            for path in sorted(class_dir.glob("*.jpg")) + sorted(class_dir.glob("*.png")):
                if part == "train":
                    split = "train"
                elif path.name.startswith("PublicTest"):
                    split = "val"
                elif path.name.startswith("PrivateTest"):
                    split = "test"
                else:
                    raise DatasetError(path, "test image is neither PublicTest_* nor PrivateTest_*")
                rows.append({"path": str(path), "label": FER_CLASSES.index(class_dir.name), "emotion": class_dir.name, "split": split})
    if not rows:
        raise DatasetError(root, "no FER2013 images found")
    return pd.DataFrame(rows)


def load_ckplus(root: str | Path, num_folds: int = 10) -> pd.DataFrame:
    """Index CK+48 with subject-independent folds (subjects sorted, dealt round-robin into ``num_folds``).

    Returns
    -------
    DataFrame with columns path, label (0-6 in :data:`CKPLUS_CLASSES` order), emotion, subject, sequence, fold.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "CK+ folder not found")
    rows = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if class_dir.name not in CKPLUS_CLASSES:
            raise DatasetError(class_dir, f"unknown CK+ class folder (expected one of {CKPLUS_CLASSES})")
        for path in sorted(class_dir.glob("*.png")):
            parts = path.stem.split("_")
            if len(parts) != 3 or not parts[0].startswith("S"):
                raise DatasetError(path, "not a CK+ file name (expected S<subject>_<sequence>_<frame>.png)")
            rows.append({"path": str(path), "label": CKPLUS_CLASSES.index(class_dir.name), "emotion": class_dir.name, "subject": parts[0], "sequence": f"{parts[0]}_{parts[1]}"})
    if not rows:
        raise DatasetError(root, "no CK+ images found")
    df = pd.DataFrame(rows)
    df["fold"] = subject_folds(df.subject, num_folds)
    return df


def subject_folds(subjects: pd.Series, num_folds: int) -> np.ndarray:
    """Fold index per row such that every subject is in exactly one fold."""
    order = {s: i % num_folds for i, s in enumerate(sorted(subjects.unique()))}
    return subjects.map(order).to_numpy()


def read_images(table: pd.DataFrame, size: int = 48) -> np.ndarray:
    """Grey images ``(num_images, size, size)`` uint8 from a loader table (paths or FER2013 CSV pixels)."""
    import cv2

    out = np.empty((len(table), size, size), np.uint8)
    if "pixels" in table:
        for i, px in enumerate(table.pixels):
            img = np.asarray(px.split(), np.uint8).reshape(48, 48)
            out[i] = img if size == 48 else cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
        return out
    for i, path in enumerate(table.path):
        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise DatasetError(path, "unreadable image")
        out[i] = img if img.shape == (size, size) else cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return out
