"""Decode audio and video with PyAV (FFmpeg libraries bundled in the wheel).

No system ``ffmpeg`` is needed. Audio is resampled to mono float32 at a fixed
``sample_rate`` (Hz); video frames are delivered one at a time on a regular
frame grid (``fps`` frames per second), so memory stays flat for any length.

Every failure is turned into an :class:`emorec.errors.MediaError` subclass
that names the file and the problem.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from emorec.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaNotFoundError,
    NotMediaError,
    NoUsableStreamError,
)

__all__ = ["AUDIO_EXTENSIONS", "TRUNCATED_FRACTION", "VIDEO_EXTENSIONS", "MediaInfo", "MediaWarning", "iter_video_frames", "load_audio", "media_notes", "probe"]

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".aac")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")
"""Still images: ``emorec analyze`` reads them as photos (every face), not as one-frame videos."""

# Leading bytes of the containers we accept; a file that starts like one of
# these but does not decode is corrupt/truncated rather than "not media".
_MAGIC = (
    (4, b"ftyp"),  # mp4 / mov / m4a
    (0, b"RIFF"),  # wav / avi
    (0, b"fLaC"),
    (0, b"OggS"),  # ogg / opus
    (0, b"ID3"),  # mp3 with tag
    (0, b"\x1a\x45\xdf\xa3"),  # matroska / webm
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"free"),
    (4, b"wide"),
)


TRUNCATED_FRACTION = 0.6
"""An audio track decoding to less than this fraction of its declared duration is refused as truncated."""


class MediaWarning(UserWarning):
    """A usable file with a defect worth reporting (e.g. less audio than its header declares)."""


_collector = threading.local()


@contextmanager
def media_notes() -> Iterator[list[str]]:
    """Collect the defects this module reports in the current thread as messages (``"<path>: <what>"``) instead of
    issuing them as :class:`MediaWarning` s — per thread, unlike ``warnings.catch_warnings``, so that the audio and the
    face branch of one analysis (:func:`emorec.pipelines.extract.extract_clip`) can each collect their own."""
    previous = getattr(_collector, "notes", None)
    _collector.notes = collected = []
    try:
        yield collected
    finally:
        _collector.notes = previous


def _report(message: str) -> None:
    """A defect of a usable file: to the current thread's :func:`media_notes`, else as a :class:`MediaWarning`."""
    notes = getattr(_collector, "notes", None)
    if notes is not None:
        notes.append(message)
    else:
        warnings.warn(message, MediaWarning, stacklevel=3)


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, read from its container header.

    Attributes
    ----------
    path : Path
    duration : float
        Longest stream duration, in seconds (0.0 if unknown).
    has_audio, has_video : bool
    fps : float or None
        Average video frame rate, in frames per second.
    width, height : int or None
        Video frame size in pixels.
    audio_sample_rate : int or None
        Native audio sample rate, in Hz.
    """

    path: Path
    duration: float
    has_audio: bool
    has_video: bool
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    audio_sample_rate: int | None = None
    video_duration: float = 0.0
    """Duration of the video stream alone, in seconds (0.0 if none or unknown)."""


def _looks_like_media(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:  # MPEG audio frame sync
        return True
    return any(head[off : off + len(sig)] == sig for off, sig in _MAGIC)


def _open(path: str | Path) -> av.container.InputContainer:
    path = Path(path)
    if not path.exists():
        raise MediaNotFoundError(path, "file not found")
    if not path.is_file():
        raise MediaNotFoundError(path, "not a file")
    if path.stat().st_size == 0:
        raise EmptyMediaError(path, "file is empty (0 bytes)")
    try:
        return av.open(str(path))
    except av.error.FFmpegError as exc:
        if _looks_like_media(path):
            raise CorruptMediaError(path, f"corrupt or truncated media container ({exc.strerror or exc})") from None
        raise NotMediaError(path, "not an audio or video file that FFmpeg can read") from None


def _stream_duration(stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return 0.0


def probe(path: str | Path) -> MediaInfo:
    """Read a media file's header.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    MediaInfo

    Raises
    ------
    MediaNotFoundError, NotMediaError, CorruptMediaError, EmptyMediaError, NoUsableStreamError
    """
    path = Path(path)
    with _open(path) as container:
        audio = container.streams.audio[0] if container.streams.audio else None
        video = container.streams.video[0] if container.streams.video else None
        if audio is None and video is None:
            raise NoUsableStreamError(path, "no audio or video stream")
        durations = [_stream_duration(s) for s in (audio, video) if s is not None]
        if container.duration is not None:
            durations.append(container.duration / av.time_base)
        fps = None
        if video is not None and video.average_rate:
            fps = float(video.average_rate)
        return MediaInfo(
            path=path,
            duration=max(durations) if durations else 0.0,
            has_audio=audio is not None,
            has_video=video is not None,
            fps=fps,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            video_duration=(_stream_duration(video) or (container.duration or 0) / av.time_base) if video is not None else 0.0,
        )


MAX_DAMAGED_FRACTION = 0.5
"""A stream with more undecodable packets than this is refused as corrupt; fewer are skipped and masked."""
GAP_TOLERANCE = 0.2
"""Seconds by which an audio frame's timestamp may run ahead of the samples decoded before it is a gap."""


