"""Benchmark the face paths of issue 20: photos per second with 1 and 5 faces, and the cost per face of the
multi-person path on the 10-minute benchmark clip.

- Photos: ``analyze_image`` on a real frame with one face and on a grid of five real faces (talking head and MEAD
  frames), models loaded before the clock, ``--repeats`` calls each, emorec's default (int8 face CNN) and the float32
  network in the same run; prints images/s, ms per face and the int8/float32 ratio.
- Several people: the face steps of ``analyze`` on the 10-minute benchmark clip (the talking head repeated; one person:
  ``face.track`` + ``face.cnn``) and on a 10-minute video of two talking heads side by side (the same plus
  ``face.people``, which ``analyze`` runs when it sees a second face), each in a fresh process with an empty store. The
  cost per face is the time divided by the number of people; issue 20's target is ≤ 1.3 × the single-person path.

Usage: python benchmarks/faces.py [--minutes 10] [--repeats 20] [--results results/bench_faces.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import OUT, concat_to, run_child, timed_child, write_json

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "data" / "talking_head.mp4"
OTHER = ROOT / "tests" / "data" / "mead_M030_sad.mp4"
FACES = [CLIP, OTHER, ROOT / "tests" / "data" / "mead_happy_noaudio.mp4", *sorted((ROOT.parent / "shared" / "data" / "av_clips" / "mead_dreamtalk").glob("W0*_happy*.mp4"))]


def photos(out: Path) -> tuple[Path, Path]:
    """A photo with one face (the talking head's first frame) and one with five (a 3 × 2 grid of real first frames,
    each a centred square of 360 px; the sixth cell left grey)."""
    import cv2
    import numpy as np

    from emorec.io.media import iter_video_frames

    def square(path: Path) -> np.ndarray:
        img = next(iter_video_frames(path, max_side=None))[1]
        h, w = img.shape[:2]
        s = min(h, w)
        return cv2.resize(img[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s], (360, 360), interpolation=cv2.INTER_AREA)

    out.mkdir(parents=True, exist_ok=True)
    one, five = out / "photo_1_face.png", out / "photo_5_faces.png"
    cv2.imwrite(str(one), cv2.cvtColor(next(iter_video_frames(CLIP, max_side=None))[1], cv2.COLOR_RGB2BGR))
    cells = [square(p) for p in FACES[:5]] + [np.full((360, 360, 3), 128, np.uint8)]
    grid = np.concatenate([np.concatenate(cells[:3], axis=1), np.concatenate(cells[3:], axis=1)], axis=0)
    cv2.imwrite(str(five), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return one, five


def photo_rows(paths: tuple[Path, Path], repeats: int) -> list[dict]:
    rows = []
    for path in paths:
        for precision in ("int8", "float32"):
            r = run_child("\n".join([
                "import json, time", "from emorec.pipelines.image import analyze_image",
                f"r = analyze_image({str(path)!r}, None, face_precision={precision!r})  # models loaded before the clock",
                "t = time.perf_counter()",
                f"for _ in range({repeats}): r = analyze_image({str(path)!r}, None, face_precision={precision!r})",
                "seconds = time.perf_counter() - t",
                'print(json.dumps({"seconds": seconds, "faces": len(r.faces), "peak_mib": 0}))',
            ]))
            faces = r["faces"]
            rows.append({"input": f"photo with {faces} face{'s' if faces > 1 else ''}, face CNN {precision} ({repeats} calls, models loaded)",
                         "seconds": r["seconds"], "images_per_second": repeats / r["seconds"], "ms_per_face": 1000 * r["seconds"] / repeats / faces,
                         "faces": faces, "precision": precision})
            print(f"{rows[-1]['input']:64s} {rows[-1]['images_per_second']:6.2f} images/s  {rows[-1]['ms_per_face']:6.1f} ms per face", flush=True)
        print(f"  int8 / float32 time: {rows[-2]['seconds'] / rows[-1]['seconds']:.2f}")
    return rows


def people_rows(minutes: float) -> list[dict]:
    sys.path.insert(0, str(ROOT / "tools"))
    from bad_media import side_by_side

    single = concat_to(CLIP, OUT / f"talking_head_{minutes:g}min.mp4", minutes * 60)
    pair_short = OUT / "two_people.mp4"
    if not pair_short.exists():
        side_by_side(CLIP, OTHER, pair_short)
    pair = concat_to(pair_short, OUT / f"two_people_{minutes:g}min.mp4", minutes * 60)
    rows = []
    for label, path, steps, people in ((f"one person ×{minutes:g} min (face.track, face.cnn)", single, ("face.track", "face.cnn"), 1),
                                       (f"two people ×{minutes:g} min (face.track, face.cnn, face.people)", pair, ("face.track", "face.cnn", "face.people"), 2)):
        r = timed_child("from emorec.pipelines.extract import extract_clip",
                        f"extract_clip({str(path)!r}, None, {steps!r})")
        row = {"input": label, **r, "real_time_factor": r["seconds"] / r["media_seconds"], "people": people,
               "seconds_per_face_minute": r["seconds"] / people / (r["media_seconds"] / 60)}
        rows.append(row)
        print(f"{label:64s} {r['seconds']:7.1f} s for {r['media_seconds']:.0f} s  {row['seconds_per_face_minute']:5.2f} s per face-minute  "
              f"peak {r['peak_mib']:.0f} MiB", flush=True)
    ratio = rows[1]["seconds_per_face_minute"] / rows[0]["seconds_per_face_minute"]
    rows[1]["per_face_ratio"] = ratio
    print(f"multi-person / single-person cost per face: {ratio:.2f} × (target ≤ 1.3)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    rows = photo_rows(photos(OUT / "photos"), args.repeats) + people_rows(args.minutes)
    if args.results:
        write_json("faces", rows, args.results)


if __name__ == "__main__":
    main()
