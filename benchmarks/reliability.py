"""Reliability over the bad-media harness (``tools/bad_media.py``): every kind through ``emorec analyze`` as a user runs it,
a fresh process each, and a count of what went wrong.

Prints per kind the exit code, whether it matches the documented outcome, and the summary line; then the totals:
kinds, crashes (killed by a signal or an exit code other than 0/1/2), Python tracebacks in the output, lost outputs
(an input reported done whose folder lacks an output file, or two inputs sharing a folder), documented outcomes met.

Usage: python benchmarks/reliability.py [--results benchmarks/out/reliability.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from bad_media import make_all  # noqa: E402

OUTPUTS = ("summary.json", "timeline.csv", "segments.csv", "words.csv", "report.html")
PHOTO_OUTPUTS = ("summary.json", "faces.csv", "annotated.png", "report.html")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bad_media"))
    cases = make_all(root / "inputs")
    store = root / "store"
    emorec = Path(sys.executable).with_name("emorec")
    totals = {"kinds": len(cases), "crashes": 0, "tracebacks": 0, "lost_outputs": 0, "documented": 0}
    rows = []
    for name, case in cases.items():
        out = case.out or root / "out" / name
        flags = case.flags if "--store" in case.flags else ["--store", str(store), *case.flags]
        proc = subprocess.run([str(emorec), "analyze", *map(str, case.inputs), "--out", str(out), "--json", *flags], capture_output=True, text=True)
        text = proc.stdout + proc.stderr
        crash = proc.returncode not in (0, 1, 2)
        traceback = "Traceback (most recent call last)" in text
        lost = 0
        if proc.returncode in (0, 1):
            try:
                objects = json.loads(proc.stdout)
            except ValueError:
                objects = []
            objects = objects if isinstance(objects, list) else [objects]
            lost += sum(1 for o in objects if o.get("status") == "ok"
                        and not all((Path(o["output"]) / f).is_file() for f in (PHOTO_OUTPUTS if o.get("kind") == "image" else OUTPUTS)))
            folders = [o.get("output") for o in objects]
            lost += len(folders) - len(set(folders))
        documented = proc.returncode == case.code and case.expect.lower() in text.lower() and not traceback
        totals["crashes"] += crash
        totals["tracebacks"] += traceback
        totals["lost_outputs"] += lost
        totals["documented"] += documented
        last = text.strip().splitlines()[-1][:110] if text.strip() else ""
        rows.append({"kind": name, "exit": proc.returncode, "documented": documented, "crash": crash, "traceback": traceback, "lost": lost})
        print(f"{name:22s} exit {proc.returncode} {'documented' if documented else 'NOT AS DOCUMENTED':17s} {last}", flush=True)
    print("\n" + "  ".join(f"{k} {v}" for k, v in totals.items()))
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps({"kind": "reliability", "totals": totals, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
