"""Audio extractors: eGeMAPS LLDs (openSMILE), log-mel / MFCC (librosa),
pretrained speech-encoder states (Moonshine base-en, onnxruntime), and speech
activity (silero-vad).

Sources: patent 000 (audio network on 1 s windows, 0.1 s hop, on the common
10 Hz axis), patent 001 (frame-level acoustic LLDs: prosody, voice quality,
spectral — the eGeMAPS family), patent 004 (MFCC input of the audio stream).

Licences: openSMILE's binary (inside the ``opensmile`` wheel) is free for
research and education only; commercial use needs a licence from audEERING.
Moonshine base-en and silero-vad are MIT.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from emorec.features.base import EXTRACTORS, SAMPLE_RATE, ClipInput, Extractor, Record
from emorec.timeseries import pool_to_grid, span_to_frames

__all__ = ["EgemapsExtractor", "LogMelExtractor", "MoonshineEncoderExtractor", "VadExtractor", "egemaps_functionals", "moonshine_states"]


# --------------------------------------------------------------------------- eGeMAPS
@lru_cache(maxsize=2)
def _smile(level: str):
    import opensmile

    feature_level = {"lld": opensmile.FeatureLevel.LowLevelDescriptors, "functionals": opensmile.FeatureLevel.Functionals}[level]
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=feature_level)


def egemaps_functionals(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The 88 eGeMAPSv02 functionals of one utterance (openSMILE).

    Parameters
    ----------
    waveform : (num_samples,) np.ndarray of float32
    sample_rate : int, Hz

    Returns
    -------
    functionals : (88,) np.ndarray of float32
    """
    if waveform.size < sample_rate // 10:  # openSMILE needs a few frames
        waveform = np.pad(waveform, (0, sample_rate // 10 - waveform.size))
    return _smile("functionals").process_signal(waveform, sample_rate).to_numpy(np.float32).reshape(-1)


@EXTRACTORS.register("audio.egemaps")
class EgemapsExtractor(Extractor):
    """eGeMAPSv02 low-level descriptors (25 per frame, 10 ms hop) and clip functionals (88).

    Record arrays
    -------------
    lld : (num_lld_frames, 25) float32, at 100 frames/s
    lld_times : (num_lld_frames,) float64, centre of each LLD frame in seconds
    grid : (num_frames, 25) float32, LLDs averaged over each 0.1 s grid frame
    mask : (num_frames,) bool
    functionals : (88,) float32, over the whole clip
    """

    name = "audio.egemaps"
    version = "1"
    needs = "audio"

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        df = _smile("lld").process_signal(clip.audio, SAMPLE_RATE)
        starts = df.index.get_level_values("start").total_seconds().to_numpy()
        ends = df.index.get_level_values("end").total_seconds().to_numpy()
        lld = df.to_numpy(np.float32)
        times = (starts + ends) / 2
        grid, mask = pool_to_grid(lld, times, clip.num_frames)
        return Record(
            {"lld": lld, "lld_times": times, "grid": grid, "mask": mask, "functionals": egemaps_functionals(clip.audio)},
            {"columns": list(df.columns), "functional_columns": list(_smile("functionals").feature_names), "lld_rate": 100.0},
        )


# --------------------------------------------------------------------------- log-mel / MFCC
@EXTRACTORS.register("audio.logmel")
class LogMelExtractor(Extractor):
    """Log-mel spectrogram and MFCCs (librosa), 25 ms window, 10 ms hop.

    Parameters
    ----------
    num_mels : int
        Mel bands.
    num_mfcc : int
        MFCC coefficients (patent 004 feeds an MFCC spectrogram to a ResNet34).

    Record arrays
    -------------
    logmel : (num_spec_frames, num_mels) float32, dB, 100 frames/s
    mfcc : (num_spec_frames, num_mfcc) float32
    grid : (num_frames, num_mels + num_mfcc) float32, averaged per 0.1 s
    mask : (num_frames,) bool
    """

    name = "audio.logmel"
    version = "1"
    needs = "audio"

    def __init__(self, num_mels: int = 64, num_mfcc: int = 40):
        self.num_mels = num_mels
        self.num_mfcc = num_mfcc

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        import librosa

        hop = SAMPLE_RATE // 100
        # STFT + mel filterbank written out: librosa.feature.melspectrogram
        # spends ~15 s in numba JIT on its first call.
        power = np.abs(librosa.stft(clip.audio, n_fft=400, hop_length=hop, win_length=400)) ** 2
        mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=400, n_mels=self.num_mels) @ power
        logmel = librosa.power_to_db(mel, ref=1.0, top_db=None).T.astype(np.float32)
        mfcc = librosa.feature.mfcc(S=logmel.T, n_mfcc=self.num_mfcc).T.astype(np.float32)
        times = np.arange(logmel.shape[0]) * hop / SAMPLE_RATE
        grid, mask = pool_to_grid(np.concatenate([logmel, mfcc], axis=1), times, clip.num_frames)
        return Record({"logmel": logmel, "mfcc": mfcc, "grid": grid, "mask": mask}, {"rate": 100.0})


# --------------------------------------------------------------------------- Moonshine encoder
def _moonshine_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("moonshine_cpp")
    if spec is None or spec.origin is None:
        raise ImportError("moonshine-cpp is not installed (pip install moonshine-cpp==0.1.4)")
    return Path(spec.origin).parent / "models" / "base-en"


@lru_cache(maxsize=1)
def _encoder_session(num_threads: int = 0):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads or int(os.environ.get("EMOREC_THREADS", 0)) or min(2, os.cpu_count() or 1)
    options.log_severity_level = 3
    return ort.InferenceSession(str(_moonshine_dir() / "encoder_model.ort"), options, providers=["CPUExecutionProvider"])


ENCODER_DIM = 416


def moonshine_states(waveform: np.ndarray, chunk: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Moonshine base-en encoder hidden states of a waveform.

    The waveform is cut into consecutive chunks of ``chunk`` seconds, each run
    through the encoder (``input_values`` (1, num_samples) float32 at 16 kHz
    → ``last_hidden_state`` (1, ≈41 frames/s, 416)).

    Parameters
    ----------
    waveform : (num_samples,) np.ndarray of float32, 16 kHz
    chunk : float
        Chunk length, in seconds.

    Returns
    -------
    states : (num_states, 416) np.ndarray of float32
    times : (num_states,) np.ndarray of float64
        Centre time of each state, in seconds.
    """
    session = _encoder_session()
    step = int(chunk * SAMPLE_RATE)
    states, times = [], []
    min_len = SAMPLE_RATE // 10
    for begin in range(0, max(waveform.size, 1), step):
        piece = waveform[begin : begin + step]
        real = piece.size
        if real < min_len:
            piece = np.pad(piece, (0, min_len - real))
        out = session.run(None, {"input_values": np.ascontiguousarray(piece[None], dtype=np.float32)})[0][0]
        n = out.shape[0]
        t = begin / SAMPLE_RATE + (np.arange(n) + 0.5) * piece.size / SAMPLE_RATE / n
        keep = t < (begin + real) / SAMPLE_RATE
        states.append(out[keep])
        times.append(t[keep])
    return np.concatenate(states).astype(np.float32), np.concatenate(times)


@EXTRACTORS.register("audio.moonshine")
class MoonshineEncoderExtractor(Extractor):
    """Pretrained speech representation: Moonshine base-en encoder (MIT), pooled per 1 s window.

    The encoder runs once over consecutive chunks; for each 0.1 s grid frame
    its states inside a ``window``-second window centred on the frame are
    averaged (patent 000: 1 s windows, 0.1 s hop).

    Parameters
    ----------
    window : float
        Pooling window, in seconds.
    chunk : float
        Encoder chunk length, in seconds.

    Record arrays
    -------------
    states : (num_states, 416) float16, ≈41 states/s
    state_times : (num_states,) float64, seconds
    grid : (num_frames, 416) float32
    mask : (num_frames,) bool
    """

    name = "audio.moonshine"
    version = "1"
    needs = "audio"

    def __init__(self, window: float = 1.0, chunk: float = 20.0):
        self.window = window
        self.chunk = chunk

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        states, times = moonshine_states(clip.audio, self.chunk)
        grid, mask = pool_to_grid(states, times, clip.num_frames, window=self.window)
        return Record({"states": states.astype(np.float16), "state_times": times, "grid": grid, "mask": mask}, {"dim": ENCODER_DIM})


# --------------------------------------------------------------------------- VAD
@lru_cache(maxsize=1)
def _vad_model():
    import silero_vad

    return silero_vad.load_silero_vad(onnx=True)


@EXTRACTORS.register("audio.vad")
class VadExtractor(Extractor):
    """Speech segments with silero-vad (MIT; weights ship in its wheel).

    Parameters
    ----------
    threshold : float
        Speech probability threshold.
    min_silence : float
        Pauses shorter than this (seconds) do not split a segment.

    Record arrays
    -------------
    segments : (num_segments, 2) float64, start/end in seconds
    mask : (num_frames,) bool, True on grid frames inside a speech segment
    """

    name = "audio.vad"
    version = "1"
    needs = "audio"

    def __init__(self, threshold: float = 0.5, min_silence: float = 0.3):
        self.threshold = threshold
        self.min_silence = min_silence

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:
        import silero_vad
        import torch

        stamps = silero_vad.get_speech_timestamps(
            torch.from_numpy(clip.audio),
            _vad_model(),
            sampling_rate=SAMPLE_RATE,
            threshold=self.threshold,
            min_silence_duration_ms=int(self.min_silence * 1000),
            return_seconds=False,
        )
        segments = np.array([[s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE] for s in stamps], dtype=np.float64).reshape(-1, 2)
        mask = np.zeros(clip.num_frames, bool)
        for begin, end in segments:
            mask[span_to_frames(begin, end, clip.num_frames)] = True
        return Record({"segments": segments, "mask": mask})
