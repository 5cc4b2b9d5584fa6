"""Measure whether the English-only recogniser's own confidence tells non-English speech (issue 21, item 7).

For N random clips of EMO-DB (German) and RAVDESS (English) from ../shared/data: the mean log-probability of the greedy
Moonshine tokens per clip; prints its distribution per language and the share of clips below a few thresholds.
Usage: python scripts/asr_language_confidence.py [N]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np

from emorec.features.moonshine import _MAX_TOKENS_PER_SECOND, _decoder, encode, greedy_decode
from emorec.io.media import load_audio

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def mean_token_logprob(path: Path) -> float:
    """Mean log-probability of the greedily decoded tokens of one clip (≤ 20 s)."""
    wav = load_audio(path)
    _, logits = greedy_decode(_decoder(), encode(wav)[None], int(wav.size / 16000 * _MAX_TOKENS_PER_SECOND) + 4)
    z = logits - logits.max(1, keepdims=True)
    top = np.exp(z).max(1) / np.exp(z).sum(1)
    return float(np.mean(np.log(top + 1e-9)))


def main(n: int = 30) -> None:
    rng = random.Random(0)
    sets = {"German (EMO-DB)": sorted((DATA / "emodb_2s").rglob("*.flac")), "English (RAVDESS)": sorted((DATA / "ravdess_speech_16k").rglob("*.wav"))
            + sorted((DATA / "ravdess_speech_16k").rglob("*.flac"))}
    scores = {}
    for name, files in sets.items():
        scores[name] = np.array([mean_token_logprob(p) for p in rng.sample(files, min(n, len(files)))])
        s = scores[name]
        print(f"{name:18s} n={len(s)}  mean token log-prob {s.mean():.3f} ± {s.std():.3f}  (min {s.min():.3f}, max {s.max():.3f})")
    for t in (-0.3, -0.4, -0.45, -0.5):
        print(f"threshold {t:+.2f}: " + ", ".join(f"{name} below {100 * (s < t).mean():.0f} %" for name, s in scores.items()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
