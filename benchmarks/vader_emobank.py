"""VADER (the words reading of analyze v0) on EmoBank test: Pearson r of the compound score with valence.

Writes results/vader_emobank.json for `emorec results`, to compare with the text_emobank model's row.
Usage: python benchmarks/vader_emobank.py [--data ../shared/data/emobank] [--results results/vader_emobank.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from emorec import metrics
from emorec.data.text import load_emobank
from emorec.evaluation.results import git_commit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "emobank")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = load_emobank(args.data).query("split == 'test'")
    vader = SentimentIntensityAnalyzer()
    compound = [vader.polarity_scores(t)["compound"] for t in test.text]
    r = {"pearson_valence": metrics.pearson(test.V, compound), "ccc_valence": metrics.ccc((test.V - 3) / 2, compound)}
    print(f"VADER compound vs EmoBank valence (test, n={len(test)}): r = {r['pearson_valence']:.3f}")
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps({
            "kind": "regression", "model": "VADER compound (lexicon)", "dataset": f"EmoBank test ({len(test)} sentences)",
            "protocol": "official test split; no training (CCC against (V - 3) / 2)", "seeds": [], "metrics": r,
            "date": time.strftime("%Y-%m-%d"), "commit": git_commit(),
        }, indent=1))


if __name__ == "__main__":
    main()
