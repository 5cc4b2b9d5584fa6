"""Benchmark `emorec extract`: real-time factor and peak memory per modality.

Runs each modality's extractors in a fresh process (so peak memory is that
modality's own) on the bundled talking-head clip and on the same clip remuxed
to 10 minutes, with an empty store each time, and prints the real-time factor
(processing seconds / media seconds) and peak RSS, plus the 10 min / short
ratios: memory should stay flat (ratio near 1) and the real-time factor should
not grow with length.

Usage: python benchmarks/extract.py [--minutes 10] [--results results/bench_extract.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import OUT, concat_to, timed_child, write_json

CLIP = Path(__file__).resolve().parents[1] / "tests" / "data" / "talking_head.mp4"
GROUPS = {
    "audio": ("audio.vad", "audio.egemaps", "audio.logmel", "audio.moonshine"),
    "face": ("face.track", "face.cnn"),
    "text": ("audio.vad", "text.asr", "text.minilm"),
}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    long_clip = concat_to(CLIP, OUT / f"talking_head_{args.minutes:g}min.mp4", args.minutes * 60)
    rows = []
    print(f"{'input':28s} {'modality':8s} {'media s':>8s} {'proc s':>8s} {'RTF':>7s} {'peak MiB':>9s}")
    for label, path in (("talking_head (6 s)", CLIP), (f"talking_head ×{args.minutes:g} min", long_clip)):
        for modality, names in GROUPS.items():
            r = timed_child(
                "from emorec.pipelines.extract import extract_clip\nfrom emorec.store import FeatureStore",
                f"extract_clip({str(path)!r}, FeatureStore(tempfile.mkdtemp()), {names!r})",
            )
            r.update(input=f"{label} [{modality}]", modality=modality, real_time_factor=r["seconds"] / r["media_seconds"])
            rows.append(r)
            print(f"{label:28s} {modality:8s} {r['media_seconds']:8.1f} {r['seconds']:8.1f} {r['real_time_factor']:7.3f} {r['peak_mib']:9.0f}", flush=True)
    n = len(GROUPS)
    print("\n10-min / short ratios (memory should stay near 1):")
    for short, long in zip(rows[:n], rows[n:]):
        print(f"  {short['modality']:6s} RTF ratio {long['real_time_factor'] / short['real_time_factor']:.2f}   peak-memory ratio {long['peak_mib'] / short['peak_mib']:.2f}")
    if args.results:
        write_json("extract", rows, args.results)


if __name__ == "__main__":
    main()
