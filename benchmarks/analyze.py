"""Benchmark `emorec analyze`: real-time factor, CPU use and peak memory on 6 s, 30 s and 10-minute clips.

Each run is a fresh process with an empty feature store (cold: model loading included; the first-use caches — the
folded Moonshine graphs — already built). Each input is analysed in the same run by the baseline (the path before the
speed work: one thread, ``analyze(..., concurrent=False, face_precision="float32")``), emorec's default (the extractors
on two threads as their inputs are ready, the int8 face CNN) and, with ``--face-model`` (default
``face_cnn_distilled``), the default with that face model, with the ratios of their times. Prints processing seconds / media seconds, CPU use ((user + system) / wall / cores) and peak RSS,
and the memory ratio of the long clip to the short one (flat in length?). Then renders the short clip's report.html
in headless Chromium and saves a screenshot to benchmarks/out/report.png.

With ``--fusions masked_mean,tcn_gated`` the long clip is analysed once per fusion in the same run (features computed
once, in a shared store, by the first), and each fusion's own seconds (``summary.json: stage_seconds.fusion``) are
printed with their share of the first run's processing time.

Usage: python benchmarks/analyze.py [--minutes 10] [--fusions masked_mean,tcn_gated] [--results results/bench_analyze.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import OUT, concat_to, run_child, timed_child, write_json

CLIP = Path(__file__).resolve().parents[1] / "tests" / "data" / "talking_head.mp4"
MEAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "av_clips" / "mead_dreamtalk"
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess_speech_16k"



def batch_row(n: int) -> dict:
    """``emorec analyze`` on ``n`` short real clips at once (half MEAD face videos, half RAVDESS speech) against the sum
    of their single-clip times with the models already loaded: the batch should keep its models loaded across files
    (issue 19: ≤ 1.3 × that sum, model loading and imports included)."""
    import subprocess
    import sys
    import tempfile
    import time

    clips = sorted(MEAD.glob("*.mp4"))[: n // 2] + sorted(SPEECH.glob("*/*.flac"))[: n - n // 2]
    warm = run_child("\n".join([
        "import json, tempfile, time", "from emorec.pipelines.analyze import analyze",
        f"clips = {[str(c) for c in clips]!r}", "analyze(clips[0], None)  # models loaded before the clock",
        "spent, media = 0.0, 0.0",
        "for c in clips:",
        "    t = time.perf_counter(); r = analyze(c, tempfile.mkdtemp(), store=tempfile.mkdtemp()); spent += time.perf_counter() - t; media += r.duration",
        'print(json.dumps({"seconds": spent, "media_seconds": media, "peak_mib": 0}))',
    ]))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", *map(str, clips), "--out", tempfile.mkdtemp(), "--store", tempfile.mkdtemp(), "-q"], check=True)
    batch = time.perf_counter() - t
    print(f"batch of {len(clips)} short clips ({warm['media_seconds']:.0f} s of media): {batch:.1f} s in one `emorec analyze` (process start, "
          f"imports and model loading included) vs {warm['seconds']:.1f} s for the clips one by one with the models loaded: "
          f"{batch / warm['seconds']:.2f} × (target ≤ 1.3)", flush=True)
    return {"input": f"batch of {len(clips)} short clips (MEAD video, RAVDESS speech), one process", "seconds": batch, "media_seconds": warm["media_seconds"],
            "real_time_factor": batch / warm["media_seconds"], "peak_mib": None, "warm_sum_seconds": warm["seconds"], "batch_ratio": batch / warm["seconds"]}


def command_row(path: Path, out: Path) -> dict:
    """Wall time, CPU use and peak memory of the whole ``emorec analyze`` command on ``path`` (fresh store), timed from
    a fresh wrapper process whose only child is the command."""
    import sys
    import tempfile

    import av

    emorec = Path(sys.executable).with_name("emorec")
    command = [str(emorec), "analyze", str(path), "--out", str(out), "--store", tempfile.mkdtemp(), "-q"]
    with av.open(str(path)) as container:
        media = float(container.duration / av.time_base)
    r = run_child("\n".join([
        "import json, os, resource, subprocess, time",
        "t0 = time.perf_counter()",
        f"subprocess.run({command!r}, check=True)",
        "seconds = time.perf_counter() - t0",
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)",
        'print(json.dumps({"seconds": seconds, "peak_mib": u.ru_maxrss / 1024, "cpu_use": (u.ru_utime + u.ru_stime) / seconds / (os.cpu_count() or 1)}))',
    ]))
    return {"input": "talking_head (6 s), `emorec analyze` command, whole process", "media_seconds": media,
            "real_time_factor": r["seconds"] / media, **r}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--fusions", default="masked_mean", help="comma-separated fusions compared on the long clip")
    parser.add_argument("--batch", type=int, default=20, help="short real clips analysed as one batch (0: skip)")
    parser.add_argument("--face-model", default="face_cnn_distilled", help="a faster face model also measured on each input (face_cnn: none)")
    parser.add_argument("--inputs", default="short,30s,long", help="comma-separated inputs measured: short (6 s), 30s, long")
    args = parser.parse_args()
    long_clip = concat_to(CLIP, OUT / f"talking_head_{args.minutes:g}min.mp4", args.minutes * 60)
    mid_clip = concat_to(CLIP, OUT / "talking_head_30s.mp4", 30.0)
    rows = []
    print(f"{'input':56s} {'media s':>8s} {'proc s':>8s} {'RTF':>7s} {'CPU use':>8s} {'peak MiB':>9s}")
    inputs = (("talking_head (6 s)", CLIP, OUT / "analyze_short"), ("talking_head ×30 s", mid_clip, OUT / "analyze_30s"),
              (f"talking_head ×{args.minutes:g} min", long_clip, OUT / "analyze_long"))
    chosen = dict(zip(("short", "30s", "long"), inputs))
    inputs = [chosen[name.strip()] for name in args.inputs.split(",")]
    for label, path, out in inputs:
        pair = []
        modes = [("baseline: one thread, float32 face", False, "face_cnn", "float32"), ("default: two threads, int8 face", True, "face_cnn", "int8")]
        if args.face_model != "face_cnn":
            modes.append((f"default + {args.face_model}", True, args.face_model, "int8"))
        for mode, concurrent, face, precision in modes:
            r = timed_child("from emorec.pipelines.analyze import analyze",
                            f"analyze({str(path)!r}, {str(out)!r}, store=tempfile.mkdtemp(), concurrent={concurrent}, face_model={face!r}, "
                            f"face_precision={precision!r})")
            r.update(input=f"{label}, {mode}", real_time_factor=r["seconds"] / r["media_seconds"])
            rows.append(r)
            pair.append(r)
            print(f"{r['input']:56s} {r['media_seconds']:8.1f} {r['seconds']:8.1f} {r['real_time_factor']:7.3f} {r['cpu_use']:8.2f} {r['peak_mib']:9.0f}", flush=True)
        if path == CLIP:  # as a user runs it: the whole `emorec analyze` command (process start, imports, outputs)
            r = command_row(path, out)
            rows.append(r)
            print(f"{r['input']:56s} {r['media_seconds']:8.1f} {r['seconds']:8.1f} {r['real_time_factor']:7.3f} {r['cpu_use']:8.2f} {r['peak_mib']:9.0f}", flush=True)
        print(f"  {label}: default / baseline = {pair[1]['seconds'] / pair[0]['seconds']:.2f} of the time"
              + (f"; with {args.face_model}: {pair[2]['seconds'] / pair[0]['seconds']:.2f}" if len(pair) > 2 else ""), flush=True)
    if len(inputs) == 3:
        short, long = rows[1], rows[-len(modes) + 1]
        print(f"\nratios {args.minutes:g} min / 6 s (default path): RTF {long['real_time_factor'] / short['real_time_factor']:.2f}, "
              f"peak memory {long['peak_mib'] / short['peak_mib']:.2f}")
    fusions = [f.strip() for f in args.fusions.split(",") if f.strip()]
    if len(fusions) > 1:
        import json
        import tempfile

        store = tempfile.mkdtemp()
        first = None
        for fusion in fusions:
            out = OUT / f"analyze_long_{fusion}"
            r = timed_child("from emorec.pipelines.analyze import analyze", f"analyze({str(long_clip)!r}, {str(out)!r}, store={store!r}, fusion={fusion!r})")
            fusion_s = json.loads((out / "summary.json").read_text())["stage_seconds"]["fusion"]
            first = first or r["seconds"]
            r.update(input=f"talking_head ×{args.minutes:g} min, --fusion {fusion}", real_time_factor=r["seconds"] / r["media_seconds"])
            rows.append(r)
            print(f"--fusion {fusion:12s}: run {r['seconds']:.1f} s (features {'computed' if r['seconds'] == first else 'from the store'}), "
                  f"fusion itself {fusion_s:.3f} s = {100 * fusion_s / first:.2f} % of the full first run")
    if args.batch:
        rows.append(batch_row(args.batch))
    try:
        from emorec.report.browser import render

        dom = render(OUT / "analyze_short" / "report.html", OUT / "report.png")
        has_table, has_plot = 'id="segments"' in dom, "data:image/png" in dom
        print(f"report rendered in Chromium: {OUT / 'report.png'} (segments table: {has_table}, plot: {has_plot})")
    except FileNotFoundError as exc:
        print(f"report not rendered: {exc}")
    if args.results:
        write_json("analyze", rows, args.results)


if __name__ == "__main__":
    main()
