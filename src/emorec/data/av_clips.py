"""Real audio-visual evaluation clips: the labelled MEAD talking-face videos in ``../shared/data/av_clips``, and a
user's own copy of RAVDESS's audio-visual recordings (not available here).

MEAD (Wang et al., ECCV 2020; research / non-commercial use only) films actors
speaking with 8 emotions at 3 intensity levels. Two copies are readable here:

- ``mead_dreamtalk``: ``<speaker>_front_<emotion>_level<N>_001.mp4``, 3 speakers × 8
  emotions, 256×256 frontal face crops, **no sound** (the face reading only).
- ``mead_eamm``: ``<emotion>.mp4`` face crops (3 with speech) and ``M030_sad_3_001.mp4``.

MEAD's labels map to :data:`~emorec.emotion_space.EMOTIONS`; *contempt* has no
common class and gets ``label = None`` (loaders keep the row so the count is visible;
evaluations leave it out and say so).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from emorec.errors import DatasetError

__all__ = ["AV_CORPORA", "ENTERFACE_EMOTIONS", "MEAD_TO_COMMON", "load_av_corpus", "load_enterface", "load_mead_dreamtalk", "load_mead_eamm",
           "load_ravdess_video", "load_ravdess_video_song"]

MEAD_TO_COMMON = {"angry": "angry", "disgusted": "disgust", "fear": "fear", "happy": "happy", "neutral": "neutral", "sad": "sad", "surprised": "surprise", "contempt": None}
"""MEAD emotion → emorec's common class (None: no common class)."""

_DREAMTALK = re.compile(r"^(?P<speaker>[MW]\d{3})_front_(?P<emotion>[a-z]+)_level(?P<level>\d)_\d{3}$")
_EAMM = re.compile(r"^(?:(?P<speaker>[MW]\d{3})_)?(?P<emotion>[a-z]+)(?:_(?P<level>\d)_\d{3})?$")


def _load(root: str | Path, pattern: re.Pattern, corpus: str) -> pd.DataFrame:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, f"{corpus} folder not found")
    rows = []
    for path in sorted(root.glob("*.mp4")):
        m = pattern.match(path.stem)
        if m is None or m["emotion"] not in MEAD_TO_COMMON:
            continue
        rows.append({"path": str(path), "id": path.stem, "speaker": m["speaker"] or "unknown", "emotion": m["emotion"],
                     "label": MEAD_TO_COMMON[m["emotion"]], "level": int(m["level"]) if m["level"] else None})
    if not rows:
        raise DatasetError(root, f"no {corpus} clips (<speaker>_front_<emotion>_level<N>_001.mp4 or <emotion>.mp4) found")
    return pd.DataFrame(rows)


def load_mead_dreamtalk(root: str | Path) -> pd.DataFrame:
    """Index ``av_clips/mead_dreamtalk``: columns path, id, speaker, emotion (MEAD's), label (common class or None), level.

    Raises
    ------
    DatasetError
        Missing folder or no clip named as MEAD names them.
    """
    return _load(root, _DREAMTALK, "MEAD (dreamtalk copy)")


def load_mead_eamm(root: str | Path) -> pd.DataFrame:
    """Index ``av_clips/mead_eamm`` (same columns as :func:`load_mead_dreamtalk`; speaker ``unknown`` for the face crops)."""
    return _load(root, _EAMM, "MEAD (EAMM copy)")


def load_ravdess_video(root: str | Path, song: bool = False) -> pd.DataFrame:
    """Index a user's copy of RAVDESS audio-visual speech (Livingstone & Russo 2018; CC BY-NC-SA 4.0) in its original
    layout, ``Actor_XX/01-01-EE-II-SS-RR-AA.mp4`` (modality 01 = audio-video, vocal channel 01 = speech; the video-only
    ``02-…`` copies are left out, and song unless ``song``). Columns as :func:`load_mead_dreamtalk`: speaker ``ravdess_XX``,
    emotion (RAVDESS's), label (common class; calm → neutral), level (intensity 1-2).

    Raises
    ------
    DatasetError
        Missing folder, no audio-video file, or a file name that does not parse.
    """
    from emorec.data.ravdess import load_ravdess
    from emorec.emotion_space import to_common

    table = load_ravdess(root, speech_only=not song)
    table = table[[Path(p).suffix.lower() == ".mp4" and Path(p).name.startswith("01-") for p in table.path]]
    if table.empty:
        raise DatasetError(root, f"no RAVDESS audio-video {'speech or song' if song else 'speech'} files (Actor_XX/01-0C-EE-II-SS-RR-AA.mp4)")
    return pd.DataFrame({"path": table.path, "id": [Path(p).stem for p in table.path], "speaker": [f"ravdess_{a:02d}" for a in table.actor],
                         "emotion": table.emotion, "label": [to_common(e) for e in table.emotion], "level": table.intensity}).reset_index(drop=True)


def load_ravdess_video_song(root: str | Path) -> pd.DataFrame:
    """RAVDESS audio-video speech *and* song (vocal channels 01 and 02; the 004 paper's set): :func:`load_ravdess_video`."""
    return load_ravdess_video(root, song=True)


ENTERFACE_EMOTIONS = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy", "sadness": "sad", "surprise": "surprise"}
"""eNTERFACE'05 emotion folder → emorec's common class."""


def load_enterface(root: str | Path) -> pd.DataFrame:
    """Index a user's copy of eNTERFACE'05 (Martin et al., ICDEW 2006; free for research) in its original layout,
    ``subject N/<emotion>/sentence K/*.avi`` (emotion folders anger, disgust, fear, happiness, sadness, surprise; subject 6
    has no sentence folders in the original and is read as it is). Symlinked folders are followed. Columns as
    :func:`load_mead_dreamtalk`: speaker ``enterface_NN``, emotion (eNTERFACE's), label (common class), level None.

    Raises
    ------
    DatasetError
        Missing folder, or no ``.avi`` under an emotion folder.
    """
    from emorec.io.files import walk_files

    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "eNTERFACE'05 folder not found")
    rows = []
    for path in walk_files(root):
        if path.suffix.lower() != ".avi" or path.name.startswith("."):
            continue
        parts = path.relative_to(root).parts
        emotion = next((p.lower() for p in parts[:-1] if p.lower() in ENTERFACE_EMOTIONS), None)
        subject = next((re.search(r"(\d+)", p) for p in parts[:-1] if p.lower().startswith("subject")), None)
        if emotion is None or subject is None:
            continue
        rows.append({"path": str(path), "id": path.stem, "speaker": f"enterface_{int(subject.group(1)):02d}", "emotion": emotion,
                     "label": ENTERFACE_EMOTIONS[emotion], "level": None})
    if not rows:
        raise DatasetError(root, "no eNTERFACE'05 clips (subject N/<anger|disgust|fear|happiness|sadness|surprise>/sentence K/*.avi)")
    return pd.DataFrame(rows).sort_values("path").reset_index(drop=True)


AV_CORPORA = {"mead_dreamtalk": load_mead_dreamtalk, "mead_eamm": load_mead_eamm, "ravdess_video": load_ravdess_video,
              "ravdess_video_song": load_ravdess_video_song, "enterface": load_enterface}
"""Real audio-visual corpora with a loader, by name."""


def load_av_corpus(name: str, root: str | Path) -> pd.DataFrame:
    """Index a real audio-visual corpus by name (:data:`AV_CORPORA`); ``ValueError`` for an unknown name."""
    if name not in AV_CORPORA:
        raise ValueError(f"unknown audio-visual corpus {name!r}; choose one of {', '.join(AV_CORPORA)}")
    return AV_CORPORA[name](root)
