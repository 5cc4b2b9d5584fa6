"""Shared fixtures: real clips from tests/data, damaged copies made on the fly, one feature store per session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def talking_head() -> Path:
    return DATA / "talking_head.mp4"


@pytest.fixture(scope="session")
def ravdess_clip() -> Path:
    return DATA / "03-01-05-02-01-01-01.flac"


@pytest.fixture(scope="session")
def session_store(tmp_path_factory):
    from emorec.store import FeatureStore

    return FeatureStore(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="session")
def damaged(tmp_path_factory, talking_head, ravdess_clip) -> dict[str, Path]:
    """Bad inputs made from real clips: truncated mp4, random bytes, video with its audio dropped, silence, empty."""
    import av
    import soundfile as sf

    root = tmp_path_factory.mktemp("damaged")
    out = {}
    data = talking_head.read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 3])
    out["truncated"] = root / "truncated.mp4"
    rng = np.random.default_rng(0)
    (root / "random.mp4").write_bytes(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    out["random"] = root / "random.mp4"
    (root / "empty.wav").write_bytes(b"")
    out["empty"] = root / "empty.wav"
    # remux the video stream alone (audio dropped)
    noaudio = root / "noaudio.mp4"
    with av.open(str(talking_head)) as src, av.open(str(noaudio), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            dst.mux(packet)
    out["noaudio"] = noaudio
    sf.write(root / "silence.wav", np.zeros(16000 * 3, np.float32), 16000)
    out["silence"] = root / "silence.wav"
    # truncated audio: the first third of a real FLAC file's bytes
    flac = ravdess_clip.read_bytes()
    (root / "truncated.flac").write_bytes(flac[: len(flac) // 3])
    out["truncated_audio"] = root / "truncated.flac"
    (root / "notes.txt").write_text("not a media file\n")
    out["text"] = root / "notes.txt"
    out["audio_gap"] = audio_with_gap(root / "gap.mkv")
    out["audio_bitflips"] = flip_bits(talking_head, root / "bitflips.mp4", "audio")
    for degrees in (90, 180, 270):  # a phone's rotation tag: the same stream with a display matrix in the video track header
        out[f"rotated{degrees}"] = rotate_tag(talking_head, root / f"rotated{degrees}.mp4", degrees)
    return out


def rotate_tag(src: Path, dst: Path, degrees: int) -> Path:
    """Copy an MP4 with the display matrix of its video track's ``tkhd`` box set to a clockwise rotation of ``degrees``
    (what a phone writes for a portrait video; ffprobe shows it as ``rotate``). The coded frames are unchanged."""
    import struct

    data = bytearray(src.read_bytes())
    c, s = {90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees]

    def fixed(v: float) -> bytes:
        return struct.pack(">i", int(v * 65536))

    matrix = fixed(c) + fixed(s) + bytes(4) + fixed(-s) + fixed(c) + bytes(4) + bytes(8) + struct.pack(">i", 1 << 30)
    pos, patched = 0, 0
    while (t := data.find(b"tkhd", pos)) >= 0:
        m = t + 4 + 4 + (32 if data[t + 4] == 1 else 20) + 16  # version/flags, times/ids/duration, reserved, layer..volume
        if any(struct.unpack(">II", data[m + 36 : m + 44])):  # the video track (non-zero width/height)
            data[m : m + 36] = matrix
            patched += 1
        pos = t + 4
    assert patched == 1, f"{src}: expected one video track header"
    dst.write_bytes(bytes(data))
    return dst


@pytest.fixture(scope="session")
def ravdess_root() -> Path:
    root = SHARED / "ravdess_speech_16k"
    if not root.exists():
        pytest.skip("../shared/data is not beside the checkout")
    return root


@pytest.fixture(scope="session")
def voice_store(tmp_path_factory):
    """One feature store for the voice-training tests (three RAVDESS actors' features are computed once)."""
    return tmp_path_factory.mktemp("voice_store")


def audio_with_gap(dst: Path, before: float = 2.0, gap: float = 3.0, after: float = 2.0, sample_rate: int = 16000) -> Path:
    """A recording paused and resumed: a 440 Hz tone for ``before`` s, a jump of ``gap`` s in the timestamps, ``after`` s
    more (PCM in Matroska, every frame with its own pts)."""
    from fractions import Fraction

    import av

    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(sample_rate * max(before, after))) / sample_rate) * 32767).astype(np.int16)
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=sample_rate, layout="mono")
        pts = 0
        for seconds, jump in ((before, gap), (after, 0.0)):
            for i in range(0, int(seconds * sample_rate), 1600):
                frame = av.AudioFrame.from_ndarray(tone[None, i : i + 1600], format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = sample_rate, pts, Fraction(1, sample_rate)
                pts += frame.samples
                for packet in stream.encode(frame):
                    out.mux(packet)
            pts += int(jump * sample_rate)
        for packet in stream.encode(None):
            out.mux(packet)
    return dst


def flip_bits(src: Path, dst: Path, kind: str = "audio", every: int = 20, flips: int = 8, seed: int = 0) -> Path:
    """Remux ``src`` with ``flips`` random bits flipped in every ``every``-th packet of its ``kind`` stream (the other
    streams intact)."""
    import av

    rng = np.random.default_rng(seed)
    with av.open(str(src)) as s, av.open(str(dst), "w") as d:
        outs = {st.index: d.add_stream_from_template(st) for st in s.streams if st.type in ("audio", "video")}
        count = 0
        for p in s.demux():
            if p.dts is None or p.stream.index not in outs:
                continue
            target = outs[p.stream.index]
            if p.stream.type == kind:
                count += 1
                if count % every == every // 2:
                    data = bytearray(bytes(p))
                    for _ in range(flips):
                        i = int(rng.integers(0, len(data)))
                        data[i] ^= 1 << int(rng.integers(0, 8))
                    q = av.Packet(bytes(data))
                    q.pts, q.dts, q.time_base = p.pts, p.dts, p.time_base
                    p = q
            p.stream = target
            d.mux(p)
    return dst