def load_audio(path: str | Path, sample_rate: int = 16000, gaps: list[tuple[float, float]] | None = None) -> np.ndarray:
    """Decode the first audio stream to mono float32 at ``sample_rate``, each frame at its timestamp.

    A recording paused and resumed has jumps in its timestamps: the jump is filled with zeros (so the audio stays in
    step with the video and the clock), the span is appended to ``gaps`` and a :class:`MediaWarning` says so. A damaged
    packet (flipped bits) is skipped the same way — its span silent, listed in ``gaps``, warned about — unless more than
    :data:`MAX_DAMAGED_FRACTION` of the packets are damaged.

    Parameters
    ----------
    path : str or Path
        Any container FFmpeg reads (wav, flac, mp3, ogg, mp4, mkv, ...).
    sample_rate : int
        Output sample rate, in Hz.
    gaps : list or None
        Receives each gap as ``(start, end)`` in seconds from the start of the audio.

    Returns
    -------
    waveform : (num_samples,) np.ndarray of float32 in [-1, 1]

    Raises
    ------
    NoUsableStreamError
        The file has no audio stream.
    CorruptMediaError
        Decoding failed part-way, or less than :data:`TRUNCATED_FRACTION` of
        the declared duration decoded (a truncated file). A smaller shortfall
        gives a :class:`MediaWarning` instead.
    EmptyMediaError
        No samples could be decoded.
    """
    path = Path(path)
    with _open(path) as container:
        if not container.streams.audio:
            raise NoUsableStreamError(path, "no audio track")
        stream = container.streams.audio[0]
        declared = _stream_duration(stream) or (container.duration or 0) / av.time_base
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        pauses: list[tuple[float, float]] = []  # timestamp jumps in the file
        holes: list[tuple[float, float]] = []  # spans of packets that could not be decoded
        start, written = None, 0  # first timestamp (s); samples placed so far
        packets, damaged, damaged_since_last, trailing = 0, 0, False, 0  # trailing: failures since the last decoded frame
        try:
            for packet in container.demux(stream):
                packets += packet.size > 0
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:  # a damaged packet (flipped bits): skip it, its span becomes a masked hole
                    damaged += 1
                    trailing += 1
                    damaged_since_last = True
                    continue
                trailing = 0 if frames else trailing
                for frame in frames:
                    if frame.time is not None:
                        start = frame.time if start is None else start
                        ahead = (frame.time - start) - written / sample_rate
                        if ahead > (0.0 if damaged_since_last else GAP_TOLERANCE):  # keep the clock: fill the gap with silence
                            (holes if damaged_since_last else pauses).append((round(written / sample_rate, 3), round(frame.time - start, 3)))
                            fill = int(round(ahead * sample_rate))
                            chunks.append(np.zeros(fill, np.float32))
                            written += fill
                        damaged_since_last = False
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1))
                        written += chunks[-1].size
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(path, f"audio stream is corrupt or truncated ({exc.strerror or exc})") from None
    if trailing and declared > 0 and sum(c.size for c in chunks) / sample_rate >= declared - 0.05:
        damaged -= trailing  # undecodable packets after all the declared audio (e.g. a FLAC parser's tail): nothing is lost
    if packets and damaged > MAX_DAMAGED_FRACTION * packets:
        raise CorruptMediaError(path, f"audio stream is corrupt: {damaged} of {packets} packets could not be decoded")
    waveform = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    decoded = waveform.size / sample_rate
    if waveform.size == 0:
        raise EmptyMediaError(path, "audio track has zero duration (no samples decoded)")
    if pauses:
        total = sum(e - b for b, e in pauses)
        _report(f"{path}: audio has {len(pauses)} timestamp gap(s), {total:.1f} s in all (the first at {pauses[0][0]:.1f} s): "
                      "each part placed at its time, the gaps masked (no voice or words read there)")
    if damaged:
        spans = ", ".join(f"{b:.1f}-{e:.1f} s" for b, e in holes[:5]) + (" …" if len(holes) > 5 else "")
        _report(f"{path}: {damaged} damaged audio packet(s) could not be decoded; their spans are masked ({spans or 'at the end'}), "
                      "the rest of the file is read")
    if gaps is not None:
        gaps.extend(sorted(pauses + holes))
    if declared > 0 and declared - decoded > 0.5:
        message = f"audio is truncated: decoded {decoded:.2f} s of the {declared:.2f} s the header declares"
        if decoded < TRUNCATED_FRACTION * declared:
            raise CorruptMediaError(path, message)
        # Some muxers declare more audio than they store (e.g. MEAD's sad.mp4):
        # usable, but said, never silent.
        _report(f"{path}: {message}")
    return np.clip(waveform, -1.0, 1.0, out=waveform)


