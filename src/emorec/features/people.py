"""Several people in a video: every face tracked with its own identity and reading, and who is speaking.

- ``face.people`` (:class:`PeopleExtractor`): every ``detect_every``-th 10 Hz frame (default: every frame) every face is detected (MediaPipe),
  associated with the existing tracks by box overlap (IoU > 0.3, greedy, best overlap first) — a track that misses frames
  keeps its identity for up to ``max_gap`` seconds (re-identification after short occlusions or missed detections); on
  the frames between, each face is followed by its face mesh (as ``face.track`` follows the primary face), and where a
  mesh loses its face the detector runs on that frame. Each face gets its face-mesh mouth opening (inner-lip gap / face
  height) and an eye-aligned grey crop, read by ``face_cnn`` (7 class probabilities). On the frames where ``face.track``
  ran the same detector, its detections and its primary face's mesh and crop are reused instead of computed again.
- :func:`active_speaker`: audio-visual synchrony (the heuristic of the active-speaker literature, e.g. Chung & Zisserman's
  SyncNet idea without a learned embedding): per sliding window, the Pearson correlation between each track's mouth
  opening and the speech energy envelope; each run of speech frames (in pieces of at most one window) goes to the track
  whose mean correlation over it is highest (and above a floor) — speaker turns, not frame-by-frame flicker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emorec.features.base import EXTRACTORS, ClipInput, Extractor, Record
from emorec.features.face import _iou  # the primary-face tracker's overlap measure
from emorec.io.media import iter_video_frames

__all__ = ["PeopleExtractor", "active_speaker", "speech_envelope"]

_LIPS = (13, 14)  # inner upper and lower lip (MediaPipe face-mesh indices)
_FACE_HEIGHT = (10, 152)  # forehead top, chin


@EXTRACTORS.register("face.people")
class PeopleExtractor(Extractor):
    """Every face of a video, tracked (see the module docstring).

    Parameters
    ----------
    max_faces : int
        Most tracks kept (the most confident detections first).
    max_gap : float
        Seconds a track may go undetected and keep its identity.
    max_side : int
        Frames are downscaled to this longest side before detection.
    detect_every : int
        Grid frames between full-frame detections (1, the default = every frame); a face that enters is found at the next
        detection. 3 cuts face.people's time by about a tenth, but on one of six encodings of the two-talking-heads test
        video the speaking side dropped to 19 % of the speech frames (100 % with 1): the mouth signal of followed frames
        is not yet as reliable as the detector's.
    network : {"ensemble", "distilled"} or str
        The shipped face CNN that reads each person (:data:`emorec.features.face.FACE_CNN_WEIGHTS`), or the path of a
        user's face_cnn weights (their digest enters the store key); ``analyze`` passes its face model's.
    precision : {"int8", "float32"}
        As :class:`~emorec.features.face.FaceCnnExtractor`'s: a person's lane and the primary face's reading agree.

    Raises
    ------
    ValueError
        Unknown ``precision``, or a ``network`` file that is not face_cnn weights.
    FileNotFoundError
        ``network`` is neither a shipped network nor a file.

    Record arrays
    -------------
    boxes : (num_tracks, num_frames, 4) float32, ``x0, y0, x1, y1`` as fractions of the frame (NaN where absent)
    present : (num_tracks, num_frames) bool
    mouth : (num_tracks, num_frames) float32, mouth opening / face height (NaN where absent or no mesh)
    probs : (num_tracks, num_frames, 7) float32, the face CNN's class probabilities (FER2013 order; NaN where absent)
    score : (num_tracks, num_frames) float32, detector confidence
    mask : (num_frames,) bool, any face present

    Meta: ``classes`` (of ``probs``), ``num_tracks``, ``network``, ``precision`` (which arithmetic ran).
    """

    name = "face.people"
    version = "4"  # 2: the face CNN as the primary face reads it (int8 by default); 3: detect_every (faces followed by the mesh between detections); 4: face.track's detections reused
    needs = "video"
    requires = ("face.track",)

    def __init__(self, max_faces: int = 6, max_gap: float = 1.0, max_side: int = 640, network: str = "ensemble", precision: str = "int8",
                 detect_every: int = 1):
        from emorec.features.face import FACE_CNN_WEIGHTS, check_face_precision, check_face_weights

        if network not in FACE_CNN_WEIGHTS:
            network = str(check_face_weights(network))
        check_face_precision(precision, "face.people precision")
        self.max_faces, self.max_gap, self.max_side = max_faces, max_gap, max_side
        self.network, self.precision = network, precision
        self.detect_every = max(1, int(detect_every))

    def params(self):
        from emorec.features.face import FACE_CNN_WEIGHTS
        from emorec.models.weights import weights_digest

        network = self.network if self.network in FACE_CNN_WEIGHTS else f"weights {weights_digest(self.network)}"  # a file: by content
        return {"max_faces": self.max_faces, "max_gap": self.max_gap, "max_side": self.max_side, "network": network, "precision": self.precision,
                "detect_every": self.detect_every}

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        import cv2

        from emorec.features.face import FACE_CNN_WEIGHTS, _mediapipe, _mesh_points, align_face, detect_faces, face_cnn_engine, face_cnn_outputs

        track = deps["face.track"]
        engine = face_cnn_engine("int8" if self.precision == "int8" else "onnxruntime", network=self.network)
        mesh = _mediapipe()[1]

        t = clip.num_frames
        gap = max(1, int(round(self.max_gap * clip.rate)))
        tracks: list[dict] = []  # {"last": box px, "seen": frame, "score", "offset", "frames": {k: (box frac, score, mouth, crop)}}
        last_detection, followed = -(10**9), []  # the tracks found at the last detection (followed by the mesh since)

        def keep(tr: dict, k: int, box: np.ndarray, score: float, pts: np.ndarray, crop: np.ndarray, size: np.ndarray) -> None:
            tr["last"], tr["seen"] = box, k
            mouth = np.nan
            if np.isfinite(pts).all():
                height = np.linalg.norm(pts[_FACE_HEIGHT[0]] - pts[_FACE_HEIGHT[1]])
                mouth = float(np.linalg.norm(pts[_LIPS[0]] - pts[_LIPS[1]]) / max(height, 1e-6))
            tr["frames"][k] = (box / size, score, mouth, crop)

        for k, frame in iter_video_frames(clip.path, clip.rate, self.max_side, num_frames=t):
            if k % 20 == 0:
                clip.progress(k / t)
            h, w = frame.shape[:2]
            size = np.array([w, h, w, h], np.float32)
            if followed and k - last_detection < self.detect_every and all(tracks[i]["seen"] == k - 1 for i in followed):
                meshes = [_mesh_points(mesh, frame, tracks[i]["last"]) for i in followed]
                if all(pts is not None for pts in meshes):  # every face followed: no detector on this frame
                    for i, pts in zip(followed, meshes):
                        box = pts.mean(axis=0).repeat(2) + tracks[i]["offset"]
                        keep(tracks[i], k, box, tracks[i]["score"], pts, cv2.cvtColor(align_face(frame, pts, box, 64), cv2.COLOR_RGB2GRAY), size)
                    continue
            last_detection = k
            if track["detected"][k] and tuple(track.meta["frame_size"]) == (w, h):
                boxes, scores, landmarks, crops = _detected_by_track(track, k, frame, self.max_faces)
            else:
                boxes, scores, landmarks, crops = detect_faces(frame, self.max_faces)
            live = [i for i, tr in enumerate(tracks) if k - tr["seen"] <= gap]
            pairs = sorted(((_iou(boxes[d], tracks[i]["last"]), d, i) for d in range(len(boxes)) for i in live), reverse=True)
            taken_d, taken_t, match = set(), set(), {}
            for overlap, d, i in pairs:
                if overlap <= 0.3 or d in taken_d or i in taken_t:
                    continue
                match[d] = i
                taken_d.add(d)
                taken_t.add(i)
            for d in range(len(boxes)):
                if d not in match:
                    if len(tracks) >= self.max_faces * 4:  # a pathological clip: stop opening tracks
                        continue
                    tracks.append({"last": boxes[d], "seen": k, "frames": {}})
                    match[d] = len(tracks) - 1
                tr = tracks[match[d]]
                pts = landmarks[d]
                tr["score"] = scores[d]
                tr["offset"] = boxes[d] - pts.mean(axis=0).repeat(2) if np.isfinite(pts).all() else None  # box from the mesh between detections
                keep(tr, k, boxes[d], scores[d], pts, crops[d], size)
            followed = [match[d] for d in range(len(boxes)) if d in match and tracks[match[d]].get("offset") is not None]
            if len(followed) < len(boxes):  # a face without a mesh cannot be followed: detect again on the next frame
                followed = []
        tracks = [tr for tr in tracks if len(tr["frames"]) >= 2]  # a single-frame detection is noise
        tracks.sort(key=lambda tr: -len(tr["frames"]))
        tracks = tracks[: self.max_faces]
        n = len(tracks)
        boxes = np.full((n, t, 4), np.nan, np.float32)
        present = np.zeros((n, t), bool)
        mouth = np.full((n, t), np.nan, np.float32)
        score = np.zeros((n, t), np.float32)
        probs = np.full((n, t, 7), np.nan, np.float32)
        classes: tuple[str, ...] = ()
        for j, tr in enumerate(tracks):
            ks = sorted(tr["frames"])
            for k in ks:
                boxes[j, k], score[j, k], mouth[j, k], _ = tr["frames"][k]
            present[j, ks] = True
            _, p, classes = face_cnn_outputs(np.stack([tr["frames"][k][3] for k in ks]), engine=engine, network=self.network)
            probs[j, ks] = p
        return Record({"boxes": boxes, "present": present, "mouth": mouth, "probs": probs, "score": score, "mask": present.any(axis=0)},
                      {"classes": list(classes), "num_tracks": n,
                       "detector": "mediapipe.face_detection(model_selection=1) on "
                                   + ("every 10 Hz frame" if self.detect_every == 1 else f"one 10 Hz frame in {self.detect_every}")
                                   + " (face.track's detections where it ran)",
                       "network": self.network if self.network in FACE_CNN_WEIGHTS else Path(self.network).name,
                       "precision": "int8" if engine == "int8" else "float32"})


def _detected_by_track(track: Record, k: int, frame: np.ndarray, max_faces: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~emorec.features.face.detect_faces` on frame ``k``, where ``face.track`` ran the same detector on the same
    frame: its detections are taken instead of detecting again, and its primary face's landmarks and crop (the face mesh
    ran on the same region) instead of running the mesh again; the other faces are described as ``detect_faces`` does.
    The result is the same up to the float16 rounding of the stored landmarks (< 0.2 px)."""
    from emorec.features.face import describe_faces, most_confident

    h, w = frame.shape[:2]
    size = np.array([w, h, w, h], np.float32)
    valid = np.isfinite(track["all_scores"][k])
    keep = most_confident(track["all_scores"][k][valid], max_faces)
    boxes, scores = track["all_boxes"][k][valid][keep] * size, track["all_scores"][k][valid][keep]
    known = {}
    crops = track["crops_grey"]
    if crops.shape[1:] == (64, 64) and "crops_rgb" not in track.arrays:  # the crop detect_faces makes (else: made again)
        pts = track["landmarks"][k].astype(np.float32) * np.array([w, h], np.float32)
        known = {int(j): (pts, crops[k]) for j in np.flatnonzero(keep == track["primary"][k])}
    return (boxes, scores, *describe_faces(frame, boxes, known))


