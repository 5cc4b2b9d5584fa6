"""Helpers shared by the benchmark scripts: a long copy of a clip, timed child runs."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import av

OUT = Path(__file__).parent / "out"


def concat_to(src: Path, dst: Path, seconds: float) -> Path:
    """Remux ``src`` repeated back to back until ``seconds`` long (no re-encoding)."""
    if dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as probe:  # the period: the longest stream's span from its first DTS to its last packet's end
        first: dict[int, float] = {}
        end: dict[int, float] = {}
        for packet in probe.demux():
            if packet.dts is None or packet.stream.type not in ("audio", "video"):
                continue
            t = float(packet.dts * packet.time_base)
            first.setdefault(packet.stream.index, t)
            end[packet.stream.index] = max(end.get(packet.stream.index, t), float((packet.pts + (packet.duration or 0)) * packet.time_base))
        duration = max(end[i] - first[i] for i in end)
    repeats = int(seconds // duration) + 1
    with av.open(str(dst), "w") as out:
        with av.open(str(src)) as first:
            streams = {s.index: out.add_stream_from_template(s) for s in first.streams if s.type in ("audio", "video")}
        for r in range(repeats):
            with av.open(str(src)) as inp:
                for packet in inp.demux(*[s for s in inp.streams if s.index in streams]):
                    if packet.dts is None:
                        continue
                    shift = int(round(r * duration / packet.time_base))
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = streams[packet.stream.index]
                    out.mux(packet)
    return dst


PEAK = "import resource; _use = resource.getrusage(resource.RUSAGE_SELF); _peak = _use.ru_maxrss / 1024"


def timed_child(setup: str, call: str) -> dict:
    """Time ``call`` (an expression whose value has ``.duration``) after ``setup`` in a fresh process.

    Returns ``{"seconds", "media_seconds", "peak_mib", "cpu_use"}`` — the child's own peak resident memory, and its CPU
    use during ``call``: (user + system CPU seconds, all threads) / wall seconds / cores.
    """
    code = "\n".join([
        "import json, os, resource, time, tempfile", setup, "_r0 = resource.getrusage(resource.RUSAGE_SELF)", "t0 = time.perf_counter()",
        f"result = {call}", "seconds = time.perf_counter() - t0", PEAK,
        "_cpu = (_use.ru_utime - _r0.ru_utime) + (_use.ru_stime - _r0.ru_stime)",
        'print(json.dumps({"seconds": seconds, "media_seconds": result.duration, "peak_mib": _peak, "cpu_use": _cpu / seconds / (os.cpu_count() or 1)}))',
    ])
    return run_child(code)


def run_child(code: str) -> dict:
    """Run Python ``code`` in a fresh process; its last stdout line is a JSON dict.

    The code should include ``peak_mib`` in it, read with :data:`PEAK` (its own
    peak resident memory, MiB) — each run in a fresh process, so peaks do not mix.
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def write_json(name: str, rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"kind": "benchmark", "name": name, "rows": rows, "machine": machine(), "date": time.strftime("%Y-%m-%d"), "commit": commit()}, indent=1))
