"""Benchmark `emorec analyze`: real-time factor and peak memory, short clip vs 10 minutes.

Each run is a fresh process with an empty feature store (cold: model loading
included). Prints processing seconds / media seconds and peak RSS for the
bundled talking-head clip and for the same clip remuxed to N minutes, and the
ratios (memory should not grow with length; target RTF ≤ 0.5 on 2 cores).
Then renders the short clip's report.html in headless Chromium and saves a
screenshot to benchmarks/out/report.png.

With ``--fusions masked_mean,tcn_gated`` the long clip is analysed once per fusion in the same run (features computed
once, in a shared store, by the first), and each fusion's own seconds (``summary.json: stage_seconds.fusion``) are
printed with their share of the first run's processing time.

Usage: python benchmarks/analyze.py [--minutes 10] [--fusions masked_mean,tcn_gated] [--results results/bench_analyze.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import OUT, concat_to, timed_child, write_json

CLIP = Path(__file__).resolve().parents[1] / "tests" / "data" / "talking_head.mp4"



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--fusions", default="masked_mean", help="comma-separated fusions compared on the long clip")
    args = parser.parse_args()
    long_clip = concat_to(CLIP, OUT / f"talking_head_{args.minutes:g}min.mp4", args.minutes * 60)
    rows = []
    print(f"{'input':28s} {'media s':>8s} {'proc s':>8s} {'RTF':>7s} {'peak MiB':>9s}")
    for label, path, out in (("talking_head (6 s)", CLIP, OUT / "analyze_short"), (f"talking_head ×{args.minutes:g} min", long_clip, OUT / "analyze_long")):
        r = timed_child("from emorec.pipelines.analyze import analyze", f"analyze({str(path)!r}, {str(out)!r}, store=tempfile.mkdtemp())")
        r.update(input=label, real_time_factor=r["seconds"] / r["media_seconds"])
        rows.append(r)
        print(f"{label:28s} {r['media_seconds']:8.1f} {r['seconds']:8.1f} {r['real_time_factor']:7.3f} {r['peak_mib']:9.0f}", flush=True)
    print(f"\nratios long/short: RTF {rows[1]['real_time_factor'] / rows[0]['real_time_factor']:.2f}, peak memory {rows[1]['peak_mib'] / rows[0]['peak_mib']:.2f}")
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
