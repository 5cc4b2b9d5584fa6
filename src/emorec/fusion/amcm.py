"""``emorec analyze --fusion amcm_cmtam``: the 004 paper's audio-visual model, one reading per utterance (the spans of
:func:`~emorec.fusion.utterance.utterance_spans`) from the utterance's face crops and MFCCs (:mod:`emorec.fusion.pixels`)."""

from __future__ import annotations

import numpy as np

from emorec.clip import ClipFeatures
from emorec.fusion.base import register_fusion
from emorec.fusion.pixels import face_frames, mfcc_span
from emorec.fusion.utterance import UtteranceModelFusion

__all__ = ["AMCMFusion"]


@register_fusion("amcm_cmtam")
class AMCMFusion(UtteranceModelFusion):
    description = ("amcm_cmtam (paper 004): per utterance, an adjacency-matrix ConvMixer over face crops and a ResNet over MFCCs, "
                   "cross-modal temporal attention; the words are not read; composite (label-paired) training data")
    model_name = "amcm_cmtam"
    requires = ("face.track", "audio.logmel", "audio.vad")

    def prepare(self, features: ClipFeatures, model) -> tuple[object, np.ndarray]:
        t = features.num_frames
        track = features.records.get("face.track")
        crops = track["crops_grey"] if track is not None else None
        face = track["mask"].astype(bool) if track is not None else np.zeros(t, bool)
        logmel = features.records.get("audio.logmel")
        mfcc = logmel["mfcc"] if logmel is not None and len(logmel["mfcc"]) else None
        speech = features.series["audio.logmel"].mask if mfcc is not None and "audio.logmel" in features.series else np.zeros(t, bool)
        cfg = model.config
        return {"crops": crops, "face": face, "mfcc": mfcc, "rate": features.rate, "frames": cfg.get("frames", 16), "image": cfg.get("image", 112),
                "n_mfcc": cfg.get("n_mfcc", 40)}, face | speech

    def span_inputs(self, prepared, span: slice) -> tuple[dict, dict]:
        import torch

        p = prepared
        if p["crops"] is not None:
            video, vmask = face_frames(p["crops"][span], p["face"][span], p["frames"], p["image"])
        else:
            video, vmask = np.zeros((p["frames"], 3 * p["image"] ** 2), np.float32), np.zeros(p["frames"], bool)
        if p["mfcc"] is not None:
            audio = mfcc_span(p["mfcc"], span.start / p["rate"], span.stop / p["rate"])
            amask = np.ones(len(audio), bool)
        else:
            audio, amask = np.zeros((1, p["n_mfcc"]), np.float32), np.zeros(1, bool)
        x = {"video": torch.from_numpy(video)[None], "audio": torch.from_numpy(audio)[None]}
        return x, {"video": torch.from_numpy(vmask)[None], "audio": torch.from_numpy(amask)[None]}
