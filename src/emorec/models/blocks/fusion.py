"""Layers that combine modalities frame by frame, with modality masks.

A modality can be missing for a whole item or for some frames (no face in view,
no speech). These layers take per-modality (batch, time, dim) inputs and
(batch, time) masks and never read a missing frame as a zero feature.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GatedModalitySum", "ModalityProjection"]


class ModalityProjection(nn.Module):
    """Project each modality to a shared width and put a learned "missing" vector where its mask is False
    (a learned absent-modality token, as in missing-modality transformers, e.g. Ma et al. 2022, section 3).

    Parameters
    ----------
    dims : dict of str → int
        Input width per modality.
    dim : int
        Shared width.

    Shapes: ``forward(x, mask)`` with dicts of (batch, time, dims[m]) and (batch, time) →
    dict of (batch, time, dim).
    """

    def __init__(self, dims: dict[str, int], dim: int):
        super().__init__()
        self.proj = nn.ModuleDict({m: nn.Linear(d, dim) for m, d in dims.items()})
        self.missing = nn.ParameterDict({m: nn.Parameter(torch.zeros(dim)) for m in dims})

    def forward(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {m: torch.where(mask[m].unsqueeze(-1), self.proj[m](x[m]), self.missing[m]) for m in self.proj}


class GatedModalitySum(nn.Module):
    """Sum of modalities, each weighted per frame and per channel by a sigmoid gate computed from the
    modality and an anchor: ``h_t = Σ_m s_m ⊙ (W_m x_m,t)``, ``s_m = σ(G_m [x_m,t; anchor_t] + b_m)``,
    with ``s_m = 0`` where modality m is missing (the gated attention of methods.md §1 with the anchor given).

    Parameters
    ----------
    dims : dict of str → int
        Width of each gated modality.
    anchor_dim : int
    dim : int
        Output width.

    Shapes: ``forward(x, mask, anchor)`` with dicts of (batch, time, dims[m]) and (batch, time), and
    ``anchor`` (batch, time, anchor_dim) → ``h`` (batch, time, dim) and the gates, dict of (batch, time, dim).
    """

    def __init__(self, dims: dict[str, int], anchor_dim: int, dim: int):
        super().__init__()
        self.value = nn.ModuleDict({m: nn.Linear(d, dim, bias=False) for m, d in dims.items()})
        self.gate = nn.ModuleDict({m: nn.Linear(d + anchor_dim, dim) for m, d in dims.items()})
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor], anchor: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        h = self.bias.expand(*anchor.shape[:2], -1)
        gates = {}
        for m in self.value:
            s = torch.sigmoid(self.gate[m](torch.cat([x[m], anchor], dim=-1))) * mask[m].unsqueeze(-1).to(anchor.dtype)
            gates[m] = s
            h = h + s * self.value[m](x[m])
        return h, gates
