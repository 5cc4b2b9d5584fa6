"""``audio.emotion``: the voice's emotion reading per 10 Hz frame inside speech.

Windows of :data:`VOICE_WINDOW` s every :data:`VOICE_HOP` s inside each VAD speech
segment are read by a voice model; each speech frame takes the nearest window's
class probabilities and (valence, arousal). The whole segment is read once more
for the segments table.

- ``voice_probe`` (default): mean+std of Moonshine encoder blocks ‖ the window's 88
  eGeMAPS functionals → logistic regression; (valence, arousal) is the probability-weighted
  category coordinate (:data:`emorec.emotion_space.VALENCE_AROUSAL`).
- ``voice_tcn``: TCN over encoder blocks + eGeMAPS LLDs; its own valence/arousal head.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emorec.clip import Record
from emorec.emotion_space import valence_arousal_of
from emorec.features.base import EXTRACTORS, SAMPLE_RATE, ClipInput, locked_cache
from emorec.readings.base import ReadingExtractor, reading_record

__all__ = ["VOICE_HOP", "VOICE_MODELS", "VOICE_WINDOW", "VoiceReading"]

VOICE_WINDOW = 2.0
"""Length of one voice window, seconds."""
VOICE_HOP = 1.0
"""Step between voice windows, seconds."""

VOICE_MODELS = {
    "voice_tcn": "emorec voice_tcn (TCN on Moonshine base-en encoder blocks {blocks} + eGeMAPS LLDs, class and valence/arousal heads; "
    "trained on RAVDESS + EMO-DB, research use only)",
    "voice_probe": "emorec voice_probe (Moonshine base-en encoder blocks {blocks} + eGeMAPS functionals, logistic regression; "
    "trained on RAVDESS + EMO-DB, research use only)",
}


@locked_cache(maxsize=4)
def _load(model: str, path: str):
    from emorec.models import load_pretrained

    return load_pretrained(model, path)


def _span_reader(rec_moon: Record, rec_lld: Record, audio: np.ndarray, model) -> Callable[[float, float], tuple[np.ndarray, np.ndarray] | None]:
    """A function ``(begin, end)`` in seconds → (class probabilities (C,), (valence, arousal) (2,)) of the voice
    in that span, or None if the span holds fewer than 4 encoder states (≈0.1 s)."""
    from emorec.features.audio import egemaps_functionals
    from emorec.models.speech_encoder import select_blocks
    from emorec.models.voice_tcn import VoiceTCN, frame_inputs

    times = rec_moon["state_times"]
    stored = rec_moon.meta["blocks"]
    block_states = rec_moon["block_states"]  # float16, all stored blocks: sliced per span, never copied whole (long files)

    def span(b: float, e: float) -> tuple[int, int, np.ndarray] | None:
        """(lo, hi, the model's blocks over states lo:hi — those inside [b, e) s — in float32), or None for fewer than 4 states."""
        lo, hi = np.searchsorted(times, (b, e), side="left")
        return None if hi - lo < 4 else (lo, hi, select_blocks(block_states[lo:hi], stored, model.blocks).astype(np.float32))

    if isinstance(model, VoiceTCN):

        def read(b: float, e: float):
            got = span(b, e)
            if got is None:
                return None
            lo, hi, states = got
            p, va = model.predict([frame_inputs(states, times[lo:hi], rec_lld["lld"], rec_lld["lld_times"])])
            return p[0], va[0]

        return read
    from emorec.models.voice_probe import utterance_features

    class_va = valence_arousal_of(model.classes)

    def read(b: float, e: float):
        got = span(b, e)
        if got is None:
            return None
        p = model.predict_proba(utterance_features(got[2], egemaps_functionals(audio[int(b * SAMPLE_RATE) : int(e * SAMPLE_RATE)])))[0]
        return p, p @ class_va

    return read


@EXTRACTORS.register("audio.emotion")
class VoiceReading(ReadingExtractor):
    """Voice reading: a voice model's class probabilities and (valence, arousal) on the speech frames.

    Parameters
    ----------
    model : {"voice_probe", "voice_tcn"}
    weights : str or None
        Weights file (default: the shipped ones).

    Record arrays
    -------------
    grid : (num_frames, C + 2) float32, probabilities ‖ valence, arousal
    probs : (num_frames, C), va : (num_frames, 2), mask : (num_frames,) bool (a window was read)
    segment_probs : (num_segments, C) float32, the whole segment read at once; segment_ok : (num_segments,) bool
    """

    name = "audio.emotion"
    version = "1"
    needs = "audio"
    requires = ("audio.vad", "audio.moonshine", "audio.egemaps")
    modality = "voice"
    models = tuple(VOICE_MODELS)

    def __init__(self, model: str = "voice_probe", weights: str | None = None):
        super().__init__(model, weights)

    def warm(self) -> None:
        _load(self.model, str(self.weights_path()))

    def unload(self) -> None:
        _load.cache_clear()

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        model = _load(self.model, str(self.weights_path()))
        t = clip.num_frames
        probs = np.zeros((t, len(model.classes)), np.float32)
        va = np.zeros((t, 2), np.float32)
        mask = np.zeros(t, bool)
        segments = deps["audio.vad"]["segments"]
        seg_probs = np.zeros((len(segments), len(model.classes)), np.float32)
        seg_ok = np.zeros(len(segments), bool)
        centres_f = (np.arange(t) + 0.5) / clip.rate
        reading = _span_reader(deps["audio.moonshine"], deps["audio.egemaps"], clip.audio, model)
        for k, (seg_b, seg_e) in enumerate(segments):
            whole = reading(seg_b, seg_e)
            if whole is not None:
                seg_probs[k], seg_ok[k] = whole[0], True
            n = max(1, int(np.ceil((seg_e - seg_b) / VOICE_HOP)))
            centres = np.minimum(seg_b + (np.arange(n) + 0.5) * (seg_e - seg_b) / n, seg_e)
            window_readings, window_centres = [], []
            for c in centres:
                r = reading(max(seg_b, c - VOICE_WINDOW / 2), min(seg_e, c + VOICE_WINDOW / 2))
                if r is not None:
                    window_readings.append(r)
                    window_centres.append(c)
            if not window_readings:
                continue
            frames = np.flatnonzero((centres_f >= seg_b) & (centres_f < seg_e))
            nearest = np.abs(centres_f[frames, None] - np.asarray(window_centres)[None]).argmin(axis=1)
            probs[frames] = np.asarray([p for p, _ in window_readings])[nearest]
            va[frames] = np.asarray([v for _, v in window_readings])[nearest]
            mask[frames] = True
        description = VOICE_MODELS[self.model].format(blocks=list(model.blocks))
        return reading_record(self.model, description, tuple(model.classes), probs, va, mask, segment_probs=seg_probs, segment_ok=seg_ok)
