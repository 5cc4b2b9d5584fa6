"""Face-image corpora: FER2013 (Goodfellow et al. 2013; research use) and CK+
(Lucey et al. 2010; non-commercial research only).

FER2013 is read from either layout: the image-folder copy
(``{train,test}/<class>/*.jpg``, test files named ``PublicTest_*`` /
``PrivateTest_*``) or the original ``fer2013.csv`` (emotion, pixels, Usage).
Standard split: Training (28,709) / PublicTest (3,589, validation) /
PrivateTest (3,589, test). CK+48: ``<class>/S<subject>_<seq>_<frame>.png``,
split by subject, never by image. A user's own face crops (e.g. RAF-DB's aligned
images, or AffectNet's 7 basic classes): ``{train,val,test}/<class>/*`` with the
7 FER2013 classes as folder names (common spellings such as ``anger``,
``happiness``, ``sadness`` accepted), read by :func:`load_face_folders`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emorec.emotion_space import FER_CLASSES
from emorec.errors import DatasetError

__all__ = ["CKPLUS_CLASSES", "FACE_CLASS_ALIASES", "FER_CLASSES", "load_ckplus", "load_face_corpus", "load_face_folders", "load_fer2013", "read_images",
           "subject_folds"]

CKPLUS_CLASSES = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")

FACE_CLASS_ALIASES = {"anger": "angry", "disgusted": "disgust", "fearful": "fear", "afraid": "fear", "happiness": "happy", "joy": "happy",
                      "sadness": "sad", "surprised": "surprise"}
"""Other spellings of the FER2013 classes accepted as class folder names by :func:`load_face_folders`."""

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


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


def load_face_folders(root: str | Path) -> pd.DataFrame:
    """Index a user's face-expression corpus laid out as ``{train,val,test}/<class>/<image>``: face crops (any size; read
    grey and resized to 48×48 for ``face_cnn``), class folders named by the 7 FER2013 classes or a spelling in
    :data:`FACE_CLASS_ALIASES` (case ignored). ``val`` chooses the epoch (as FER2013's PublicTest), ``test`` is scored once.
    Keep subjects disjoint between the splits for a subject-independent figure.

    Returns
    -------
    DataFrame with columns path, label (0-6 in :data:`FER_CLASSES` order), emotion, split ("train", "val", "test").

    Raises
    ------
    DatasetError
        A missing split folder, an unknown class folder (contempt, for instance: FER2013's classes are the model's), or a
        split without images.
    """
    root = Path(root)
    rows = []
    for split in ("train", "val", "test"):
        part = root / split
        if not part.is_dir():
            raise DatasetError(root, f"a face corpus folder must hold train/, val/ and test/ with one folder per class; {split}/ is missing")
        for class_dir in sorted(p for p in part.iterdir() if p.is_dir()):
            name = class_dir.name.lower()
            emotion = FACE_CLASS_ALIASES.get(name, name)
            if emotion not in FER_CLASSES:
                raise DatasetError(class_dir, f"unknown class folder (expected one of {FER_CLASSES} or {sorted(FACE_CLASS_ALIASES)})")
            for path in sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
                rows.append({"path": str(path), "label": FER_CLASSES.index(emotion), "emotion": emotion, "split": split})
        if not any(r["split"] == split for r in rows):
            raise DatasetError(part, "no images (.jpg, .png, .bmp, .webp, .tif) in its class folders")
    return pd.DataFrame(rows)


def load_face_corpus(root: str | Path) -> pd.DataFrame:
    """FER2013 (``fer2013.csv`` or its ``{train,test}`` image folders) or a user's ``{train,val,test}/<class>`` face
    corpus (:func:`load_face_folders`), whichever ``root`` holds; the same columns either way.

    Raises
    ------
    DatasetError
        Neither layout.
    """
    root = Path(root)
    if (root / "val").is_dir() and not (root / "fer2013.csv").exists() and root.suffix != ".csv":
        return load_face_folders(root)
    return load_fer2013(root)


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
