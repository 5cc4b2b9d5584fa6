"""Output conventions shared by the sequence models."""

from __future__ import annotations

import torch

__all__ = ["bound_affect"]


def bound_affect(out: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(…, K [+ 2]) head outputs → class logits unchanged, then valence and arousal squashed into [-1, 1] (tanh) — the
    layout of every model with ``affect`` outputs."""
    return torch.cat([out[..., :num_classes], torch.tanh(out[..., num_classes:])], dim=-1)
