"""Benchmark `emorec analyze`'s peak memory against the input's length: 1 / 10 / 60 minutes of audio and of video.

Issue 21 item 13: peak resident memory must be flat in length — a 1-hour audio file and a 1-hour video each
≤ 2 GiB on this machine. Each input is analysed in a fresh process with an empty feature store (models loaded inside
the measurement); the table gives peak RSS (the child's ``ru_maxrss``), its ratio to the 1-minute input of the same
kind, and the real-time factor.

Inputs (built once under benchmarks/out/, not committed):
- audio: RAVDESS speech (../shared/data/ravdess_speech_16k) joined back to back into one 16 kHz wav — real speech,
  a new sentence every ~3.5 s, so the VAD, the recogniser and the readings work throughout;
- video: the bundled talking-head clip (tests/data/talking_head.mp4) remuxed back to back (no re-encoding).

Usage: python benchmarks/memory.py [--minutes 1,10,60] [--kinds audio,video] [--results results/bench_memory.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import OUT, commit, concat_to, timed_child, write_json

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "data" / "talking_head.mp4"
SPEECH = ROOT.parent / "shared" / "data" / "ravdess_speech_16k"
LIMIT_MIB = 2048


def speech_wav(dst: Path, seconds: float) -> Path:
    """RAVDESS speech clips (sorted by name) joined into one ``seconds``-long 16 kHz mono wav."""
    import soundfile as sf

    if dst.exists():
        return dst
    files = sorted(SPEECH.glob("*/*.flac"))
    if not files:
        raise SystemExit(f"no RAVDESS speech under {SPEECH}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(str(dst), "w", samplerate=16000, channels=1, subtype="PCM_16") as out:
        written, k = 0, 0
        while written < seconds * 16000:
            x, rate = sf.read(str(files[k % len(files)]), dtype="float32", always_2d=True)
            assert rate == 16000, files[k]
            x = x.mean(axis=1)[: int(seconds * 16000) - written]
            out.write(x)
            written += x.size
            k += 1
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="1,10,60", help="comma-separated input lengths, minutes")
    parser.add_argument("--kinds", default="audio,video")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    minutes = [float(m) for m in args.minutes.split(",")]
    rows = []
    print(f"{'input':34s} {'minutes':>7s} {'peak MiB':>9s} {'× 1st':>6s} {'RTF':>6s}  ≤ {LIMIT_MIB} MiB", flush=True)
    for kind in args.kinds.split(","):
        first = None
        for m in minutes:
            if kind == "audio":
                path, label = speech_wav(OUT / f"ravdess_speech_{m:g}min.wav", m * 60), f"RAVDESS speech wav ×{m:g} min"
            else:
                path, label = concat_to(CLIP, OUT / f"talking_head_{m:g}min.mp4", m * 60), f"talking_head mp4 ×{m:g} min"
            r = timed_child("from emorec.pipelines.analyze import analyze", f"analyze({str(path)!r}, tempfile.mkdtemp(), store=tempfile.mkdtemp())")
            first = first or r["peak_mib"]
            r["commit"] = commit()  # the code measured (a long run may outlive a commit)
            r.update(input=label, kind=kind, minutes=m, real_time_factor=r["seconds"] / r["media_seconds"], peak_ratio=r["peak_mib"] / first)
            rows.append(r)
            ok = "yes" if r["peak_mib"] <= LIMIT_MIB else "NO"
            print(f"{label:34s} {m:7g} {r['peak_mib']:9.0f} {r['peak_ratio']:6.2f} {r['real_time_factor']:6.3f}  {ok}", flush=True)
    peaks = np.array([r["peak_mib"] for r in rows])
    print(f"\nlargest peak {peaks.max():.0f} MiB; largest ratio to the 1st length of its kind {max(r['peak_ratio'] for r in rows):.2f}")
    if args.results:
        write_json("memory", rows, args.results)


if __name__ == "__main__":
    main()
