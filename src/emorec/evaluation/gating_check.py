"""A controlled check that ``tcn_gated``'s gates do what patent 000 claims: weigh each modality by how informative it is.

Synthetic sequences of 10-frame segments: in each segment either the audio or the video carries the target
(feature 0 = the valence trace, feature 1 = +1 "this stream is clean") and the other stream is noise
(feature 1 = −1); the text is absent (the learned "no text" anchor). After training, the audio gate should be
open on audio segments and closed on video segments, and the other way round for video.
:func:`run_gating_check` trains a small model and returns the mean gates per segment kind; ``scripts/gating_check.py``
plots them to ``docs/figures/tcn_gated_gates.png`` and the tests assert the separation.
"""

from __future__ import annotations

import numpy as np
import torch

from emorec.tasks import ccc_loss

__all__ = ["run_gating_check", "synthetic_batch"]

DIM = 4
SEGMENT = 10


def synthetic_batch(rng: np.random.Generator, batch: int = 16, segments: int = 4, noise: float = 3.0) -> tuple[dict, dict, torch.Tensor, torch.Tensor]:
    """``(x, mask, target (B, T, 2), source (B, T))``: source 0 = audio informative, 1 = video informative; the other
    stream's feature 0 is Gaussian noise of standard deviation ``noise``."""
    t = segments * SEGMENT
    source = np.repeat(rng.integers(0, 2, size=(batch, segments)), SEGMENT, axis=1)
    signal = np.tanh(np.cumsum(rng.normal(0, 0.5, size=(batch, t)), axis=1) / 3)
    x = {m: rng.normal(0, 1, size=(batch, t, DIM)).astype(np.float32) for m in ("audio", "video", "text")}
    for k, m in enumerate(("audio", "video")):
        on = source == k
        x[m][..., 0] = np.where(on, signal, rng.normal(0, noise, size=(batch, t)))
        x[m][..., 1] = np.where(on, 1.0, -1.0)
    mask = {"audio": torch.ones(batch, t, dtype=torch.bool), "video": torch.ones(batch, t, dtype=torch.bool), "text": torch.zeros(batch, t, dtype=torch.bool)}
    target = torch.from_numpy(np.stack([signal, signal], axis=-1).astype(np.float32))
    return {m: torch.from_numpy(v) for m, v in x.items()}, mask, target, torch.from_numpy(source)


def run_gating_check(steps: int = 300, seed: int = 0) -> dict:
    """Train a small ``tcn_gated`` (1 − CCC on the synthetic target) and measure its gates.

    Returns
    -------
    dict
        ``gates``: mean gate of ``audio``/``video`` on ``audio_segments``/``video_segments``; ``ccc`` on a fresh batch;
        ``example``: one sequence's gates, source and target (for the plot).
    """
    from emorec.models.tcn_gated import TCNGated

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = TCNGated(dims={"audio": DIM, "video": DIM, "text": DIM}, hidden=16, modality_blocks=1, fusion_blocks=3, num_classes=0, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        x, mask, target, _ = synthetic_batch(rng)
        loss = ccc_loss(model(x, mask).reshape(-1, 2), target.reshape(-1, 2))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, mask, target, source = synthetic_batch(np.random.default_rng(seed + 1), batch=64)
    with torch.no_grad():
        gates = model.gates(x, mask)
        pred = model(x, mask)
    out = {
        m: {"audio_segments": float(g[source == 0].mean()), "video_segments": float(g[source == 1].mean())} for m, g in gates.items()
    }
    ccc = 1 - float(ccc_loss(pred.reshape(-1, 2), target.reshape(-1, 2)))
    example = {"audio_gate": gates["audio"][0].tolist(), "video_gate": gates["video"][0].tolist(), "source": source[0].tolist(),
               "target": target[0, :, 0].tolist(), "prediction": pred[0, :, 0].tolist()}
    return {"gates": out, "ccc": ccc, "example": example}
