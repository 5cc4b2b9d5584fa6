"""Soak test of the feature store (outside CI; issue 21): ``emorec extract`` over a folder of N clips is killed with
SIGKILL at random moments and restarted until it completes; then the store must hold every (clip, extractor) entry
exactly once, with arrays identical to an uninterrupted run's, no temporary files, and an index that lists them all.

Usage: python benchmarks/soak.py [--clips 120] [--kills 15] [--workers 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAVDESS = ROOT.parent / "shared" / "data" / "ravdess_speech_16k"
EXTRACTORS = "audio.vad,audio.egemaps"


def digest(store: Path) -> dict[tuple[str, str], str]:
    """(media hash, extractor) → sha256 of the entry's arrays."""
    import numpy as np

    out = {}
    for card in sorted((store / "objects").glob("*/*.json")):
        c = json.loads(card.read_text())
        h = hashlib.sha256()
        with np.load(card.with_suffix(".npz"), allow_pickle=False) as data:
            for k in sorted(data.files):
                h.update(k.encode())
                h.update(np.ascontiguousarray(data[k]).tobytes())
        out[(c["media_hash"], c["extractor"])] = h.hexdigest()
    return out


def run(folder: Path, store: Path, workers: int, kill_after: float | None) -> int | None:
    """One `emorec extract` run; with ``kill_after``, SIGKILL its process group after that many seconds. Returns the exit
    code (None when killed)."""
    cmd = [str(Path(sys.executable).with_name("emorec")), "extract", str(folder), "--store", str(store), "--extractors", EXTRACTORS,
           "--workers", str(workers), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=120)
    parser.add_argument("--kills", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="soak"))
    folder = tmp / "clips"
    folder.mkdir()
    for p in sorted(RAVDESS.glob("Actor_*/*.flac"))[: args.clips]:
        (folder / p.name).symlink_to(p)
    t0 = time.perf_counter()
    assert run(folder, tmp / "reference", args.workers, None) == 0, "the uninterrupted run failed"
    reference_seconds = time.perf_counter() - t0
    reference = digest(tmp / "reference")
    store, kills, runs = tmp / "soaked", 0, 0
    while True:
        runs += 1
        kill_after = rng.uniform(2.0, max(3.0, reference_seconds * 0.6)) if kills < args.kills else None
        code = run(folder, store, args.workers, kill_after)
        if code is None:
            kills += 1
            print(f"run {runs}: killed after {kill_after:.1f} s ({len(digest(store))} entries so far)", flush=True)
            continue
        print(f"run {runs}: completed (exit {code})", flush=True)
        break
    soaked = digest(store)
    cards = [json.loads(c.read_text()) for c in (store / "objects").glob("*/*.json")]
    duplicates = sum(n - 1 for n in Counter((c["media_hash"], c["extractor"]) for c in cards).values() if n > 1)
    temporary = list(store.rglob(".tmp-*"))
    import pandas as pd

    index = pd.read_parquet(store / "index.parquet")
    mismatched = [k for k in reference if soaked.get(k) != reference[k]]
    print(f"\nclips {args.clips}, extractors {EXTRACTORS}, kills {kills}, runs {runs}")
    print(f"entries: reference {len(reference)}, soaked {len(soaked)}; missing {len(set(reference) - set(soaked))}, extra {len(set(soaked) - set(reference))}, "
          f"duplicates {duplicates}, arrays differing {len(mismatched)}, temporary files {len(temporary)}, index rows {len(index)}")
    ok = not mismatched and len(soaked) == len(reference) and not duplicates and not temporary and len(index) == len(reference)
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
