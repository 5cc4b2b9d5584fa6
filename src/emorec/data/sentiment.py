"""Readers for the multimodal sentiment corpora of the MOSI table, from a user's own copy in its original layout:

- CMU-MOSI / CMU-MOSEI as the CMU Multimodal SDK's computational sequences (``.csd``: HDF5, one group per video with
  ``features`` (T, D) and ``intervals`` (T, 2) in seconds; Zadeh et al., 2018, "Multimodal Language Analysis in the Wild",
  section 4) — :func:`read_csd`, :func:`load_csd_folder`, with the SDK's standard folds (``emorec/data/folds``, MIT licence);
- MMSA-style feature files (``aligned_50.pkl`` / ``unaligned_50.pkl`` of MOSI, MOSEI, CH-SIMS; Yu et al., MMSA toolkit)
  — :func:`load_mmsa_pickle`. These are Python pickles: unpickling runs code chosen by whoever wrote the file, so emorec
  reads them only when the caller passes ``trust_pickle=True`` (``--trust-pickle``), i.e. states that the file comes
  from a source they trust.

Both return :class:`SentimentSet` rows: one utterance (opinion segment) with per-modality feature sequences, a sentiment
score (MOSI/MOSEI in [-3, 3], CH-SIMS in [-1, 1]) and its official split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from emorec.errors import DatasetError

__all__ = ["MODALITY_KEYWORDS", "SentimentSet", "SentimentUtterance", "load_csd_folder", "load_mmsa_pickle", "read_csd", "standard_folds"]

MODALITY_KEYWORDS = {
    "labels": ("label",),
    "text": ("wordvector", "glove", "bert", "words"),
    "audio": ("covarep", "opensmile", "audio"),
    "video": ("facet", "openface", "visual", "video"),
}
"""How a ``.csd`` file's name tells its role (case-insensitive substrings, first match wins, labels first)."""


@dataclass
class SentimentUtterance:
    """One opinion segment: ``x`` dict of (T_m, D_m) float32 per modality present (lengths may differ), ``score`` (the
    annotated sentiment), ``split`` (``train``/``valid``/``test``), ``video`` (the speaker's video id: one speaker each)."""

    id: str
    video: str
    split: str
    score: float
    x: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class SentimentSet:
    """Utterances of one corpus and its score range (3 for MOSI/MOSEI, 1 for CH-SIMS)."""

    name: str
    utterances: list[SentimentUtterance]
    scale: float
    source: str


def standard_folds(corpus: str) -> dict[str, str]:
    """The CMU SDK's standard folds of ``cmu_mosi`` or ``cmu_mosei``: video id → ``train``/``valid``/``test``.

    Raises
    ------
    ValueError
        Unknown corpus.
    """
    name = {"mosi": "cmu_mosi", "mosei": "cmu_mosei"}.get(corpus, corpus)
    try:
        doc = json.loads(resources.files("emorec.data").joinpath("folds", f"{name}.json").read_text())
    except FileNotFoundError:
        raise ValueError(f"no standard folds for {corpus!r} (known: mosi, mosei)") from None
    return {vid: split for split in ("train", "valid", "test") for vid in doc[split]}


