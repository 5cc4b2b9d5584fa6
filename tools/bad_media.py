"""Bad and unusual inputs made from the bundled clips, with the outcome emorec documents for each (issue 21's harness).

``make_all(out_dir)`` writes every kind and returns ``{kind: Case}``; a case is the command-line inputs (files, flags)
and the expected outcome: the exit code of ``emorec analyze`` and a text that must appear in its output (an error that
names the problem, or a note in the summary). Used by ``tests/test_bad_media.py`` (every kind, every CI run) and
``benchmarks/reliability.py`` (kinds / crashes / tracebacks / lost outputs). The README's outcome table lists the same
kinds. Never committed: everything is generated from ``tests/data`` with PyAV, soundfile and numpy.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TALKING_HEAD = DATA / "talking_head.mp4"
RAVDESS = DATA / "03-01-05-02-01-01-01.flac"
GERMAN = DATA / "emodb_03a02Ta.flac"
MEAD = DATA / "mead_M030_sad.mp4"


@dataclass
class Case:
    """One kind of input and its documented outcome.

    Attributes
    ----------
    inputs : list of Path — the files (or folders) given to ``emorec analyze``
    code : int — expected exit code (0 ok, 1 a batch with failures, 2 bad input or usage)
    expect : str — text that must appear in stdout + stderr (the error or the note; case-insensitive)
    outcome : str — the outcome in words (the README table)
    out : Path or None — ``--out`` to use instead of a fresh folder (unwritable outputs)
    flags : list of str
    """

    inputs: list[Path]
    code: int
    expect: str
    outcome: str
    out: Path | None = None
    flags: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- makers
def truncate(src: Path, dst: Path, share: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * share)])
    return dst


def remux(src: Path, dst: Path, keep: tuple[str, ...] = ("audio", "video")) -> Path:
    """Copy ``src``'s streams of the ``keep`` types into ``dst`` (no re-encoding)."""
    import av

    with av.open(str(src)) as s, av.open(str(dst), "w") as d:
        outs = {st.index: d.add_stream_from_template(st) for st in s.streams if st.type in keep}
        for p in s.demux():
            if p.dts is None or p.stream.index not in outs:
                continue
            p.stream = outs[p.stream.index]
            d.mux(p)
    return dst


def rotate_tag(src: Path, dst: Path, degrees: int) -> Path:
    """Copy an MP4 with the display matrix of its video track's ``tkhd`` box set to a clockwise rotation of ``degrees``
    (what a phone writes for a portrait video; ffprobe shows it as ``rotate``). The coded frames are unchanged."""
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


def audio_with_gap(dst: Path, before: float = 2.0, gap: float = 3.0, after: float = 2.0, sample_rate: int = 16000) -> Path:
    """A recording paused and resumed: a 440 Hz tone for ``before`` s, a jump of ``gap`` s in the timestamps, ``after`` s
    more (PCM in Matroska, every frame with its own pts)."""
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


def synthetic_video(dst: Path, frames: int, size: tuple[int, int] = (64, 64), fps: int = 25, pts_steps: list[int] | None = None) -> Path:
    """An H.264 video of ``frames`` grey frames (``size`` = width, height); ``pts_steps``: per-frame pts increments in
    1/``fps`` units (variable frame rate)."""
    import av

    w, h = size
    with av.open(str(dst), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.time_base = Fraction(1, fps * 10)
        pts = 0
        for k in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((h, w, 3), 60 + (k * 7) % 120, np.uint8), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, fps * 10)
            pts += 10 * (pts_steps[k % len(pts_steps)] if pts_steps else 1)
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return dst


def reencode_video(src: Path, dst: Path, pts_steps: list[int]) -> Path:
    """Re-encode ``src``'s video frames with irregular timestamps (variable frame rate) and drop its audio."""
    import av

    with av.open(str(src)) as s, av.open(str(dst), "w") as d:
        vin = s.streams.video[0]
        out = d.add_stream("libx264", rate=25)
        out.width, out.height, out.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        out.codec_context.time_base = Fraction(1, 250)
        pts = 0
        for k, frame in enumerate(s.decode(vin)):
            f = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            f.pts, f.time_base = pts, Fraction(1, 250)
            pts += 10 * pts_steps[k % len(pts_steps)]
            for pkt in out.encode(f):
                d.mux(pkt)
        for pkt in out.encode():
            d.mux(pkt)
    return dst


def wav(dst: Path, audio: np.ndarray, rate: int) -> Path:
    import soundfile as sf

    sf.write(dst, audio, rate)
    return dst


