"""Errors raised by emorec.

Every error a user can provoke with bad input is an :class:`EmorecError`
subclass whose message names the file and the problem, so that the CLI can
print one clear line instead of a traceback from deep inside a library.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CorruptMediaError",
    "DatasetError",
    "EmorecError",
    "EmptyMediaError",
    "EmptyTranscriptError",
    "MediaError",
    "MediaNotFoundError",
    "NoFaceError",
    "NoUsableStreamError",
    "NotMediaError",
    "OutputError",
    "SilentAudioError",
    "StoreError",
]


class EmorecError(Exception):
    """Base class of every error emorec raises on purpose.

    Parameters
    ----------
    path : str or Path or None
        The file the problem is about (shown first in the message).
    problem : str
        A short, human sentence saying what is wrong.
    """

    exit_code = 2

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)


class MediaError(EmorecError):
    """A media file cannot be used."""


class MediaNotFoundError(MediaError):
    """The path does not exist or is not a file."""


class NotMediaError(MediaError):
    """The file is not an audio or video file FFmpeg can open."""


class CorruptMediaError(MediaError):
    """The container opened but a stream is corrupt or truncated."""


class NoUsableStreamError(MediaError):
    """The file has no audio or video stream that the requested step needs."""


class EmptyMediaError(MediaError):
    """The file has zero duration (no decodable samples or frames)."""


class SilentAudioError(MediaError):
    """The audio track is digital silence (peak amplitude below a threshold)."""


class NoFaceError(EmorecError):
    """No face was detected in any analysed frame of a video."""


class EmptyTranscriptError(EmorecError):
    """A transcript was required but is empty."""


class DatasetError(EmorecError):
    """A corpus folder or label file is missing or malformed."""


class StoreError(EmorecError):
    """The feature store is unreadable or inconsistent."""


class OutputError(EmorecError):
    """An output folder or file cannot be written (exists as a file, read-only, disk full)."""
