"""Several people in one video (``emorec analyze``): when the primary-face tracker saw more than one face, every face is
tracked (``face.people``), read, and scored for speaking (:func:`~emorec.features.people.active_speaker`).

Adds ``faces.csv`` (one row per frame and person: time, track, box, mouth opening, speaking, class probabilities), a
``speaker_track`` column in the timeline (whose turn each speech frame is; the voice and words of that frame belong to
that person), and ``summary.json: people`` (per person: seconds visible, seconds speaking, mean face reading).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emorec.clip import ClipFeatures
from emorec.emotion_space import EMOTIONS, project_probs

__all__ = ["people_outputs", "several_faces"]


def several_faces(features: ClipFeatures) -> bool:
    """Whether the primary-face tracker counted more than one face on some frame."""
    track = features.records.get("face.track")
    return track is not None and "num_faces" in track.arrays and int(np.max(track["num_faces"], initial=0)) > 1


def people_outputs(features: ClipFeatures, audio: np.ndarray, sample_rate: int, face_prior: str = "uniform",
                   face_weights: str | Path | None = None, face_baseline: str = "none") -> tuple[pd.DataFrame, list[dict], np.ndarray]:
    """From ``face.people`` and the voice activity: the faces table, the per-person summary and (T,) speaker track (−1: none).

    Parameters
    ----------
    features : ClipFeatures with ``face.people`` (and ``audio.vad`` for speech)
    audio : (num_samples,) float32 — the clip's audio (the speech envelope), empty without audio
    sample_rate : int
    face_prior : {"uniform", "training"}
        The class prior of each person's reading, as the primary face's (:class:`~emorec.readings.face.FaceReading`).
    face_weights : str, Path or None
        The user's face weights face.people ran (their ``class_prior``), None for the shipped networks.
    face_baseline : {"none", "clip"}
        ``clip``: each person's reading relative to their own baseline over the frames they are seen
        (:func:`~emorec.readings.face.person_relative`), as the primary face's.

    Raises
    ------
    ValueError
        An unknown ``face_prior`` or ``face_baseline``.
    """
    from emorec.readings.face import check_face_baseline, check_face_prior, face_reading_probs

    check_face_prior(face_prior)
    check_face_baseline(face_baseline)
    from emorec.features.people import active_speaker, speech_envelope

    rec = features.records["face.people"]
    present, t = rec["present"], features.num_frames
    k = present.shape[0]
    speech = features.series["audio.vad"].mask if "audio.vad" in features.series else np.zeros(t, bool)
    if len(audio) and speech.any():
        speaker, sync = active_speaker(rec["mouth"], present, speech_envelope(audio, sample_rate, t), speech)
    else:
        speaker, sync = np.full(t, -1), np.full((k, t), np.nan)
    classes = tuple(rec.meta["classes"])
    probs = np.nan_to_num(rec["probs"])  # each person's reading as the primary face's
    probs = np.stack([face_reading_probs(probs[j], present[j], classes, face_weights, face_prior, face_baseline)[0] for j in range(k)]) if k else probs
    probs = project_probs(probs, classes) if k else np.zeros((0, t, len(EMOTIONS)))
    rows = []
    times = np.round(features.timestamps, 3)
    for j in range(k):
        ks = np.flatnonzero(present[j])
        b = rec["boxes"][j, ks]
        rows.append(pd.DataFrame({"time": times[ks], "track": j + 1, "x0": b[:, 0], "y0": b[:, 1], "x1": b[:, 2], "y1": b[:, 3],
                                  "mouth_opening": rec["mouth"][j, ks], "sync": sync[j, ks], "speaking": speaker[ks] == j,
                                  **{f"prob_{e}": probs[j, ks, i] for i, e in enumerate(EMOTIONS)}}))
    faces = pd.concat(rows, ignore_index=True).sort_values(["time", "track"], ignore_index=True) if rows else pd.DataFrame()
    people = []
    for j in range(k):
        mean = probs[j, present[j]].mean(axis=0)
        people.append({"track": j + 1, "seconds_visible": round(float(present[j].sum() / features.rate), 2),
                       "seconds_speaking": round(float((speaker == j).sum() / features.rate), 2), "emotion": EMOTIONS[int(mean.argmax())],
                       "probabilities": {e: round(float(p), 4) for e, p in zip(EMOTIONS, mean)}})
    return faces, people, np.where(speaker >= 0, speaker + 1, -1)
