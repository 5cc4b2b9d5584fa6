"""Write (or check) the reference outputs of ``emorec analyze`` on the bundled test clips.

The file ``tests/data/analyze_reference.json`` holds, per clip, every numeric
timeline column (rounded to 6 decimals), the segments' probabilities and the
summary's clip-level reading, with the face CNN in float32. ``tests/test_analyze_reference.py``
compares a fresh run with it (atol 1e-4), so a refactor that changes a reading fails.

History: written before the architecture refactor; re-written on purpose when frames of
BT.601 yuv420p video began to be converted by OpenCV instead of swscale (face.track version
3; per-frame values of the bundled talking-head clip moved by at most 0.074, of the happy MEAD clip 0.046, every
class unchanged).

Usage::

    python scripts/analyze_reference.py            # rewrite the reference (only on purpose)
    python scripts/analyze_reference.py --check    # compare, print the largest difference per clip
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ("talking_head.mp4", "mead_M030_sad.mp4", "mead_happy_noaudio.mp4", "mead_sad_silent_audio.mp4", "03-01-05-02-01-01-01.flac")
REFERENCE = ROOT / "tests" / "data" / "analyze_reference.json"


def snapshot(result) -> dict:
    """Numeric content of an analysis: timeline columns, segment probabilities, clip-level reading."""
    tl = result.timeline
    columns = {c: [None if not np.isfinite(v) else round(float(v), 6) for v in tl[c].astype(float)] for c in tl.columns if c != "word"}
    seg = result.segments
    seg_cols = [c for c in seg.columns if c.startswith("prob_") or c in ("arousal", "valence", "start", "end")]
    s = result.summary
    return {
        "timeline": columns,
        "segments": {c: [None if not np.isfinite(v) else round(float(v), 6) for v in seg[c].astype(float)] for c in seg_cols},
        "segment_emotion": list(seg["emotion"].astype(str)),
        "voice_emotion": list(seg["voice_emotion"].fillna("").astype(str)),
        "emotion": s["emotion"],
        "arousal": s["arousal"],
        "valence": s["valence"],
        "probabilities": s["probabilities"],
    }


def compare(expected: dict, got: dict) -> float:
    """Largest absolute difference over every number; inf if the structure or a label differs."""
    worst = 0.0
    for key in ("segment_emotion", "voice_emotion", "emotion"):
        if expected[key] != got[key]:
            return float("inf")
    for part in ("timeline", "segments"):
        if set(expected[part]) != set(got[part]):
            return float("inf")
        for col, values in expected[part].items():
            a = np.array([np.nan if v is None else v for v in values], float)
            b = np.array([np.nan if v is None else v for v in got[part][col]], float)
            if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
                return float("inf")
            if a.size:
                worst = max(worst, float(np.nanmax(np.abs(a - b), initial=0.0)))
    for key in ("arousal", "valence"):
        if (expected[key] is None) != (got[key] is None):
            return float("inf")
        if expected[key] is not None:
            worst = max(worst, abs(expected[key] - got[key]))
    return worst


def main() -> int:
    from emorec.pipelines.analyze import analyze

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored reference instead of writing it")
    args = parser.parse_args()
    got = {name: snapshot(analyze(ROOT / "tests" / "data" / name, None, plot=False, face_precision="float32")) for name in CLIPS}
    if not args.check:
        REFERENCE.write_text(json.dumps(got, separators=(",", ":")))
        print(f"wrote {REFERENCE}")
        return 0
    expected = json.loads(REFERENCE.read_text())
    worst = {name: compare(expected[name], got[name]) for name in CLIPS}
    for name, diff in worst.items():
        print(f"{name}: max |difference| {diff:.2e}")
    return 0 if max(worst.values()) <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
