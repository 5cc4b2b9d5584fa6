"""The one extractor contract, and the per-clip input every extractor reads.

An extractor is a small object with a ``name``, a ``version``, explicit
keyword parameters (``params()``), the names of the extractors whose outputs it
consumes (``requires``), and one method ``compute(clip, deps) -> Record``. Files,
lists, worker processes, the store and progress are handled once, in
:mod:`emorec.pipelines.extract` (the audinterface / opensmile ``Smile`` habit).
The store key is derived from ``name``, ``version`` and ``params()``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from emorec.clip import Record
from emorec.io.media import MediaInfo, load_audio, media_notes, num_grid_frames, probe
from emorec.registry import Registry
from emorec.timeseries import RATE

__all__ = ["EXTRACTORS", "SAMPLE_RATE", "ClipInput", "Extractor", "Record", "hash_file", "ort_session_options"]

SAMPLE_RATE = 16000
"""Audio sample rate used by every audio extractor, in Hz."""

EXTRACTORS: Registry[Extractor] = Registry("extractor")


def hash_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex). Content, not name, identifies media in the store."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ort_session_options(arena: bool = True):
    """ONNX Runtime session options shared by emorec's graphs (Moonshine, the face CNN): ``$EMOREC_THREADS`` intra-op
    threads (default: up to 2) that sleep when idle (no spinning), errors-only logging, the memory arena on or off (off:
    a long input's largest buffers are not kept for good)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("EMOREC_THREADS", "0")) or min(2, os.cpu_count() or 1)
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = arena
    # Idle intra-op threads sleep instead of spinning: the extractors run on two threads, each with its own sessions, and
    # spinning workers took the cores from the other thread (10-minute analyze: 129 → 114 s, user CPU 225 → 195 s).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class ClipInput:
    """One media file as the extractors see it.

    Audio is decoded once, on first use, and shared by every audio extractor.

    Parameters
    ----------
    path : str or Path
    media_hash : str or None
        SHA-256 of the file; computed if not given.

    Attributes
    ----------
    info : MediaInfo
    num_frames : int
        Length of the common 10 Hz grid: ``max(1, round(duration * 10))``.
    """

    def __init__(self, path: str | Path, media_hash: str | None = None):
        self.path = Path(path)
        self.info: MediaInfo = probe(self.path)
        self.media_hash = media_hash or hash_file(self.path)
        self.rate = RATE
        self._progress = threading.local()  # per thread: the audio and the video branch report their own steps
        self.audio_gaps: list[tuple[float, float]] = []
        """Timestamp gaps of the audio track, (start, end) seconds, filled with silence (known once :attr:`audio` is decoded)."""
        self.audio_notes: list[str] = []
        """Defects found while decoding the audio (``"<path>: <what>"``; known once :attr:`audio` is decoded)."""

    @property
    def on_progress(self) -> Callable[[float], None] | None:
        """Receiver of :meth:`progress` calls made in the current thread."""
        return getattr(self._progress, "hook", None)

    @on_progress.setter
    def on_progress(self, hook: Callable[[float], None] | None) -> None:
        self._progress.hook = hook

    def progress(self, fraction: float) -> None:
        """Extractors call this with the fraction of their work done (0-1) on long inputs."""
        if self.on_progress is not None:
            self.on_progress(min(max(fraction, 0.0), 1.0))

    @cached_property
    def audio(self) -> np.ndarray:
        """Waveform, ``(num_samples,)`` float32 mono at :data:`SAMPLE_RATE` Hz; what decoding found wrong (gaps,
        damage, truncation) is in :attr:`audio_notes`, whichever thread decoded it."""
        with media_notes() as notes:
            gaps: list[tuple[float, float]] = []
            waveform = load_audio(self.path, SAMPLE_RATE, gaps)
        self.audio_gaps[:], self.audio_notes[:] = gaps, notes  # the same when decoded again (see release_audio)
        return waveform

    def release_audio(self) -> None:
        """Free the decoded waveform (an hour of audio is 230 MB); :attr:`audio` decodes it again if read later."""
        self.__dict__.pop("audio", None)

    @cached_property
    def duration(self) -> float:
        """Clip duration in seconds: the longer of the decoded audio and the video stream (header)."""
        video = self.info.video_duration if self.info.has_video else 0.0
        if self.info.has_audio:
            return max(self.audio.size / SAMPLE_RATE, video)
        return video or self.info.duration

    @cached_property
    def num_frames(self) -> int:
        return num_grid_frames(self.duration, self.rate)


def locked_cache(maxsize: int = 1):
    """``functools.lru_cache`` for model loaders, with a lock: a caller arriving while another thread loads waits for
    that load instead of loading a second copy (:meth:`Extractor.warm` loads ahead on a helper thread). The wrapper
    keeps ``cache_clear`` and ``cache_info``."""
    import functools
    import threading

    def decorate(fn):
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        lock = threading.Lock()

        @functools.wraps(fn)
        def call(*args, **kwargs):
            with lock:
                return cached(*args, **kwargs)

        call.cache_clear, call.cache_info = cached.cache_clear, cached.cache_info
        return call

    return decorate


class Extractor:
    """Base class of every feature extractor.

    Subclasses set ``name`` (``"<modality>.<what>"``), ``version`` (bump it
    whenever the output changes), ``needs`` (``"audio"`` or ``"video"``) and
    ``requires`` (names of extractors whose records ``compute`` receives), and
    implement :meth:`compute`. Constructor keywords are the parameters and are
    stored as given (scikit-learn habit); no heavy work in ``__init__`` — models
    load lazily on the first ``compute``.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    needs: ClassVar[str] = "audio"
    requires: ClassVar[tuple[str, ...]] = ()
    transient: ClassVar[tuple[str, ...]] = ()
    """Record arrays only other extractors read (large, at their native rate): with ``extract_clip(..., release=True)``
    they are dropped from memory once no later extractor needs them (the store keeps them)."""

    def params(self) -> dict[str, Any]:
        """The keyword parameters that change the output (they enter the store key)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def key(self, media_hash: str, dep_keys: dict[str, str] | None = None) -> str:
        """Store key: hash of media hash + name + version + parameters + dependency keys."""
        blob = json.dumps(
            {"media": media_hash, "name": self.name, "version": self.version, "params": self.params(), "deps": dep_keys or {}},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:40]

    def unload(self) -> None:
        """Free the models :meth:`compute` loaded and caches for the process (they load again on the next use).
        ``extract_clip(..., release=True)`` calls it after computing a long clip (:data:`emorec.pipelines.extract.UNLOAD_AFTER`), where loading
        costs little next to the work, so that one step's models are not resident during the next steps."""

    def warm(self) -> None:
        """Load the models :meth:`compute` will use, ahead of it (``extract_clip`` calls it on a helper thread for the
        extractors a short clip will compute, so that loading overlaps other steps). Default: nothing to load."""

    def available(self, clip: ClipInput) -> bool:
        """Whether the clip has what this extractor needs (an audio or a video track)."""
        return clip.info.has_audio if self.needs == "audio" else clip.info.has_video

    def compute(self, clip: ClipInput, deps: dict[str, Record]) -> Record:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"
