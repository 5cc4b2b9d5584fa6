"""Shared fixtures: real clips from tests/data, damaged copies made on the fly, one feature store per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from bad_media import audio_with_gap, flip_bits, rotate_tag  # noqa: E402  (the bad-media harness's makers)

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
