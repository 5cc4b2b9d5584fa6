"""``tcn_gated``: frame-level arousal/valence from per-modality TCNs and text-anchored gated attention fusion.

Follows patent 000 (``../shared/seeds/000_42a77687735f6558.txt``; digest ``../shared/docs/methods.md`` §1),
claims 1-5:

- S2 (claim 3): one temporal convolutional network per modality, N = 1..3 residual blocks of dilated
  **causal** 1-D convolutions (:class:`~emorec.models.blocks.TCN`) → context features ``a_t``, ``v_t``, ``l_t``;
- S3 (claims 4-5): gated attention with the text as anchor,
  ``s_a = σ(W_a [a_t; l_t] + b_a)``, ``s_v = σ(W_v [v_t; l_t] + b_v)``,
  ``h_t = s_a ⊙ (W_1 a_t) + s_v ⊙ (W_2 v_t) + b_h``, ``m_t = l_t + β h_t`` with β ∈ (0, 1)
  (:class:`~emorec.models.blocks.GatedModalitySum`);
- S4: ``[m_t; a_t; v_t; l_t]`` → a second TCN, N = 3..5 blocks;
- S5: a fully connected regression head → (valence, arousal) per frame in [-1, 1] (tanh);
  emorec adds an optional class head (7 classes) for the segments table.

Masks (emorec's choices, beyond the claims): a modality missing in a frame contributes nothing — its
gate is zeroed there and its context features are zero. Where no word is spoken (silence, no speech, no
transcript) the anchor ``l_t`` is a learned **"no text" vector** (the same in every such frame), so the gates
and ``m_t`` stay defined and the audio/video terms carry the frame. Ablations (same code, config flags):
``fusion="concat"`` (plain concatenation instead of the gated fusion), ``second_tcn=False``,
``temporal="bigru"`` (a bidirectional GRU of similar size instead of the TCNs; not causal).

Shapes: the sequence-model contract (:mod:`emorec.models.sequence`): ``x`` dict of (B, T, D_m) for
``audio``, ``video``, ``text``; ``mask`` dict of (B, T) bool → (B, T, num_classes + 2): class logits, then
valence, arousal.
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.blocks import TCN, GatedModalitySum, bound_affect
from emorec.models.sequence import FRAME_DIMS, SequenceModel
from emorec.models.weights import shipped_path

__all__ = ["TCNGated", "default_weights_path"]

DEFAULT_DIMS = FRAME_DIMS
"""Input widths of emorec's features: audio.moonshine ‖ audio.egemaps, face.cnn embedding (3 networks), text.minilm."""


def default_weights_path():
    return shipped_path("tcn_gated.safetensors")


