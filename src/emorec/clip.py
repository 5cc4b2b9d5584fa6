"""What is known about one clip: ``Record`` (one extractor's output, the unit of the feature
store) and ``ClipFeatures`` (every modality of the clip on the common 10 Hz axis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emorec.timeseries import RATE, TimeSeries, frame_times

__all__ = ["ClipFeatures", "Record", "Word"]


@dataclass
class Record:
    """What one extractor computed for one clip: named arrays + JSON-able metadata.

    Arrays are stored in an ``.npz`` file (no pickle); ``meta`` as JSON inside it.
    """

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


@dataclass(frozen=True)
class Word:
    """One transcript word with its time span, in seconds."""

    word: str
    start: float
    end: float
    segment: int
    aligned: bool
    """True if forced alignment gave the time, False if it was spread (fallback)."""


@dataclass
class ClipFeatures:
    """Features of all available modalities of one clip, on one time axis.

    Attributes
    ----------
    path : Path
    media_hash : str
        SHA-256 of the file's bytes.
    duration : float
        Seconds.
    num_frames : int
        Length of the 10 Hz grid, ``max(1, round(duration * 10))``.
    series : dict of str → TimeSeries
        ``"audio.egemaps"`` (num_frames, 25), ``"audio.logmel"`` (num_frames, 104),
        ``"audio.moonshine"`` (num_frames, 416), ``"audio.vad"`` (num_frames, 1),
        ``"face.cnn"`` (num_frames, 256 × networks; 768 shipped), ``"face.fer"`` (num_frames, 128),
        ``"face.track"`` (num_frames, 4) boxes,
        ``"text.minilm"`` (num_frames, 384) — whichever were extracted.
    words : list of Word
    records : dict of str → Record
        The raw records (native-rate arrays such as LLDs at 100 Hz, crops, landmarks).
    notes : list of str
        What could not be extracted and why (e.g. "no audio track").
    """

    path: Path
    media_hash: str
    duration: float
    num_frames: int
    series: dict[str, TimeSeries] = field(default_factory=dict)
    words: list[Word] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rate: float = RATE

    @property
    def timestamps(self) -> np.ndarray:
        """Start of each grid frame, seconds, ``(num_frames,)``."""
        return frame_times(self.num_frames, self.rate)

    @property
    def modalities(self) -> list[str]:
        return sorted({name.split(".")[0] for name in self.series})

    @classmethod
    def from_records(cls, path: Path, media_hash: str, duration: float, num_frames: int, records: dict[str, Record], notes: list[str]) -> ClipFeatures:
        """Assemble from extractor records (see :mod:`emorec.pipelines.extract`)."""
        series = {}
        for name, rec in records.items():
            if "mask" not in rec.arrays:
                continue
            mask = rec["mask"]
            if "grid" in rec.arrays:
                data = rec["grid"]
            elif "box" in rec.arrays:
                data = rec["box"]
            else:
                data = mask.astype(np.float32)[:, None]
            series[name] = TimeSeries(data, mask, RATE, 0.0, name, rec.meta.get("columns"))
        words = []
        if "text.asr" in records:
            a = records["text.asr"]
            words = [Word(str(w), float(s), float(e), int(g), bool(al)) for w, s, e, g, al in zip(a["words"], a["start"], a["end"], a["segment"], a["aligned"])]
        return cls(Path(path), media_hash, duration, num_frames, series, words, records, notes)

    def summary(self) -> dict[str, Any]:
        """Shapes and coverage of each series, JSON-able."""
        return {
            "path": str(self.path),
            "duration": self.duration,
            "num_frames": self.num_frames,
            "series": {k: {"shape": list(v.data.shape), "present": int(v.mask.sum())} for k, v in self.series.items()},
            "num_words": len(self.words),
            "notes": self.notes,
        }

    def __repr__(self) -> str:
        return f"ClipFeatures({self.path.name!r}, duration={self.duration:.2f}s, num_frames={self.num_frames}, series={sorted(self.series)}, words={len(self.words)})"
