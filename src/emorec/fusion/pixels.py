"""Pixel and MFCC inputs of ``amcm_cmtam`` (paper 004), built the same way for training corpora
(:mod:`emorec.training.pixels`) and for ``emorec analyze --fusion amcm_cmtam`` (:class:`~emorec.fusion.amcm.AMCMFusion`).

- :func:`face_frames` — ``frames`` face crops spread evenly over the frames where a face is present, resized to
  ``image`` × ``image``, as (frames, 3·image·image) float32 in [0, 1]. Grey crops (``face.track``'s ``crops_grey``, the
  still-image training faces) are repeated over the three channels; RGB crops (``crops_rgb``, the paper's input) are
  kept in colour unless ``grey``.
- :func:`mfcc_span` — the MFCC frames (100 Hz, ``audio.logmel``'s ``mfcc``) of a time span.
"""

from __future__ import annotations

import numpy as np

__all__ = ["face_frames", "mfcc_span"]


def face_frames(crops: np.ndarray, present: np.ndarray, frames: int, image: int, grey: bool = True, shifts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sample and format face crops for the AMCM video stream.

    Parameters
    ----------
    crops : (N, H, W) or (N, H, W, 3) uint8
        Aligned face crops (grey or RGB), one per frame.
    present : (N,) bool
        Frames with a face.
    frames : int
        Crops to return (t): evenly spaced over the present frames (repeated when fewer are present).
    image : int
        Output side in pixels.
    grey : bool
        Turn RGB crops grey (then repeated over 3 channels), so colour and grey training faces look alike.
    shifts : (frames, 2) int or None
        Pixel shifts (dx, dy) applied after resizing (augmentation of still images).

    Returns
    -------
    x : (frames, 3 · image · image) float32 in [0, 1] (channel-first per crop, flattened)
    mask : (frames,) bool — all False (and ``x`` zeros) when no frame has a face
    """
    import cv2

    idx = np.flatnonzero(present)
    out = np.zeros((frames, 3, image, image), np.float32)
    if not len(idx):
        return out.reshape(frames, -1), np.zeros(frames, bool)
    pick = idx[np.round(np.linspace(0, len(idx) - 1, frames)).astype(int)]
    for k, i in enumerate(pick):
        crop = crops[i]
        if crop.ndim == 3 and grey:
            crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        crop = cv2.resize(crop, (image, image), interpolation=cv2.INTER_AREA if crop.shape[0] > image else cv2.INTER_LINEAR)
        if shifts is not None and (shifts[k] != 0).any():
            m = np.float32([[1, 0, shifts[k, 0]], [0, 1, shifts[k, 1]]])
            crop = cv2.warpAffine(crop, m, (image, image), borderMode=cv2.BORDER_REPLICATE)
        crop = crop.astype(np.float32) / 255.0
        out[k] = crop[None] if crop.ndim == 2 else crop.transpose(2, 0, 1)
    return out.reshape(frames, -1), np.ones(frames, bool)


def mfcc_span(mfcc: np.ndarray, begin: float, end: float, rate: float = 100.0) -> np.ndarray:
    """(T, n_mfcc) float32: the MFCC frames from ``begin`` to ``end`` seconds (at least one frame when the clip has any)."""
    a, b = int(np.floor(begin * rate)), int(np.ceil(end * rate))
    part = mfcc[max(0, a) : max(a + 1, min(b, len(mfcc)))]
    return np.asarray(part, np.float32)
