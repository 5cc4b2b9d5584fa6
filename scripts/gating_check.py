"""Plot tcn_gated's gates on the synthetic gating task (emorec.evaluation.gating_check) to docs/figures/tcn_gated_gates.png.

Usage: python scripts/gating_check.py [--steps 300]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emorec.evaluation.gating_check import run_gating_check

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    r = run_gating_check(args.steps)
    print(json.dumps({"gates": r["gates"], "ccc": r["ccc"]}, indent=1))
    e = r["example"]
    t = range(len(e["source"]))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
    top.plot(t, e["target"], color="k", lw=2, label="target (valence)")
    top.plot(t, e["prediction"], color="tab:purple", lw=1.2, label="tcn_gated")
    top.legend(loc="upper left", fontsize=8, frameon=False)
    bottom.plot(t, e["audio_gate"], color="tab:red", label="audio gate")
    bottom.plot(t, e["video_gate"], color="tab:blue", label="video gate")
    for i, s in enumerate(e["source"]):
        bottom.axvspan(i - 0.5, i + 0.5, color="tab:red" if s == 0 else "tab:blue", alpha=0.08, lw=0)
    bottom.set_ylim(0, 1)
    bottom.set_xlabel("frame (shading: the informative modality)")
    bottom.legend(loc="upper left", fontsize=8, frameon=False)
    fig.suptitle(f"tcn_gated on the synthetic gating task (CCC {r['ccc']:.2f})", fontsize=10)
    out = ROOT / "docs" / "figures" / "tcn_gated_gates.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
