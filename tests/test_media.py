"""Decoding real clips, and the clear errors for every kind of bad input."""

import numpy as np
import pytest

from emorec.errors import CorruptMediaError, EmptyMediaError, MediaNotFoundError, NotMediaError, NoUsableStreamError, SilentAudioError
from emorec.io.media import MediaWarning, iter_video_frames, load_audio, probe


def test_probe_video(talking_head):
    info = probe(talking_head)
    assert info.has_audio and info.has_video
    assert 6.0 < info.duration < 6.3
    assert (info.width, info.height) == (700, 700)


def test_load_audio_16k_mono(talking_head):
    wav = load_audio(talking_head)
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert abs(wav.size / 16000 - 6.1) < 0.1
    assert np.abs(wav).max() <= 1.0 and np.abs(wav).max() > 0.05


def test_video_frames_on_10hz_grid(talking_head):
    frames = list(iter_video_frames(talking_head, fps=10.0, max_side=320))
    idx = [k for k, _ in frames]
    assert idx == list(range(len(idx)))
    assert 60 <= len(idx) <= 62
    assert frames[0][1].shape == (320, 320, 3) and frames[0][1].dtype == np.uint8


def test_missing_file(tmp_path):
    with pytest.raises(MediaNotFoundError, match="not found"):
        probe(tmp_path / "nope.mp4")


def test_random_bytes_is_not_media(damaged):
    with pytest.raises(NotMediaError) as err:
        probe(damaged["random"])
    assert str(damaged["random"]) in str(err.value)


def test_text_file_is_not_media(damaged):
    with pytest.raises(NotMediaError):
        load_audio(damaged["text"])


def test_truncated_mp4_is_corrupt(damaged):
    with pytest.raises(CorruptMediaError) as err:
        load_audio(damaged["truncated"])
    assert "truncated" in str(err.value) and str(damaged["truncated"]) in str(err.value)


def test_truncated_flac_is_corrupt(damaged):
    with pytest.raises(CorruptMediaError, match="truncated"):
        load_audio(damaged["truncated_audio"])


def test_empty_file(damaged):
    with pytest.raises(EmptyMediaError, match="empty"):
        probe(damaged["empty"])


def test_video_without_audio(damaged):
    info = probe(damaged["noaudio"])
    assert info.has_video and not info.has_audio
    with pytest.raises(NoUsableStreamError, match="no audio track"):
        load_audio(damaged["noaudio"])


def test_audio_file_has_no_video(ravdess_clip):
    with pytest.raises(NoUsableStreamError, match="no video track"):
        next(iter_video_frames(ravdess_clip))


def test_silent_audio_only_file_is_refused(damaged, tmp_path):
    from emorec.pipelines.extract import extract_clip

    with pytest.raises(SilentAudioError, match="silence"):
        extract_clip(damaged["silence"], None, ("audio.vad",))


def _video(path, frames: int, fps: int = 25):
    import av
    import numpy as np

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width = s.height = 64
        s.pix_fmt = "yuv420p"
        for _ in range(frames):
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 100, np.uint8), format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def test_one_frame_and_very_short_videos_are_read(tmp_path):
    """A one-frame video (40 ms) and a 2-frame one (80 ms) are shorter than a grid step: the frame shows at grid frame 0
    (one rule for video and audio: a 0.05 s wav gives one grid frame too)."""
    from emorec.io.media import iter_video_frames

    for n in (1, 2):
        frames = list(iter_video_frames(_video(tmp_path / f"v{n}.mp4", n)))
        assert [k for k, _ in frames] == [0] and frames[0][1].shape == (64, 64, 3)


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_tag_is_honoured(damaged, talking_head, degrees):
    """A phone's rotation tag (display matrix): frames come out as a player shows them — the original picture turned by
    the tag, clockwise (issue 21, item 6: sideways faces gave 0.14 face coverage and a confident wrong class)."""
    original = next(iter_video_frames(talking_head, max_side=None))[1]
    rotated = next(iter_video_frames(damaged[f"rotated{degrees}"], max_side=None))[1]
    np.testing.assert_array_equal(rotated, np.rot90(original, k=-degrees // 90))


def test_audio_timestamp_gaps_are_placed_in_time_and_reported(damaged):
    """A recording paused and resumed (issue 21, item 8): the audio after the jump stays at its time (not pulled 3 s early,
    which made voice and words drift against the video), the file is not called truncated, and the gap is reported."""
    gaps = []
    with pytest.warns(MediaWarning, match="1 timestamp gap"):
        wav = load_audio(damaged["audio_gap"], gaps=gaps)
    assert wav.size == pytest.approx(7 * 16000, abs=400)
    assert gaps == [(2.0, 5.0)]
    assert np.abs(wav[int(2.2 * 16000) : int(4.8 * 16000)]).max() == 0.0 and np.abs(wav[int(5.2 * 16000) :]).max() > 0.1


def test_damaged_audio_packets_are_skipped_not_the_whole_file(damaged, talking_head):
    """Issue 21, item 10: a few flipped bits in the audio stream used to reject the file, intact video included. Now the
    damaged packets are skipped (their spans silent and listed), the rest of the audio and all the video are read."""
    gaps = []
    with pytest.warns(MediaWarning, match="damaged audio packet"):
        wav = load_audio(damaged["audio_bitflips"], gaps=gaps)
    assert wav.size == pytest.approx(load_audio(talking_head).size, abs=1600)  # the clock is kept
    assert 0 < len(gaps) <= 15 and all(e > b for b, e in gaps)
    assert len(list(iter_video_frames(damaged["audio_bitflips"], max_side=64))) == len(list(iter_video_frames(talking_head, max_side=64)))


def test_an_undecodable_packet_after_all_declared_audio_is_not_damage(ravdess_root, tmp_path):
    """FFmpeg's FLAC parser can return one undecodable packet after the last frame of a valid file (found in an 8 kHz copy
    written by libsndfile): every declared sample decodes, so nothing is reported as damaged."""
    import warnings

    import soundfile as sf

    src = ravdess_root / "Actor_20" / "03-01-05-02-01-02-20.flac"
    dst = tmp_path / "band8k.flac"
    sf.write(dst, load_audio(src, 8000), 8000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MediaWarning)
        wav = load_audio(dst, 8000)
    assert wav.size == sf.info(dst).frames


@pytest.mark.parametrize("clip", ["talking_head.mp4", "mead_M030_sad.mp4"])
def test_frames_are_converted_as_swscale_converts_them(data_dir, clip):
    """BT.601 limited-range yuv420p frames (the talking head, 700 px, downscaled to 640) go through OpenCV's conversion
    and resize; others (the MEAD clip: full-range yuvj444p, 1920×1080) through swscale. Either way a frame is the picture
    PyAV's swscale makes at that size, within a few grey levels (interpolation), with the same geometry."""
    import av

    path = data_dir / clip
    with av.open(str(path)) as container:
        first = next(container.decode(video=0))
        fast = first.format.name == "yuv420p"
        ours = next(iter_video_frames(path, fps=1000.0, max_side=640, num_frames=1))[1]  # grid frame 0 = the first frame
        reference = first.to_ndarray(format="rgb24", width=ours.shape[1], height=ours.shape[0])
    difference = np.abs(ours.astype(int) - reference)
    assert ours.shape == reference.shape and max(ours.shape) == 640
    assert difference.mean() < 3.0 and np.percentile(difference, 99) < 20
    if not fast:
        assert difference.max() == 0  # swscale itself