def _bt601_limited(frame) -> bool:
    """Whether a frame's YUV is BT.601 limited range, as swscale reads it by default: colour matrix unspecified (2),
    BT.470BG (5) or SMPTE 170M (6), and range unspecified (0) or MPEG/limited (1) — what OpenCV's I420 → RGB assumes."""
    return int(frame.colorspace) in (2, 5, 6) and int(frame.color_range) in (0, 1)


def iter_video_frames(
    path: str | Path, fps: float = 10.0, max_side: int | None = 640, num_frames: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield RGB frames on a regular grid, streaming (one frame in memory).

    Grid frame ``k`` covers ``[k / fps, (k + 1) / fps)`` seconds; it receives the
    last decoded video frame whose presentation time is at or before the
    grid frame's centre. Grid frames with no video frame are not yielded.
    Frames are turned upright as the file's display matrix says (the rotation
    tag of phone videos, 90/180/270°), as a player shows them.

    Parameters
    ----------
    path : str or Path
    fps : float
        Grid rate, in frames per second (10.0 = emorec's common axis).
    max_side : int or None
        Frames are downscaled (keeping aspect) so their longer side is at
        most this many pixels; ``None`` keeps the native size.
    num_frames : int or None
        Stop after this many grid frames (default: the media's duration × fps).

    Yields
    ------
    index : int
        Grid frame index.
    frame : (height, width, 3) np.ndarray of uint8, RGB

    Raises
    ------
    NoUsableStreamError, CorruptMediaError, EmptyMediaError
    """
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            raise NoUsableStreamError(path, "no video track")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if num_frames is None:
            declared = _stream_duration(stream) or (container.duration or 0) / av.time_base
            num_frames = max(1, int(round(declared * fps)))
        width, height = stream.codec_context.width, stream.codec_context.height
        scale = 1.0
        if max_side is not None and max(width, height) > max_side:
            scale = max_side / max(width, height)
        out_w, out_h = (int(round(width * scale)) // 2 * 2, int(round(height * scale)) // 2 * 2) if scale < 1 else (width, height)

        def to_rgb(frame) -> np.ndarray:
            if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0 and _bt601_limited(frame):
                # OpenCV's SIMD conversion and resize: ≈ 3× faster than swscale's rgb24 with scaling (the same BT.601
                # limited-range matrix; bilinear, or area averaging below half size). Other matrices/ranges: swscale.
                import cv2

                rgb = cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2RGB_I420)
                if (rgb.shape[1], rgb.shape[0]) != (out_w, out_h):
                    small = out_w < rgb.shape[1] / 2 or out_h < rgb.shape[0] / 2
                    rgb = cv2.resize(rgb, (out_w, out_h), interpolation=cv2.INTER_AREA if small else cv2.INTER_LINEAR)
            else:
                rgb = frame.to_ndarray(format="rgb24", width=out_w, height=out_h)
            turns = int(round((frame.rotation or 0) / 90.0)) % 4  # the display matrix (a phone's rotate tag): show it upright
            return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb

        k = 0
        prev = None
        yielded = 0
        frame_dur = 1.0 / float(stream.average_rate) if stream.average_rate else 1.0 / fps
        t = -frame_dur
        packets, damaged = 0, 0

        def decoded():
            nonlocal packets, damaged, prev
            for packet in container.demux(stream):
                packets += packet.size > 0
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:  # a damaged packet: skip it; grid frames up to the next good frame get no picture
                    damaged += 1
                    prev = None
                    continue
                yield from frames

        try:
            for frame in decoded():
                # Presentation times drive the grid; missing or non-increasing
                # ones (broken muxers) fall back to counting frames.
                t = frame.time if frame.time is not None and frame.time > t else t + frame_dur
                while k < num_frames and (k + 0.5) / fps < t:
                    if prev is not None:
                        yield k, to_rgb(prev)
                        yielded += 1
                    k += 1
                prev = frame
                if k >= num_frames:
                    break
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(path, f"video stream is corrupt or truncated ({exc.strerror or exc})") from None
        if packets and damaged > MAX_DAMAGED_FRACTION * packets:
            raise CorruptMediaError(path, f"video stream is corrupt: {damaged} of {packets} packets could not be decoded")
        if damaged:
            _report(f"{path}: {damaged} damaged video packet(s) could not be decoded; the frames they held have no face reading, "
                          "the rest of the video is read")
        if prev is not None:
            while k < num_frames and (k + 0.5) / fps < t + frame_dur + 1e-6:
                yield k, to_rgb(prev)
                yielded += 1
                k += 1
            if yielded == 0:  # one frame shorter than a grid step (a one-frame video, a still image): it shows at frame 0
                yield 0, to_rgb(prev)
                yielded = 1
        if yielded == 0:
            raise EmptyMediaError(path, "video track has no decodable frames")


def num_grid_frames(duration: float, fps: float = 10.0) -> int:
    """Number of grid frames covering ``duration`` seconds: ``max(1, round(duration * fps))``."""
    return max(1, int(math.floor(duration * fps + 0.5)))
