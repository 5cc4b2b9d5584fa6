"""Score an ``analyze`` configuration on real audio-visual clips, clip by clip — fused and per modality.

Each clip with a common class is analysed (no training on it); its fused class is
the summary's clip-level emotion (mean fused probabilities), and each modality's
class is the argmax of its own probabilities averaged over the frames it covers,
projected onto :data:`~emorec.emotion_space.EMOTIONS`. WA, UA and weighted F1 over
the clips, the share of clips whose mean fused (valence, arousal) lies in the quadrant of their class's coordinates
(``quadrant_accuracy``), with the confusion matrix and the per-clip table, go into a result JSON
that ``emorec results`` renders (protocol ``AV-real``). The face reading is also scored frame by frame against its
clip's class (``per_modality["face_frames"]``): what the clip-level mean over the face track adds.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

import emorec.metrics as metrics
from emorec.data.av_clips import load_av_corpus
from emorec.emotion_space import EMOTIONS, project_probs, valence_arousal_of
from emorec.evaluation.runner import result_document, write_result

__all__ = ["evaluate_av"]


def _modality_probs(timeline, prefix: str, classes: tuple[str, ...]) -> np.ndarray | None:
    """``(num_frames, len(EMOTIONS))``: a modality's probabilities on the frames it covers, projected onto EMOTIONS."""
    cols = [f"{prefix}_{c}" for c in classes]
    if not classes or not all(c in timeline for c in cols):
        return None
    part = timeline[cols].dropna()
    return project_probs(part.to_numpy(), classes) if not part.empty else None


def evaluate_av(corpus: str, data: str | Path, store=None, fusion: str = "masked_mean", face_model: str = "face_cnn", voice_model: str = "voice_probe",
                text_model: str = "text_emobank", results: str | Path | None = None, face_precision: str = "int8",
                face_weights: str | Path | None = None, face_prior: str = "uniform", face_baseline: str = "none") -> dict:
    """Analyse every labelled clip of a real audio-visual corpus and score the readings.

    Parameters
    ----------
    corpus : str
        ``"mead_dreamtalk"`` or ``"mead_eamm"`` (:data:`~emorec.data.av_clips.AV_CORPORA`).
    data : str or Path
        The corpus folder.
    store : FeatureStore, path or None
    fusion, face_model, voice_model, text_model, face_precision : str
        The ``analyze`` configuration scored (a float32 face CNN is named in the result's model).
    face_weights : str, Path or None
        A user's face_cnn weights for the face reading (``analyze(face_weights=...)``; the file is named in the result's
        model, its digest recorded).
    face_prior : {"uniform", "training"}
        The face reading's class prior (``analyze(face_prior=...)``), named in the result's model.
    face_baseline : {"none", "clip"}
        The face reading's per-person calibration (``analyze(face_baseline=...)``), named in the result's model when on.
    results : str, Path or None
        Where to write the result JSON.

    Returns
    -------
    dict
        ``metrics`` (fused: wa, ua, f1_weighted, confusion), ``per_modality`` (the same per reading, over the clips
        where it is present), ``clips`` (one row per clip).

    Raises
    ------
    DatasetError
        Missing folder or no clip.
    ValueError
        Unknown corpus, fusion or model.
    """
    from emorec.pipelines.analyze import analyze

    table = load_av_corpus(corpus, data)
    left_out = table[table.label.isna()]
    table = table[table.label.notna()]
    rows, frames = [], []
    for r in table.itertuples():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze(r.path, None, store=store, plot=False, fusion=fusion, face_model=face_model, voice_model=voice_model, text_model=text_model,
                          face_precision=face_precision, face_weights=face_weights, face_prior=face_prior, face_baseline=face_baseline)
        row = {"id": r.id, "speaker": r.speaker, "label": r.label, "fused": res.summary["emotion"],
               "valence": res.summary["valence"], "arousal": res.summary["arousal"]}
        if row["valence"] is not None:  # the expected quadrant: the signs of the class's (valence, arousal) coordinates
            expected = valence_arousal_of([r.label])[0]
            row["quadrant_match"] = bool(np.sign(row["valence"]) == np.sign(expected[0]) and np.sign(row["arousal"]) == np.sign(expected[1]))
        tl = res.timeline
        for modality in ("face", "voice"):  # the model's own classes are the timeline's <modality>_<class> columns
            own = tuple(c[len(modality) + 1 :] for c in tl.columns if c.startswith(f"{modality}_") and c.split("_", 1)[1] not in ("present", "valence", "arousal"))
            probs = _modality_probs(tl, modality, own)
            row[modality] = EMOTIONS[int(np.argmax(probs.mean(axis=0)))] if probs is not None else None
            if modality == "face" and probs is not None:  # frame by frame, for the frame-level score
                frames.append((EMOTIONS.index(r.label), probs.argmax(axis=1)))
        rows.append(row)

    def score(key: str) -> dict | None:
        sel = [x for x in rows if x[key] is not None]
        if not sel:
            return None
        truth = [EMOTIONS.index(x["label"]) for x in sel]
        pred = [EMOTIONS.index(x[key]) for x in sel]
        rep = metrics.classification_report(truth, pred, len(EMOTIONS))
        return {"wa": rep["wa"], "ua": rep["ua"], "f1_weighted": rep["f1_weighted"], "num_samples": len(sel), "confusion": rep["confusion"]}

    fused = score("fused")
    per_modality = {m: r for m in ("face", "voice") if (r := score(m)) is not None}
    if frames:  # each face frame's class against its clip's: no temporal aggregation
        truth = np.concatenate([np.full(len(p), t) for t, p in frames])
        rep = metrics.classification_report(truth, np.concatenate([p for _, p in frames]), len(EMOTIONS))
        per_modality["face_frames"] = {"wa": rep["wa"], "ua": rep["ua"], "f1_weighted": rep["f1_weighted"], "num_samples": len(truth), "unit": "frames",
                                       "row": "face reading frame by frame, without the mean over the clip", "confusion": rep["confusion"]}
    quadrants = [x["quadrant_match"] for x in rows if "quadrant_match" in x]
    if fused is not None and quadrants:
        fused["quadrant_accuracy"] = float(np.mean(quadrants))
    from emorec.models.weights import weights_digest

    face = f"{face_model} weights {Path(face_weights).name}" if face_weights is not None else face_model
    extra = {"face_weights_digest": weights_digest(str(face_weights))} if face_weights is not None else {}
    result = result_document(
        f"analyze (fusion {fusion}; face {face}{' float32' if face_precision == 'float32' or face_weights is not None else ''}"
        f", {face_prior} class prior{', person baseline over the clip' if face_baseline == 'clip' else ''}, voice {voice_model}, "
        f"words {text_model})",
        f"{corpus}: {len(rows)} real clips with a common class, {table.speaker.nunique()} speakers"
        + (f" ({len(left_out)} contempt clips left out)" if len(left_out) else ""),
        "AV-real", [0], fused, per_modality=per_modality, clips=rows, classes=list(EMOTIONS),
        **extra,
    )
    write_result(result, results)
    return result