def face_photo(dst: Path) -> Path:
    """A still frame of the talking head, as an image file (``dst``'s suffix picks the format)."""
    import cv2

    from emorec.io.media import iter_video_frames

    frame = next(iter_video_frames(TALKING_HEAD, max_side=None))[1]
    cv2.imwrite(str(dst), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return dst


# --------------------------------------------------------------------------- the kinds
def make_all(root: str | Path) -> dict[str, Case]:
    """Write every kind of input under ``root`` and return the cases, in a stable order."""
    from emorec.io.media import load_audio

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    speech16 = load_audio(RAVDESS, 16000)
    cases: dict[str, Case] = {}

    def add(name: str, inputs, code: int, expect: str, outcome: str, **kw) -> None:
        cases[name] = Case([Path(p) for p in (inputs if isinstance(inputs, list) else [inputs])], code, expect, outcome, **kw)

    for share in (0.1, 0.5, 0.9):
        add(f"truncated_{int(share * 100)}pct", truncate(TALKING_HEAD, root / f"truncated_{int(share * 100)}.mp4", share), 2, "truncated",
            f"mp4 cut at {int(share * 100)} % of its bytes: exit 2, 'corrupt or truncated' with the file name")
    add("truncated_audio", truncate(RAVDESS, root / "truncated.flac", 1 / 3), 2, "audio is truncated",
        "FLAC cut at a third: exit 2, 'audio is truncated: decoded 1.15 s of the 4.10 s the header declares'")
    rng = np.random.default_rng(0)
    (root / "random.mp4").write_bytes(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    add("random_bytes", root / "random.mp4", 2, "not an audio or video file", "random bytes named .mp4: exit 2, 'not an audio or video file that FFmpeg can read'")
    (root / "empty.mp4").write_bytes(b"")
    add("zero_length_mp4", root / "empty.mp4", 2, "empty", "0-byte mp4: exit 2, 'empty file'")
    (root / "empty.wav").write_bytes(b"")
    add("zero_length_wav", root / "empty.wav", 2, "empty", "0-byte wav: exit 2, 'empty file'")
    (root / "notes.mp4").write_text("not a media file\n")
    add("text_named_mp4", root / "notes.mp4", 2, "not an audio or video file", "a text file named .mp4: exit 2, 'not an audio or video file'")
    (root / "voice.mp4").write_bytes(RAVDESS.read_bytes())
    add("audio_named_mp4", root / "voice.mp4", 0, "no video track", "a FLAC file named .mp4: read by its content, voice + words, note 'no video track'")
    (root / "video.wav").write_bytes(TALKING_HEAD.read_bytes())
    add("video_named_wav", root / "video.wav", 0, "", "an mp4 named .wav: read by its content, all modalities")
    add("video_only", remux(TALKING_HEAD, root / "video_only.mp4", ("video",)), 0, "no audio track", "video without an audio track: face only, note 'no audio track'")
    add("audio_only", RAVDESS, 0, "no video track", "audio file: voice + words, note 'no video track'")
    for degrees in (90, 180, 270):
        add(f"rotated{degrees}", rotate_tag(TALKING_HEAD, root / f"rotated{degrees}.mp4", degrees), 0, "",
            f"rotation tag {degrees}°: frames turned as a player shows them, the face is found")
    add("variable_frame_rate", reencode_video(MEAD, root / "vfr.mp4", [1, 3, 1, 2]), 0, "no audio track",
        "variable frame rate (1-3 frame steps): frames placed by their timestamps")
    add("narrow_band_8k", wav(root / "phone8k.wav", load_audio(RAVDESS, 8000), 8000), 0, "narrow-band",
        "8 kHz telephone audio: read, note 'narrow-band audio' (the voice models were trained on wide-band speech)")
    add("six_channels", wav(root / "six.wav", np.tile(speech16[:, None], (1, 6)) * 0.5, 16000), 0, "", "6-channel audio: down-mixed")
    add("timestamp_gap", audio_with_gap(root / "gap.mkv"), 0, "gap", "audio with a 3 s jump in its timestamps: placed by time, the gap masked and reported")
    add("audio_bit_flips", flip_bits(TALKING_HEAD, root / "audio_flips.mp4", "audio"), 0, "damaged",
        "bit flips in the audio packets: damaged packets skipped and masked, the video intact, damage reported")
    add("video_bit_flips", flip_bits(TALKING_HEAD, root / "video_flips.mp4", "video", every=15), 0, "",
        "bit flips in the video packets: damaged frames skipped, the audio intact")
    add("non_english", GERMAN, 0, "does not sound like english", "German speech: words dropped with a note (--language en keeps them)")
    add("silence", wav(root / "silence.wav", np.zeros(16000 * 3, np.float32), 16000), 2, "silen", "3 s of digital silence, audio only: exit 2, 'silent'")
    add("very_short_wav", wav(root / "short.wav", speech16[16000 : 16000 + 800], 16000), 0, "", "a 0.05 s wav: one 10 Hz frame")
    add("very_short_mp4", synthetic_video(root / "short.mp4", 1), 0, "", "a one-frame (0.04 s) mp4: one 10 Hz frame — the same rule as for audio")
    add("one_frame_video", synthetic_video(root / "one_frame.mp4", 1, (320, 240)), 0, "no face", "one frame without a face: read, note 'no face found'")
    add("image", face_photo(root / "photo.jpg"), 0, '"num_faces": 1', "a face photo (.jpg): every face read (faces.csv, annotated.png, report.html)")
    blank = root / "blank.png"
    import cv2

    cv2.imwrite(str(blank), np.full((240, 320, 3), 128, np.uint8))
    add("image_without_face", blank, 2, "no face found", "an image without a face: exit 2, 'no face found in the image'")
    add("huge_frames", synthetic_video(root / "huge.mp4", 3, (3840, 2160)), 0, "no face", "3840×2160 frames: downscaled before detection")
    odd = root / "clip ünï (1) #.mp4"
    odd.write_bytes(MEAD.read_bytes())
    add("odd_file_name", odd, 0, "", "spaces, non-ASCII and '#' in the name: read, output folder named after it")
    link = root / "linked.mp4"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(MEAD)
    add("symlink", link, 0, "", "a symlink to a clip: followed")
    blocker = root / "out_is_a_file"
    blocker.write_text("x")
    if os.geteuid() != 0:  # root writes into read-only folders: then a folder that cannot be created stands in for it
        readonly = root / "readonly_out"
        readonly.mkdir(exist_ok=True)
        os.chmod(readonly, 0o555)
        add("unwritable_output", MEAD, 2, "cannot be written", "--out in a read-only folder: exit 2 before any decoding, naming the folder",
            out=readonly / "result")
    else:
        add("unwritable_output", MEAD, 2, "cannot be written", "--out that cannot be created (read-only folder, or a file in its path): exit 2 before any "
            "decoding, naming the folder", out=blocker / "result")
    add("unwritable_store", MEAD, 2, "feature store cannot be written", "--store that cannot be written: exit 2 before any decoding",
        flags=["--store", str(blocker / "store")])
    add("output_is_a_file", MEAD, 2, "not a folder", "--out names an existing file: exit 2 before any decoding", out=blocker)
    for sub in ("a", "b"):
        (root / sub).mkdir(exist_ok=True)
        (root / sub / "clip.mp4").write_bytes(MEAD.read_bytes())
    add("duplicate_stems", [root / "a" / "clip.mp4", root / "b" / "clip.mp4"], 0, "", "a/clip.mp4 and b/clip.mp4 in one batch: two output folders, index.csv maps them")
    add("missing_file", root / "no_such_file.mp4", 2, "not found", "a path that does not exist: exit 2, 'file not found'")
    add("batch_with_bad_file", [MEAD, root / "random.mp4"], 1, "1 of 2 file(s) failed", "a batch with one bad file: the good one done, exit 1, the bad one listed")
    return cases


def markdown_table(cases: dict[str, Case]) -> str:
    """The README's outcome table: kind, exit code, outcome."""
    lines = ["| input | exit | outcome |", "|---|---|---|"]
    lines += [f"| `{name}` | {c.code} | {c.outcome} |" for name, c in cases.items()]
    return "\n".join(lines)


if __name__ == "__main__":  # python tools/bad_media.py OUT_DIR  → writes the inputs, prints the README table
    import sys

    print(markdown_table(make_all(sys.argv[1] if len(sys.argv) > 1 else "bad_media")))


def side_by_side(left: Path, right: Path, dst: Path, size: int = 360, fps: int = 25) -> Path:
    """Two talking-head videos side by side (each resized to ``size``², centre-cropped square) with the *left* clip's
    audio only, as long as the shorter one: one person speaks (the left), the other moves their lips to other words."""
    import av
    import cv2

    def frames(path):
        with av.open(str(path)) as c:
            for f in c.decode(c.streams.video[0]):
                img = f.to_ndarray(format="rgb24")
                h, w = img.shape[:2]
                s = min(h, w)
                img = img[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
                yield cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)

    with av.open(str(left)) as a, av.open(str(right)) as b:
        seconds = min(a.duration, b.duration) / av.time_base
        left_fps = float(a.streams.video[0].average_rate)
        right_fps = float(b.streams.video[0].average_rate)
    la, rb = list(frames(left)), list(frames(right))
    n = int(seconds * fps)
    with av.open(str(dst), "w") as out:
        v = out.add_stream("libx264", rate=fps)
        v.codec_context.thread_count = 1  # one encoder thread: the same frames on every run (with frame threads, about one encoding in six differed)
        v.width, v.height, v.pix_fmt = 2 * size, size, "yuv420p"
        aud = out.add_stream("aac", rate=16000, layout="mono")
        for k in range(n):
            i, j = min(len(la) - 1, int(k / fps * left_fps)), min(len(rb) - 1, int(k / fps * right_fps))
            frame = av.VideoFrame.from_ndarray(np.concatenate([la[i], rb[j]], axis=1), format="rgb24")
            for pkt in v.encode(frame):
                out.mux(pkt)
        for pkt in v.encode():
            out.mux(pkt)
        from emorec.io.media import load_audio

        sound = (np.clip(load_audio(left, 16000)[: int(seconds * 16000)], -1, 1) * 32767).astype(np.int16)
        for s in range(0, len(sound), 1024):
            fr = av.AudioFrame.from_ndarray(sound[None, s : s + 1024], format="s16", layout="mono")
            fr.sample_rate, fr.pts, fr.time_base = 16000, s, Fraction(1, 16000)
            for pkt in aud.encode(fr):
                out.mux(pkt)
        for pkt in aud.encode(None):
            out.mux(pkt)
    return dst
