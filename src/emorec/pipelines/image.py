"""``emorec analyze photo.jpg``: every face of a still image (JPEG, PNG, TIFF, WebP, BMP) with its box, landmarks, the 7
class probabilities of the face model and valence/arousal — what users of py-feat or OpenFace try first.

Outputs (:meth:`ImageResult.save`): ``faces.csv`` (one row per face), ``landmarks.npz`` (N × 468 × 2 pixels),
``annotated.png`` (boxes and labels), ``summary.json`` and ``report.html``. A file without a face is an error (exit 2
for a single file; listed in a batch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emorec.emotion_space import EMOTIONS, project_probs, valence_arousal_of
from emorec.errors import MediaError, MediaNotFoundError

__all__ = ["ImageResult", "analyze_image", "is_image"]


def is_image(path: str | Path) -> bool:
    """Whether ``path`` names a still image by its extension (:data:`emorec.io.media.IMAGE_EXTENSIONS`)."""
    from emorec.io.media import IMAGE_EXTENSIONS

    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


@dataclass
class ImageResult:
    """A photo's faces: ``faces`` (one row per face: ``face``, ``x0 y0 x1 y1`` pixels, ``score``, ``emotion``,
    ``prob_<class>``, ``valence``, ``arousal``), ``landmarks`` (N, 468, 2) pixels, ``annotated`` (H, W, 3) uint8 RGB and
    ``summary`` (``summary.json``)."""

    path: Path
    faces: pd.DataFrame
    landmarks: np.ndarray
    annotated: np.ndarray
    summary: dict

    def save(self, out: str | Path) -> Path:
        """Write the outputs into ``out`` (created); returns the folder."""
        from emorec.report.html import png_bytes, write_image_report

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.faces.to_csv(out / "faces.csv", index=False)
        np.savez_compressed(out / "landmarks.npz", landmarks=self.landmarks)
        (out / "annotated.png").write_bytes(png_bytes(self.annotated))
        (out / "summary.json").write_text(json.dumps(self.summary, indent=1))
        write_image_report(self, out / "report.html")
        return out


def _read(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise MediaNotFoundError(path, "file not found")
    if path.stat().st_size == 0:
        raise MediaError(path, "file is empty (0 bytes)")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)  # EXIF orientation applied
    if image is None:
        raise MediaError(path, "not an image OpenCV can read (corrupt, truncated or not an image)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _annotate(image: np.ndarray, faces: pd.DataFrame) -> np.ndarray:
    import cv2

    out = image.copy()
    thick = max(2, int(round(max(image.shape[:2]) / 400)))
    for r in faces.itertuples():
        p0, p1 = (int(r.x0), int(r.y0)), (int(r.x1), int(r.y1))
        cv2.rectangle(out, p0, p1, (255, 200, 0), thick)
        label = f"{r.face}: {r.emotion} {getattr(r, f'prob_{r.emotion}'):.2f}"
        scale = max(0.5, thick / 3)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        y = max(th + 4, p0[1] - 4)
        cv2.rectangle(out, (p0[0], y - th - 4), (p0[0] + tw + 4, y + 2), (255, 200, 0), -1)
        cv2.putText(out, label, (p0[0] + 2, y - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick)
    return out


def analyze_image(path: str | Path, out: str | Path | None = None, max_faces: int = 20, face_model: str = "face_cnn",
                  face_precision: str = "int8", face_weights: str | Path | None = None, face_prior: str = "uniform") -> ImageResult:
    """Read every face of a still image.

    Parameters
    ----------
    path : str or Path
        JPEG, PNG, TIFF, WebP or BMP.
    out : str or Path or None
        Folder for the outputs; None writes nothing.
    max_faces : int
        The most confident faces kept.
    face_model : {"face_cnn", "face_cnn_distilled"}
        Which shipped face CNN reads the faces (:data:`emorec.readings.face.FACE_MODEL_NETWORKS`).
    face_precision : {"int8", "float32"}
        Its arithmetic, as in ``analyze`` (int8 where the package has the graph).
    face_weights : str, Path or None
        A user's face_cnn weights instead of the shipped network (float32).
    face_prior : {"uniform", "training"}
        The class prior of the reading, as in ``analyze`` (:data:`emorec.readings.face.FACE_PRIORS`).

    Returns
    -------
    ImageResult

    Raises
    ------
    MediaError
        Missing, empty or unreadable file, or no face found.
    ValueError
        Unknown ``face_model``, ``face_precision`` or ``face_prior``; ``face_weights`` that are not face_cnn weights.
    FileNotFoundError
        No file at ``face_weights``.
    """
    from emorec.features.face import check_face_precision, detect_faces, face_cnn_engine, face_cnn_outputs
    from emorec.readings.face import FACE_MODEL_NETWORKS, FACE_PRIOR_TAU, adjust_face_probs, check_face_prior, face_network

    if face_model not in FACE_MODEL_NETWORKS:
        raise ValueError(f"images are read by one of {sorted(FACE_MODEL_NETWORKS)}, not {face_model!r}")
    check_face_precision(face_precision)
    check_face_prior(face_prior)
    network = face_network(face_model, face_weights)

    path = Path(path)
    image = _read(path)
    boxes, scores, landmarks, crops = detect_faces(image, max_faces)
    if not len(boxes):
        raise MediaError(path, "no face found in the image")
    engine = face_cnn_engine("int8" if face_precision == "int8" else "onnxruntime", network=network)
    _, probs, classes = face_cnn_outputs(crops, engine=engine, network=network)
    if face_prior == "uniform":
        probs = adjust_face_probs(probs, classes, face_weights)
    common = project_probs(probs, classes)
    va = common @ valence_arousal_of(EMOTIONS)
    b = boxes.astype(np.float64).round(1)
    faces = pd.DataFrame({"face": np.arange(1, len(boxes) + 1), "x0": b[:, 0], "y0": b[:, 1], "x1": b[:, 2], "y1": b[:, 3], "score": scores.astype(np.float64).round(3), "emotion": [EMOTIONS[i] for i in common.argmax(1)],
                          **{f"prob_{e}": common[:, k].round(4) for k, e in enumerate(EMOTIONS)}, "valence": va[:, 0].round(4), "arousal": va[:, 1].round(4)})
    h, w = image.shape[:2]
    summary = {"file": str(path), "kind": "image", "width": w, "height": h, "num_faces": len(faces),
               "faces": json.loads(faces.to_json(orient="records")), "gaps": [] if np.isfinite(landmarks).all() else
               [f"face landmarks not found for {int((~np.isfinite(landmarks).all(axis=(1, 2))).sum())} face(s): cropped from the box, unrotated"],
               "models": {"face": f"{face_model if face_weights is None else Path(face_weights).name} ({'int8' if engine == 'int8' else 'float32'}, mirror-image averaging) on eye-aligned 48×48 grey crops; "
                                  "MediaPipe face detection + face mesh"
                                  + (f"; classes re-weighted to a uniform prior (training frequencies^-{FACE_PRIOR_TAU:g})" if face_prior == "uniform" else "")}}
    result = ImageResult(path, faces, landmarks, _annotate(image, faces), summary)
    if out is not None:
        result.save(out)
    return result