def _clean(a: np.ndarray) -> np.ndarray:
    """Float32 with NaN/±inf (COVAREP writes −inf for unvoiced frames) set to 0."""
    return np.nan_to_num(np.asarray(a, np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def read_csd(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A computational sequence: video id → (features (T, D) float32, intervals (T, 2) seconds).

    Raises
    ------
    DatasetError
        Not an HDF5 file, or not laid out as ``<root>/data/<video>/{features,intervals}``.
    """
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as exc:
        raise DatasetError(path, f"not a readable HDF5 computational sequence ({exc})") from None
    with f:
        roots = list(f.keys())
        if not roots or "data" not in f[roots[0]]:
            raise DatasetError(path, "not a computational sequence (expected <root>/data/<video>/features and intervals)")
        data = f[roots[0]]["data"]
        out = {}
        for vid in data:
            g = data[vid]
            if "features" not in g or "intervals" not in g:
                raise DatasetError(path, f"video {vid!r} lacks 'features' or 'intervals'")
            out[vid] = (_clean(g["features"][()]), np.asarray(g["intervals"][()], np.float64))
    return out


def _role(path: Path) -> str | None:
    name = path.stem.lower().replace("_", "").replace("-", "")
    for role, words in MODALITY_KEYWORDS.items():
        if any(w in name for w in words):
            return role
    return None


def load_csd_folder(folder: str | Path, corpus: str = "mosi") -> SentimentSet:
    """Opinion segments of CMU-MOSI or CMU-MOSEI from a folder of ``.csd`` files (the SDK's downloads: word vectors,
    COVAREP, FACET/OpenFace, and the labels file), on the standard folds.

    Each labelled interval of a video is one utterance; a modality's rows whose interval midpoint lies inside it form
    its sequence. The sentiment is the labels' first column.

    Raises
    ------
    DatasetError
        Missing folder, no labels file, no modality file, unreadable files, or no labelled segment in the standard folds.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(folder, "folder of .csd files not found")
    roles: dict[str, Path] = {}
    for p in sorted(folder.glob("*.csd")):
        role = _role(p)
        if role and role not in roles:
            roles[role] = p
    if "labels" not in roles:
        raise DatasetError(folder, f"no labels computational sequence (a .csd file with 'Labels' in its name); found {sorted(p.name for p in folder.glob('*.csd'))}")
    if len(roles) == 1:
        raise DatasetError(folder, "no modality computational sequence (word vectors, COVAREP, FACET/OpenFace .csd files)")
    folds = standard_folds(corpus)
    labels = read_csd(roles.pop("labels"))
    streams = {m: read_csd(p) for m, p in roles.items()}
    utterances = []
    for vid in sorted(labels):
        if vid not in folds:
            continue
        feats, intervals = labels[vid]
        for i, ((b, e), row) in enumerate(zip(intervals, feats)):
            x = {}
            for m, stream in streams.items():
                if vid not in stream:
                    continue
                f, iv = stream[vid]
                mid = iv.mean(axis=1)
                x[m] = f[(mid >= b) & (mid < e)]
            utterances.append(SentimentUtterance(f"{vid}[{i}]", vid, folds[vid], float(row[0]), x))
    if not utterances:
        raise DatasetError(folder, f"no labelled segment of a {corpus} standard-fold video")
    return SentimentSet(corpus, utterances, 3.0, f"CMU SDK computational sequences ({', '.join(p.name for p in roles.values())})")


def load_mmsa_pickle(path: str | Path, trust_pickle: bool = False, corpus: str | None = None) -> SentimentSet:
    """Utterances of an MMSA feature file (``{"train"|"valid"|"test": {"id", "text", "audio", "vision",
    "regression_labels", optional "audio_lengths"/"vision_lengths"}}``; MOSI, MOSEI or CH-SIMS).

    Parameters
    ----------
    path : str or Path
    trust_pickle : bool
        Must be True: the file is a pickle, and unpickling can run arbitrary code (see the module docstring).
    corpus : str or None
        ``mosi``, ``mosei``, ``sims``; None = guessed from the file's path (CH-SIMS scores lie in [-1, 1]).

    Raises
    ------
    DatasetError
        ``trust_pickle`` not set, missing file, or not an MMSA feature dictionary.
    """
    path = Path(path)
    if not trust_pickle:
        raise DatasetError(path, "is a Python pickle; unpickling can run code chosen by whoever wrote the file. "
                                 "Read it only if it comes from a source you trust, with --trust-pickle (trust_pickle=True)")
    if not path.is_file():
        raise DatasetError(path, "MMSA feature file not found")
    import pickle

    with open(path, "rb") as fh:
        try:
            data = pickle.load(fh)  # noqa: S301 - the caller vouched for this file (trust_pickle)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
            raise DatasetError(path, f"not a readable pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not {"train", "test"} <= set(data):
        raise DatasetError(path, "not an MMSA feature file (expected a dict with 'train', 'valid', 'test' parts)")
    corpus = corpus or next((c for c in ("sims", "mosei", "mosi") if c in str(path).lower()), "mosi")
    utterances = []
    for split in ("train", "valid", "test"):
        part = data.get(split)
        if part is None:
            continue
        need = {"id", "regression_labels"}
        if not need <= set(part):
            raise DatasetError(path, f"part {split!r} lacks {sorted(need - set(part))}")
        n = len(part["regression_labels"])
        for i in range(n):
            x = {}
            for m, key in (("text", "text"), ("audio", "audio"), ("video", "vision")):
                if key not in part or np.asarray(part[key]).ndim != 3:
                    continue
                seq = _clean(part[key][i])
                length = part.get(f"{key}_lengths")
                if length is not None:
                    seq = seq[: int(length[i])]
                else:
                    nonzero = np.flatnonzero(np.abs(seq).sum(axis=1) > 0)
                    seq = seq[: nonzero[-1] + 1] if len(nonzero) else seq[:0]
                x[m] = seq
            uid = str(part["id"][i])
            utterances.append(SentimentUtterance(uid, uid.rsplit("$_$", 1)[0].rsplit("_", 1)[0], split, float(part["regression_labels"][i]), x))
    return SentimentSet(corpus, utterances, 1.0 if corpus == "sims" else 3.0, f"MMSA feature file {path.name}")
