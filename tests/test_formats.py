"""Containers and codecs users bring: mkv/mov/avi/webm video, wav/mp3/ogg/flac audio (made from real clips here)."""

from fractions import Fraction

import av
import numpy as np
import pytest

from emorec.io.media import iter_video_frames, load_audio, probe


def _transcode(src, dst, video_codec=None, audio_codec=None, seconds=2.0):
    """Re-encode the first ``seconds`` of ``src`` (real content) into ``dst``."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vs = as_ = None
        if video_codec and inp.streams.video:
            vs = out.add_stream(video_codec, rate=25)
            vs.width, vs.height, vs.pix_fmt = 320, 320, "yuv420p"
        n_video = 0
        if audio_codec and inp.streams.audio:
            as_ = out.add_stream(audio_codec, rate=48000 if audio_codec == "libopus" else 16000)
            as_.layout = "mono"
        resampler = av.AudioResampler(format=as_.format.name if as_ else "s16", layout="mono", rate=as_.rate if as_ else 16000) if as_ else None
        streams = [s for s in (inp.streams.video[0] if vs else None, inp.streams.audio[0] if as_ else None) if s is not None]
        for frame in inp.decode(*streams):
            if frame.time is not None and frame.time > seconds:
                continue
            if isinstance(frame, av.VideoFrame):
                frame = frame.reformat(width=320, height=320, format="yuv420p")
                frame.pts, frame.time_base = n_video, Fraction(1, 25)
                n_video += 1
                out.mux(vs.encode(frame))
            else:
                for f in resampler.resample(frame):
                    f.pts = None
                    out.mux(as_.encode(f))
        if vs:
            out.mux(vs.encode(None))
        if as_:
            out.mux(as_.encode(None))
    return dst


@pytest.mark.parametrize("ext,vcodec,acodec", [("mkv", "libx264", "aac"), ("mov", "libx264", "aac"), ("avi", "mpeg4", "mp3"), ("webm", "libvpx", "libopus")])
def test_video_containers(talking_head, tmp_path, ext, vcodec, acodec):
    path = _transcode(talking_head, tmp_path / f"clip.{ext}", vcodec, acodec)
    info = probe(path)
    assert info.has_video and info.has_audio
    wav = load_audio(path)
    assert 1.5 < wav.size / 16000 < 2.6 and np.abs(wav).max() > 0.01
    frames = list(iter_video_frames(path, 10.0, 160))
    assert 15 <= len(frames) <= 26


@pytest.mark.parametrize("ext,acodec", [("wav", "pcm_s16le"), ("mp3", "libmp3lame"), ("ogg", "libopus"), ("flac", "flac")])
def test_audio_formats(ravdess_clip, tmp_path, ext, acodec):
    path = _transcode(ravdess_clip, tmp_path / f"clip.{ext}", None, acodec, seconds=3.0)
    info = probe(path)
    assert info.has_audio and not info.has_video
    wav = load_audio(path)
    ref = load_audio(ravdess_clip)[: wav.size]
    assert abs(wav.size / 16000 - 3.0) < 0.2
    # same content: the decoded copy correlates with the original (allowing codec delay)
    lag = int(np.argmax(np.correlate(wav[:16000], ref[:16000], "full"))) - 15999
    a = wav[max(lag, 0):][:32000]
    b = ref[max(-lag, 0):][: a.size]
    assert np.corrcoef(a, b)[0, 1] > 0.8
