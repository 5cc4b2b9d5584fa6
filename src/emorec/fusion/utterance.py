"""Utterance-level models as fusions for ``emorec analyze``: ``tam_ulag``, ``amh`` and ``masked_pretrain`` read the clip's stored voice, face
and word embeddings (the same inputs as ``tcn_gated``, :func:`~emorec.fusion.tcn_gated.sequence_inputs`) one utterance at a
time and give each utterance one set of class probabilities and one valence/arousal, written on its frames where some
modality is observed.

Utterances (:func:`utterance_spans`): the clip's speech segments (voice activity detection), and the stretches between
them cut into pieces of at most ``max_gap_seconds`` (a face without speech still gets a reading); a piece with no
observed modality gets none.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from emorec.clip import ClipFeatures
from emorec.emotion_space import EMOTIONS
from emorec.fusion.base import FusedReading, Fusion, cached_model, register_fusion
from emorec.fusion.tcn_gated import AUDIO_SERIES, TEXT_SERIES, VIDEO_SERIES, sequence_inputs
from emorec.readings.base import Reading
from emorec.timeseries import span_to_frames

__all__ = ["AMHFusion", "MaskedPretrainFusion", "TAMULAGFusion", "UtteranceModelFusion", "utterance_spans"]


def utterance_spans(features: ClipFeatures, max_gap_seconds: float = 4.0) -> list[slice]:
    """Frame spans of a clip's utterances: each speech segment, and the rest of the clip in pieces of at most
    ``max_gap_seconds`` (on the 10 Hz grid), in time order; together they cover every frame once."""
    t = features.num_frames
    taken = np.zeros(t, bool)
    spans = []
    segments = features.records["audio.vad"]["segments"] if "audio.vad" in features.records else []
    for b, e in segments:
        s = span_to_frames(float(b), float(e), t, features.rate)
        s = slice(s.start, s.stop) if not taken[s].any() else slice(int(s.start + np.argmin(taken[s])), s.stop)
        if s.stop > s.start and not taken[s].any():
            spans.append(s)
            taken[s] = True
    step = max(1, int(round(max_gap_seconds * features.rate)))
    k = 0
    while k < t:
        if taken[k]:
            k += 1
            continue
        end = k
        while end < t and not taken[end] and end - k < step:
            end += 1
        spans.append(slice(k, end))
        k = end
    return sorted(spans, key=lambda s: s.start)


class UtteranceModelFusion(Fusion):
    """Base of the fusions that run a registered utterance-level sequence model per utterance.

    Parameters
    ----------
    weights : str or None
        Weights file (default: the shipped ones).
    """

    model_name: ClassVar[str] = ""
    requires = (*AUDIO_SERIES, VIDEO_SERIES, TEXT_SERIES)

    def __init__(self, weights: str | None = None):
        from emorec.models import model_info

        self.weights = weights or str(model_info(self.model_name).weights_path)

    @classmethod
    def unavailable(cls) -> str | None:
        from emorec.models import model_info

        path = model_info(cls.model_name).weights_path
        return None if path is not None and path.is_file() else f"no weights at {path} (train them with `emorec train sequence {cls.model_name} --out {path}`)"

    attention_label: ClassVar[str] = "attention"
    """Prefix of the attention table's weight columns: ``hop`` → ``hop<n>_<modality>`` (one per hop), else ``<label>_<modality>``."""

    def outputs(self, features: ClipFeatures) -> tuple[list[slice], np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
        """Per utterance: the spans, the model outputs (U, K[+2]) and whether any modality is observed (U,); per frame
        whether any modality is observed (T,); and the attention table: one row per frame (``time``, ``utterance`` (−1
        outside any read utterance), one column of weights per attention step; each utterance's weights of a step sum to 1
        over its observed frames)."""
        import torch

        model = cached_model(self.model_name, self.weights)
        prepared, observed = self.prepare(features, model)
        spans = utterance_spans(features)
        present = np.array([observed[s].any() for s in spans], bool)
        outs = np.zeros((len(spans), model.num_outputs), np.float32)
        table = {"time": np.round(features.timestamps, 3), "utterance": np.full(features.num_frames, -1)}
        with torch.inference_mode():
            for i, s in enumerate(spans):
                if not present[i]:
                    continue
                xs, ms = self.span_inputs(prepared, s)
                outs[i] = model(xs, ms)[0].numpy()
                table["utterance"][s] = i
                steps = model.attention(xs, ms) if hasattr(model, "attention") else []  # masked_pretrain, amcm_cmtam: no attention table
                for n, (m, w) in enumerate(steps):
                    col = f"hop{n + 1}_{m}" if self.attention_label == "hop" else f"{self.attention_label}_{m}"
                    table.setdefault(col, np.zeros(features.num_frames, np.float32))[s] = w[0].numpy()
        return spans, outs, present, observed, pd.DataFrame(table)

    def prepare(self, features: ClipFeatures, model) -> tuple[object, np.ndarray]:
        """A clip's model inputs, built once, and (T,) bool: the frames where some modality the model reads is observed.
        Here the stored 10 Hz series of :func:`~emorec.fusion.tcn_gated.sequence_inputs` (``x``, ``mask`` dicts)."""
        x, mask = sequence_inputs(features, model.dims)
        return (x, mask), np.any(np.stack(list(mask.values())), axis=0)

    def span_inputs(self, prepared, span: slice) -> tuple[dict, dict]:
        """One utterance's inputs from :meth:`prepare`'s: ``x`` dict of (1, T, D) tensors, ``mask`` dict of (1, T) bool tensors."""
        import torch

        x, mask = prepared
        return {m: torch.from_numpy(v[span])[None] for m, v in x.items()}, {m: torch.from_numpy(v[span])[None] for m, v in mask.items()}

    def fuse(self, readings: dict[str, Reading], features: ClipFeatures) -> FusedReading:
        model = cached_model(self.model_name, self.weights)
        spans, outs, present, observed, attention = self.outputs(features)
        t, k = features.num_frames, model.num_classes
        probs, va, fmask = np.full((t, len(EMOTIONS)), np.nan), np.full((t, 2), np.nan), np.zeros(t, bool)
        for s, o, ok in zip(spans, outs, present):
            if not ok:
                continue
            frames = np.arange(s.start, s.stop)[observed[s]]  # the utterance's reading, on its observed frames
            if k == len(EMOTIONS):
                z = np.exp(o[:k] - o[:k].max())
                probs[frames] = z / z.sum()
            if model.affect:
                va[frames] = o[k : k + 2]
            fmask[frames] = True
        tables = {"attention": attention} if attention.shape[1] > 2 else {}  # models without attention write no table
        return FusedReading(probs, va, fmask, tables)


@register_fusion("tam_ulag")
class TAMULAGFusion(UtteranceModelFusion):
    attention_label = "temporal"
    description = ("tam_ulag (seed 002): per utterance, multilayer RNNs with temporal attention over voice, face and word embeddings, "
                   "per-dimension fusion in a shared space, multimodal head of a multi-task model trained with generated unimodal labels; composite (label-paired) training data")
    model_name = "tam_ulag"


@register_fusion("amh")
class AMHFusion(UtteranceModelFusion):
    attention_label = "hop"
    description = ("amh (Yoon et al. 2020, seed 003): per utterance, GRU encoders over voice, face and word embeddings and attentive "
                   "modality hopping video → audio → text; composite (label-paired) training data")
    model_name = "amh"


@register_fusion("masked_pretrain")
class MaskedPretrainFusion(UtteranceModelFusion):
    description = ("masked_pretrain (patent 001, seed 001): per utterance, recurrent encoders over the voice and face embeddings, mean-pooled "
                   "over the observed frames and concatenated (feature-level fusion); the words are not read; composite (label-paired) training data")
    model_name = "masked_pretrain"
    requires = (*AUDIO_SERIES, VIDEO_SERIES)
