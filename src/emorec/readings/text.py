"""``text.emotion``: the words' emotion reading — (valence, arousal) of each recognised utterance
on the frames where its words are spoken, and each word's lexicon valence.

The utterance model is emorec's ``text_emobank`` (MiniLM fine-tuned on EmoBank;
outputs on EmoBank's 1-5 scale minus 3, mapped to [-1, 1] by ``/ 2``). Per-word
valence is the VADER lexicon's (Hutto & Gilbert 2014), ``/ 4`` into [-1, 1].
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from emorec.clip import Record
from emorec.features.base import EXTRACTORS, ClipInput, locked_cache
from emorec.readings.base import ReadingExtractor, reading_record
from emorec.timeseries import span_to_frames

__all__ = ["TEXT_BATCH", "TEXT_MODELS", "TextReading"]

TEXT_BATCH = 32
"""Segments read per forward pass (memory stays flat in the number of segments)."""

TEXT_MODELS = {
    "text_emobank": "Moonshine base-en ASR + pocketsphinx forced alignment; emorec text_emobank (MiniLM, trained on EmoBank) valence/arousal per utterance",
}


@locked_cache(maxsize=2)
def _load(model: str, path: str):
    from emorec.models import load_pretrained

    return load_pretrained(model, path)


@lru_cache(maxsize=1)
def _vader_lexicon() -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer().lexicon


@EXTRACTORS.register("text.emotion")
class TextReading(ReadingExtractor):
    """Words reading: (valence, arousal) in [-1, 1] on word frames.

    Parameters
    ----------
    model : {"text_emobank"}
    weights : str or None

    Record arrays
    -------------
    grid : (num_frames, 2) float32, valence, arousal; va : same; mask : (num_frames,) bool (a word is spoken)
    segment_va : (num_asr_segments, 2) float32, NaN for a segment without words
    word_valence : (num_words,) float32, VADER lexicon valence
    """

    name = "text.emotion"
    version = "1"
    needs = "audio"
    requires = ("text.asr",)
    modality = "words"
    models = tuple(TEXT_MODELS)

    def __init__(self, model: str = "text_emobank", weights: str | None = None):
        super().__init__(model, weights)

    def warm(self) -> None:
        _load(self.model, str(self.weights_path()))

    def unload(self) -> None:
        _load.cache_clear()  # MiniLM + head, ≈ 0.2 GB

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        import torch

        asr = deps["text.asr"]
        t = clip.num_frames
        va = np.zeros((t, 2), np.float32)
        mask = np.zeros(t, bool)
        texts = asr.meta.get("texts", [])
        per_segment = np.full((len(texts), 2), np.nan, np.float32)
        spoken = [i for i, text in enumerate(texts) if text.strip()]
        if spoken:
            model = _load(self.model, str(self.weights_path()))
            out = []
            with torch.inference_mode():  # in batches: one padded batch of every segment grows with the clip's length
                for first in range(0, len(spoken), TEXT_BATCH):
                    out.append(model(model.encode([texts[i] for i in spoken[first : first + TEXT_BATCH]])).numpy()[:, :2])
            per_segment[spoken] = np.clip(np.concatenate(out) / 2.0, -1, 1)
        lexicon = _vader_lexicon()
        words = [str(w) for w in asr["words"]]
        word_valence = np.array([np.clip(lexicon.get(w.lower(), 0.0) / 4.0, -1, 1) for w in words], np.float32)
        for start, end, seg in zip(asr["start"], asr["end"], asr["segment"]):
            span = span_to_frames(float(start), float(end), t)
            va[span] = per_segment[int(seg)]
            mask[span] = True
        return reading_record(self.model, TEXT_MODELS[self.model], (), None, va, mask, segment_va=per_segment, word_valence=word_valence)
