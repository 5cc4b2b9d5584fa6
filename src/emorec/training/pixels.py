"""Corpora of face-crop pixels and MFCCs for ``amcm_cmtam`` (paper 004), the inputs of :mod:`emorec.fusion.pixels`:
``x["audio"]`` (T_a, n_mfcc) MFCC frames at 100 Hz (``audio.logmel``), ``x["video"]`` (frames, 3·image·image) face crops in
[0, 1] (the two modalities have different lengths; :func:`~emorec.training.multimodal.collate` pads each on its own).

- :func:`composite_pixel_corpus` — a composite split file (RAVDESS voice × CK+/FER2013 face, label-paired): the face is a
  48×48 grey still image, repeated over the frames with small random shifts (seeded), resized to ``image``.
- :func:`av_pixel_corpus` — a real audio-visual corpus from a user's copy (``ravdess_video``, ``ravdess_video_song``,
  ``enterface``, the MEAD clips): aligned crops of the tracked face (``face.track``'s grey crops, or its RGB crops with
  ``grey=False``), with the folds of :func:`~emorec.training.multimodal.av_folds` (speaker-independent or random 5-fold).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emorec.data.composite import COMPOSITE_LABEL, read_composite
from emorec.emotion_space import EMOTIONS
from emorec.fusion.pixels import face_frames
from emorec.store import FeatureStore
from emorec.training.multimodal import Example, MultimodalCorpus, av_folds

__all__ = ["av_pixel_corpus", "composite_pixel_corpus"]

MAX_SHIFT = 2 / 48
"""Largest random shift of a still face, as a share of its side (2 px of a 48-px FER2013/CK+ image)."""


def _mfcc(clip) -> tuple[np.ndarray, np.ndarray]:
    rec = clip.records.get("audio.logmel")
    if rec is None or not len(rec["mfcc"]):
        return np.zeros((1, 40), np.float32), np.zeros(1, bool)
    return rec["mfcc"].astype(np.float32), np.ones(len(rec["mfcc"]), bool)


def composite_pixel_corpus(split: str | Path, data: str | Path, store: str | Path | FeatureStore | None, frames: int = 16, image: int = 112,
                           workers: int = 2, seed: int = 0, limit: int | None = None) -> MultimodalCorpus:
    """A composite split file as pixel + MFCC examples (see the module docstring); ``limit``: examples per fold (smoke runs).

    Raises
    ------
    DatasetError
        Missing split file or source file.
    RuntimeError
        Feature extraction failed for some voice clips.
    """
    import cv2

    from emorec.errors import DatasetError
    from emorec.pipelines.extract import stored_clips

    table, _, cfg = read_composite(split)
    if limit is not None:
        table = table.groupby("fold", group_keys=False).head(limit).reset_index(drop=True)
    root = Path(data)
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    voices = dict(stored_clips([root / p for p in table.voice_path], store, ("audio.logmel",), workers))
    rng = np.random.default_rng(seed)
    shift = max(1, int(round(MAX_SHIFT * image)))
    examples = []
    for r in table.itertuples():
        audio, amask = _mfcc(voices[root / r.voice_path])
        paths = [root / p for p in r.face_paths.split(";")]
        stills = []
        for p in paths:
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise DatasetError(p, "face image missing or unreadable")
            stills.append(img)
        crops = np.stack([stills[min(k * len(stills) // frames, len(stills) - 1)] for k in range(frames)])
        video, vmask = face_frames(crops, np.ones(frames, bool), frames, image, shifts=rng.integers(-shift, shift + 1, size=(frames, 2)))
        vmask &= bool(r.has_video)
        amask &= bool(r.has_audio)
        x = {"audio": audio * amask[:, None], "video": video * vmask[:, None]}
        examples.append(Example(r.id, r.voice_speaker, int(r.fold), int(r.label), x, {"audio": amask, "video": vmask}))
    dims = {"audio": examples[0].x["audio"].shape[1], "video": 3 * image * image}
    dataset = (f"{COMPOSITE_LABEL}: {len(examples)} examples (RAVDESS voice MFCC × CK+/FER2013 face pixels, {frames} frames of {image}×{image}, "
               f"seed {cfg.seed}; {Path(split).name})")
    protocol = "C6: composite 6 folds, disjoint in RAVDESS actors, CK+ subjects, FER2013 images and MELD dialogues"
    return MultimodalCorpus(examples, EMOTIONS, dims, dataset, protocol)


def av_pixel_corpus(name: str, root: str | Path, store: str | Path | FeatureStore | None, frames: int = 16, image: int = 112, grey: bool = True,
                    folds: str = "speaker", workers: int = 2, seed: int = 0) -> MultimodalCorpus:
    """A labelled real audio-visual corpus (:data:`emorec.data.av_clips.AV_CORPORA`) as pixel + MFCC examples, one per clip.

    Raises
    ------
    DatasetError, ValueError
        Missing folder, unknown corpus or folds, no labelled clip.
    RuntimeError
        Feature extraction failed for some files.
    """
    from emorec.data.av_clips import load_av_corpus
    from emorec.pipelines.extract import stored_clips

    table = load_av_corpus(name, root)
    table = table[table.label.notna()].reset_index(drop=True)
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    params = None if grey else {"face.track": {"rgb_size": image}}
    clips = dict(stored_clips(list(table.path), store, ("face.track", "audio.logmel"), workers, params))
    fold, protocol = av_folds(name, table, folds, seed=seed)
    examples = []
    for r, k in zip(table.itertuples(), fold):
        clip = clips[r.path]
        audio, amask = _mfcc(clip)
        track = clip.records.get("face.track")
        if track is not None:
            video, vmask = face_frames(track["crops_grey" if grey else "crops_rgb"], track["mask"].astype(bool), frames, image, grey=grey)
        else:
            video, vmask = np.zeros((frames, 3 * image * image), np.float32), np.zeros(frames, bool)
        examples.append(Example(r.id, r.speaker, int(k), EMOTIONS.index(r.label), {"audio": audio, "video": video}, {"audio": amask, "video": vmask}))
    dims = {"audio": examples[0].x["audio"].shape[1], "video": 3 * image * image}
    return MultimodalCorpus(examples, EMOTIONS, dims, f"{name}: {len(examples)} real audio-visual clips ({Path(root).name}); face pixels + MFCC", protocol)