def speech_envelope(audio: np.ndarray, sample_rate: int, num_frames: int, rate: float = 10.0) -> np.ndarray:
    """(num_frames,) float32: the log RMS energy of the audio in each grid frame (the speech envelope lips follow)."""
    hop = sample_rate / rate
    out = np.full(num_frames, -10.0, np.float32)
    for k in range(num_frames):
        seg = audio[int(k * hop) : int((k + 1) * hop)]
        if len(seg):
            out[k] = np.log(np.sqrt(np.mean(seg.astype(np.float64) ** 2)) + 1e-5)
    return out


def active_speaker(mouth: np.ndarray, present: np.ndarray, envelope: np.ndarray, speech: np.ndarray, window: float = 3.0, rate: float = 10.0,
                   floor: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Who is speaking, by audio-visual synchrony.

    Parameters
    ----------
    mouth : (K, T) float — each track's mouth opening (NaN where unknown)
    present : (K, T) bool
    envelope : (T,) float — the speech energy envelope (:func:`speech_envelope`)
    speech : (T,) bool — speech frames (voice activity)
    window : float
        Seconds of each centred window over which synchrony is measured.
    rate : float
        Frames per second.
    floor : float
        A track's correlation must exceed this to be called the speaker.

    Returns
    -------
    speaker : (T,) int — the speaking track on each speech frame (one per run of speech of at most ``window`` seconds),
        −1 elsewhere or when no track is in sync
    sync : (K, T) float — each track's windowed correlation with the envelope (NaN where not measurable)
    """
    k, t = mouth.shape
    half = max(2, int(round(window * rate / 2)))
    sync = np.full((k, t), np.nan, np.float32)
    for j in range(k):
        m = np.where(present[j], mouth[j], np.nan)
        for i in range(t):
            if not present[j, i]:
                continue
            s = slice(max(0, i - half), min(t, i + half + 1))
            ok = np.isfinite(m[s])
            if ok.sum() < 5:
                continue
            a, b = m[s][ok], envelope[s][ok]
            if a.std() < 1e-6 or b.std() < 1e-6:
                continue
            sync[j, i] = float(np.corrcoef(a, b)[0, 1])
    speaker = np.full(t, -1)
    if not k:
        return speaker, sync
    step = max(1, int(round(window * rate)))
    i = 0
    while i < t:  # each run of speech frames, in pieces of at most ``window`` seconds, goes to one track
        if not speech[i]:
            i += 1
            continue
        end = i
        while end < t and speech[end] and end - i < step:
            end += 1
        with np.errstate(all="ignore"):
            means = np.array([np.nanmean(sync[j, i:end]) if np.isfinite(sync[j, i:end]).any() else -np.inf for j in range(k)])
        best = int(np.argmax(means))
        if means[best] > floor:
            speaker[i:end] = best
        i = end
    return speaker, sync
