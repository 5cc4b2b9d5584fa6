"""Benchmark the scale-out path of masked_pretrain: extraction on Ray and pretraining with torch DDP, 1 vs 2 workers.

Same run, same data, each measurement in a fresh process:
- extraction throughput (clips/s) of ``audio.egemaps`` (the pretraining input) on N RAVDESS clips into an empty store:
  the process backend with 1 worker (the baseline), then Ray with 1 and with 2 CPUs (``ray.init(num_cpus=k)``: k
  concurrent tasks); the model and openSMILE load once per worker, so short runs understate the steady state;
- pretraining throughput (valid frames/s) of ``emorec pretrain`` on a shard folder: 1 process, then 2 DDP processes
  (gloo, ``ddp_spawn``) with the same per-process batch, timed over the same number of optimiser steps after a warm-up.
Scaling efficiency = throughput(2) / (2 × throughput(1)); 1.0 is perfect, and on a 2-core machine it is bounded by the
cores the two workers share with the driver.

Usage: python benchmarks/scale.py [--clips 60] [--shards shards/audio_unlabelled] [--steps 30] [--results results/bench_scale.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import run_child, write_json

ROOT = Path(__file__).resolve().parents[1]
RAVDESS = ROOT.parent / "shared" / "data" / "ravdess_speech_16k"

EXTRACT = """
import json, os, resource, sys, time
from pathlib import Path
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report (its network timeouts cost a minute)
from emorec.pipelines.extract import extract_many
from emorec.store import FeatureStore
files = {files!r}
backend, k = {backend!r}, {workers}
if backend == "ray":
    import ray
    ray.init(num_cpus=k, include_dashboard=False, log_to_driver=False)
t0 = time.perf_counter()
report = extract_many(files, FeatureStore({store!r}), ("audio.egemaps",), workers=k, backend=backend, progress=False)
seconds = time.perf_counter() - t0
assert not report.failures, report.failures
print(json.dumps({{"seconds": seconds, "clips": len(files), "computed": report.num_computed}}))
"""

PRETRAIN = """
import json, time
import lightning as L
from emorec.training.pretrain import PretrainConfig, pretrain

class Clock(L.Callback):
    def __init__(self, warmup):
        self.warmup, self.t0, self.frames = warmup, None, 0
    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if trainer.global_step == self.warmup and self.t0 is None:
            self.t0 = time.perf_counter()
    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if self.t0 is not None:
            self.frames += int(batch[1].sum())
    def on_train_end(self, trainer, module):
        import torch
        seconds = time.perf_counter() - self.t0
        frames = torch.tensor([self.frames], dtype=torch.float64)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(frames)
        if trainer.is_global_zero:
            Path = __import__("pathlib").Path
            Path({report!r}).write_text(json.dumps({{"seconds": seconds, "frames": float(frames[0]), "steps": trainer.global_step - self.warmup}}))

cfg = PretrainConfig(shards={shards!r}, out={out!r}, run_dir={run!r}, hidden=64, layers=2, batch_size=16, max_frames=400,
                     max_steps={steps} + 5, devices={devices}, strategy="ddp_spawn", checkpoint_every=10_000)
if __name__ == "__main__":
    pretrain(cfg, callbacks=[Clock(5)])
    print(open({report!r}).read())
"""


def extraction(files: list[str], backend: str, workers: int) -> dict:
    store = tempfile.mkdtemp(prefix="scale_store")
    r = run_child(EXTRACT.format(files=files, backend=backend, workers=workers, store=store))
    r.update(backend=backend, workers=workers, clips_per_second=r["clips"] / r["seconds"])
    return r


def pretraining(shards: str, devices: int, steps: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="scale_pretrain"))
    script = tmp / "run.py"  # ddp_spawn needs an importable main module
    script.write_text(PRETRAIN.format(shards=shards, out=str(tmp / "enc.safetensors"), run=str(tmp / "run"), steps=steps, devices=devices,
                                      report=str(tmp / "report.json")))
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    r = json.loads((tmp / "report.json").read_text())
    r.update(devices=devices, frames_per_second=r["frames"] / r["seconds"])
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--shards", default=str(ROOT / "shards" / "audio_unlabelled"), help="shard folder (`emorec shards`)")
    parser.add_argument("--steps", type=int, default=30, help="timed optimiser steps per pretraining run (after 5 warm-up steps)")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    files = sorted(str(p) for p in RAVDESS.glob("Actor_*/*.flac"))[: args.clips]
    rows = {"extraction": [], "pretraining": []}
    print(f"extraction of audio.egemaps, {len(files)} RAVDESS clips, empty store each run")
    for backend, k in (("process", 1), ("ray", 1), ("ray", 2)):
        r = extraction(files, backend, k)
        rows["extraction"].append(r)
        print(f"  {backend:8s} {k} worker(s): {r['seconds']:6.1f} s  {r['clips_per_second']:6.2f} clips/s", flush=True)
    ray1, ray2 = rows["extraction"][1]["clips_per_second"], rows["extraction"][2]["clips_per_second"]
    rows["extraction_efficiency"] = ray2 / (2 * ray1)
    print(f"  Ray 2 vs 1 worker: speed-up {ray2 / ray1:.2f}, scaling efficiency {rows['extraction_efficiency']:.2f}; "
          f"Ray 1 worker / process backend: {ray1 / rows['extraction'][0]['clips_per_second']:.2f}")
    print(f"pretraining (masked frames, GRU 2×64, batch 16 per process), {args.steps} timed steps")
    for devices in (1, 2):
        r = pretraining(args.shards, devices, args.steps)
        rows["pretraining"].append(r)
        print(f"  {devices} process(es): {r['seconds']:6.1f} s  {r['frames_per_second']:9.0f} frames/s", flush=True)
    p1, p2 = (r["frames_per_second"] for r in rows["pretraining"])
    rows["pretraining_efficiency"] = p2 / (2 * p1)
    print(f"  DDP 2 vs 1 process: speed-up {p2 / p1:.2f}, scaling efficiency {rows['pretraining_efficiency']:.2f}")
    if args.results:
        write_json("scale", [{"kind": "extraction", **r} for r in rows["extraction"]] + [{"kind": "pretraining", **r} for r in rows["pretraining"]]
                   + [{"kind": "efficiency", "extraction": rows["extraction_efficiency"], "pretraining": rows["pretraining_efficiency"]}], args.results)


if __name__ == "__main__":
    main()
