"""Features on emorec's common time axis.

Every modality is carried as a :class:`TimeSeries`: an array of shape
``(num_frames, num_features)`` on a regular grid of ``rate`` frames per second
starting at ``start`` seconds, with a boolean ``mask`` saying which frames hold
a real observation (face found, speech active, word spoken). Integer frame
indices are the truth; seconds are derived at the edges (the habit of
pyannote.core ``SlidingWindowFeature``).

The common axis is 10 Hz (hop 0.1 s), as in the frame-level method of patent
000 (window 1 s, hop 0.1 s). Grid frame ``k`` covers ``[k / rate, (k + 1) / rate)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["RATE", "GridPooler", "TimeSeries", "frame_times", "pool_to_grid", "span_to_frames"]

RATE = 10.0
"""Rate of the common time axis, in frames per second (hop 0.1 s)."""


def frame_times(num_frames: int, rate: float = RATE, start: float = 0.0) -> np.ndarray:
    """Start time of each grid frame, in seconds: ``start + k / rate``."""
    return start + np.arange(num_frames, dtype=np.float64) / rate


def span_to_frames(begin: float, end: float, num_frames: int, rate: float = RATE) -> slice:
    """Grid frames whose centre lies inside ``[begin, end)`` seconds.

    A frame is inside the span if its centre ``(k + 0.5) / rate`` is; a span
    shorter than one frame still claims the frame that holds its midpoint.
    """
    first = int(np.ceil(begin * rate - 0.5))
    last = int(np.ceil(end * rate - 0.5))  # exclusive
    if last <= first:
        first = int(np.floor((begin + end) / 2 * rate))
        last = first + 1
    return slice(max(0, min(first, num_frames)), max(0, min(last, num_frames)))


def pool_to_grid(values: np.ndarray, times: np.ndarray, num_frames: int, rate: float = RATE, window: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Average a feature sequence at any rate onto the common grid.

    Parameters
    ----------
    values : (num_in, num_features) np.ndarray
    times : (num_in,) np.ndarray
        Centre time of each input row, in seconds, ascending.
    num_frames : int
        Length of the output grid.
    rate : float
        Grid rate, in frames per second.
    window : float or None
        Pooling window centred on each grid frame's centre, in seconds;
        ``None`` pools exactly the rows inside the frame (window = 1 / rate).

    Returns
    -------
    pooled : (num_frames, num_features) np.ndarray of float32
        Mean of the rows in each window (zeros where there are none).
    mask : (num_frames,) np.ndarray of bool
        True where at least one row fell in the window.
    """
    values = np.asarray(values)
    pooler = GridPooler(num_frames, values.shape[1] if values.ndim > 1 else 1, rate, window)
    pooler.add(values, times)
    return pooler.result()


class GridPooler:
    """:func:`pool_to_grid` for a sequence that arrives in pieces (e.g. one encoder chunk at a time), so that the
    whole sequence never has to be held in float32: each piece's rows are summed into the grid frames whose window
    holds them, and :meth:`result` divides by the counts.

    Parameters
    ----------
    num_frames, num_features : int
        Output shape.
    rate : float
        Grid rate, in frames per second.
    window : float or None
        Pooling window centred on each grid frame's centre, in seconds (``None``: 1 / rate).
    """

    def __init__(self, num_frames: int, num_features: int, rate: float = RATE, window: float | None = None):
        self.rate = rate
        self.window = 1.0 / rate if window is None else window
        self.centres = (np.arange(num_frames) + 0.5) / rate
        self.sums = np.zeros((num_frames, num_features), np.float64)
        self.counts = np.zeros(num_frames, np.int64)

    def add(self, values: np.ndarray, times: np.ndarray) -> None:
        """Add rows ``values`` (n, num_features) (or (n,)) centred at ``times`` (n,) seconds, ascending."""
        values = np.asarray(values)
        values = values[:, None] if values.ndim == 1 else values
        times = np.asarray(times, np.float64)
        if not times.size:
            return
        half = self.window / 2
        first = np.searchsorted(self.centres, times[0] - half, side="left")  # frames whose window can hold a row
        last = np.searchsorted(self.centres, times[-1] + half, side="right")
        centres = self.centres[first:last]
        lo = np.searchsorted(times, centres - half, side="left")
        hi = np.searchsorted(times, centres + half, side="left")
        for k in np.flatnonzero(hi > lo):  # a loop, not a cumulative sum: memory stays O(num_frames)
            self.sums[first + k] += values[lo[k] : hi[k]].sum(axis=0, dtype=np.float64)
            self.counts[first + k] += hi[k] - lo[k]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``pooled`` (num_frames, num_features) float32 means (zeros where no row fell) and ``mask`` (num_frames,) bool."""
        ok = self.counts > 0
        pooled = np.zeros(self.sums.shape, np.float32)
        pooled[ok] = self.sums[ok] / self.counts[ok, None]
        return pooled, ok


@dataclass
class TimeSeries:
    """A feature sequence on a regular time grid.

    Attributes
    ----------
    data : (num_frames, num_features) np.ndarray of float32
    mask : (num_frames,) np.ndarray of bool
        True where the frame holds a real observation. Masked frames hold
        zeros and must never be read as a zero-valued observation.
    rate : float
        Frames per second (10.0 on the common axis).
    start : float
        Time of frame 0's start, in seconds.
    name : str
        ``"<modality>.<extractor>"``, e.g. ``"audio.moonshine"``.
    columns : list of str or None
        Names of the feature dimensions when they have names (e.g. eGeMAPS LLDs).
    """

    data: np.ndarray
    mask: np.ndarray
    rate: float = RATE
    start: float = 0.0
    name: str = ""
    columns: list[str] | None = field(default=None)

    def __post_init__(self):
        self.data = np.asarray(self.data, dtype=np.float32)
        if self.data.ndim == 1:
            self.data = self.data[:, None]
        self.mask = np.asarray(self.mask, dtype=bool)
        if self.mask.shape != (self.data.shape[0],):
            raise ValueError(f"{self.name}: mask shape {self.mask.shape} does not match data {self.data.shape}")

    @property
    def num_frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.data.shape[1])

    @property
    def timestamps(self) -> np.ndarray:
        """Start time of each frame, in seconds, shape ``(num_frames,)``."""
        return frame_times(self.num_frames, self.rate, self.start)

    def __repr__(self) -> str:
        return f"TimeSeries({self.name!r}, shape={self.data.shape}, rate={self.rate}, present={int(self.mask.sum())}/{self.num_frames})"