class _BiGRU(nn.Module):
    """Ablation: a bidirectional GRU with the TCN's interface ((B, T, D), mask → (B, T, channels))."""

    def __init__(self, in_dim: int, channels: int, layers: int):
        super().__init__()
        self.gru = nn.GRU(in_dim, channels // 2, num_layers=layers, batch_first=True, bidirectional=True)
        self.out_dim = channels

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.gru(x)[0]
        return h if mask is None else h * mask.unsqueeze(-1)


@register_model(
    "tcn_gated", task="regression+classification", modalities=("audio", "video", "text"), level="frame",
    inputs="audio.moonshine ‖ audio.egemaps (441), face.cnn embedding (768), text.minilm (384), 10 Hz, with masks",
    outputs="valence, arousal per frame (+ 7 class logits)", weights="tcn_gated.safetensors", card="docs/models/tcn_gated.md",
    source="patent 000 (methods.md §1), claims 1-5: per-modality TCN, text-anchored gated attention, second TCN, regression",
)
class TCNGated(SequenceModel):
    """Per-modality causal TCNs → text-anchored gated fusion → second TCN → valence/arousal (+ class) per frame.

    Parameters
    ----------
    dims : dict of str → int
        Input width per modality (``audio``, ``video``, ``text``).
    hidden : int
        Width D of every context feature (a_t, v_t, l_t, h_t, m_t).
    modality_blocks : int
        N of each modality TCN (claim 3: 1..3); dilations 1, 2, 4, …
    fusion_blocks : int
        N of the second TCN (S4: 3..5).
    beta : float
        β in ``m_t = l_t + β h_t``, in (0, 1).
    kernel, dropout : int, float
    num_classes : int
        Class logits (0 = regression only).
    fusion : {"gated", "concat"}
        ``concat``: the ablation without gates (``[a; v; l]`` into the second TCN).
    second_tcn : bool
        False: the ablation with the regression head directly on the fused features.
    temporal : {"tcn", "bigru"}
        ``bigru``: the ablation with bidirectional GRUs instead of TCNs (not causal).

    Raises
    ------
    ValueError
        β outside (0, 1), a block count outside the claimed ranges, or an unknown option.
    """

    level = "frame"

    def __init__(self, dims: dict | None = None, hidden: int = 64, modality_blocks: int = 2, fusion_blocks: int = 3, beta: float = 0.5, kernel: int = 3,
                 dropout: float = 0.1, num_classes: int = 7, fusion: str = "gated", second_tcn: bool = True, temporal: str = "tcn"):
        super().__init__()
        if not 0.0 < beta < 1.0:
            raise ValueError(f"tcn_gated: beta must be in (0, 1), not {beta}")
        if not 1 <= modality_blocks <= 3 or not 3 <= fusion_blocks <= 5:
            raise ValueError(f"tcn_gated: modality_blocks must be 1..3 and fusion_blocks 3..5 (patent 000, claim 3 and S4), not {modality_blocks}, {fusion_blocks}")
        if fusion not in ("gated", "concat") or temporal not in ("tcn", "bigru"):
            raise ValueError(f"tcn_gated: fusion must be 'gated' or 'concat' and temporal 'tcn' or 'bigru', not {fusion!r}, {temporal!r}")
        dims = dict(DEFAULT_DIMS if dims is None else dims)
        self.dims, self.hidden, self.beta, self.fusion, self.temporal = dims, hidden, beta, fusion, temporal
        self.num_classes, self.affect = num_classes, True

        def seq(in_dim: int, blocks: int) -> nn.Module:
            if temporal == "bigru":
                return _BiGRU(in_dim, hidden, max(1, blocks // 2))
            return TCN(in_dim, hidden, tuple(2**i for i in range(blocks)), kernel, dropout, causal=True)

        self.modality = nn.ModuleDict({m: seq(d, modality_blocks) for m, d in dims.items()})
        self.no_text = nn.Parameter(torch.zeros(hidden))
        """The anchor where no word is spoken (learned)."""
        if fusion == "gated":
            self.gate = GatedModalitySum({"audio": hidden, "video": hidden}, anchor_dim=hidden, dim=hidden)
            fused_dim = 4 * hidden
        else:
            fused_dim = 3 * hidden
        self.second = seq(fused_dim, fusion_blocks) if second_tcn else None
        head_in = hidden if second_tcn else fused_dim
        self.head = nn.Linear(head_in, num_classes + 2)

    def context(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """S2: per-modality context features ``a_t, v_t, l_t`` (B, T, hidden); zeros where the modality is missing,
        except ``text``, which is the learned "no text" anchor there."""
        ctx = {m: self.modality[m](x[m] * mask[m].unsqueeze(-1), mask[m]) for m in self.modality}
        ctx["text"] = torch.where(mask["text"].unsqueeze(-1), ctx["text"], self.no_text)
        return ctx

    def fuse(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """S3-S4 input: the fused features (B, T, 4·hidden) ``[m_t; a_t; v_t; l_t]`` and the gates (B, T, hidden) per modality."""
        ctx = self.context(x, mask)
        a, v, anchor = ctx["audio"], ctx["video"], ctx["text"]
        if self.fusion == "concat":
            return torch.cat([a, v, anchor], dim=-1), {}
        h, gates = self.gate({"audio": a, "video": v}, {"audio": mask["audio"], "video": mask["video"]}, anchor)
        m = anchor + self.beta * h  # m_t = l_t + β h_t
        return torch.cat([m, a, v, anchor], dim=-1), gates

    def forward_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:
        fused, _ = self.fuse(x, mask)
        if self.second is None:
            return fused
        return self.second(fused)

    def forward_head(self, features: torch.Tensor, mask: dict[str, torch.Tensor]) -> torch.Tensor:
        return bound_affect(self.head(features), self.num_classes)

    def gates(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Mean gate value per frame and modality, (B, T) each — what the fusion weighs (for plots and checks)."""
        _, g = self.fuse(x, mask)
        return {m: v.mean(-1) for m, v in g.items()}
