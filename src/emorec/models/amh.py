"""``amh``: attentive modality hopping over audio, text and video (Yoon, Dey, Lee & Jung, "Attentive Modality Hopping
Mechanism for Speech Emotion Recognition", ICASSP 2020; seed ``../shared/seeds/003_7028293d3a5bab1e.txt``, digest
``../shared/docs/methods.md`` §4).

- One recurrent encoder per modality (eq. 1; GRU, :class:`~emorec.models.blocks.MaskedRNN`): hidden sequences
  ``h^A``, ``h^T``, ``h^V`` and their last states.
- AMH-1 (eq. 2): ``C = [h^A_last; h^T_last]``, ``a_i = softmax_i(Cᵀ W h^V_i)``, ``H^V_1 = Σ_i a_i h^V_i``;
  AMH-2 (eq. 3): ``C = [h^T_last; H^V_1]`` attends over ``h^A`` → ``H^A_1``;
  AMH-3 (eq. 4): ``C = [H^A_1; H^V_1]`` attends over ``h^T`` → ``H^T_1``;
  AMH-N repeats the V → A → T cycle with the updated summaries (hop 4: ``C = [H^A_1; H^T_1]`` over ``h^V`` → ``H^V_2``, …).
  Each hop has its own bilinear ``W`` (2d × d).
- Classifier: softmax on ``H_hopN = [H^A; H^T; H^V]`` (the latest summary of each modality, ``h_last`` where not yet
  hopped), cross-entropy (eq. 5). ``hops = 0`` is the source's baseline without hopping (last states only).

emorec's additions: per-feature input standardisation fitted on the training data (:class:`~emorec.models.blocks.InputNorm`); masks — a missing modality's encoder output is zeros and its attention weights are all zero (it
contributes nothing); optional valence/arousal outputs (``affect``) for the timeline.

Shapes (sequence-model contract, :mod:`emorec.models.sequence`): ``x`` dict of (B, T, D_m), ``mask`` dict of (B, T)
→ (B, num_classes [+ 2]).
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.blocks import InputNorm, MaskedRNN, bound_affect, masked_softmax, uncompact
from emorec.models.sequence import FRAME_DIMS, SequenceModel
from emorec.models.weights import shipped_path

__all__ = ["AMH", "HOP_ORDER", "default_weights_path"]

DEFAULT_DIMS = FRAME_DIMS
"""Input widths of emorec's stored features: audio.moonshine ‖ audio.egemaps, face.cnn embedding, text.minilm."""
HOP_ORDER = ("video", "audio", "text")
"""The modality each hop attends over, cyclically (AMH-1 video, AMH-2 audio, AMH-3 text, AMH-4 video, …)."""


def default_weights_path():
    return shipped_path("amh.safetensors")


@register_model(
    "amh", task="classification+regression", modalities=("audio", "video", "text"), level="utterance",
    inputs="audio.moonshine ‖ audio.egemaps (441), face.cnn embedding (768), text.minilm (384), 10 Hz, with masks",
    outputs="7 class logits (+ valence, arousal) per utterance; attention weights per hop", weights="amh.safetensors", card="docs/models/amh.md",
    source="Yoon et al., ICASSP 2020 (seed 003, methods.md §4): GRU encoders, attentive modality hopping V → A → T, N hops",
)
class AMH(SequenceModel):
    """Attentive modality hopping (AMH-N).

    Parameters
    ----------
    dims : dict of str → int
        Input width per modality (``audio``, ``video``, ``text``).
    hidden : int
        GRU width d (every ``h`` and ``H``).
    hops : int
        N, 0..8 (0 = no hopping: the classifier reads the three last states).
    layers : int
        GRU layers per modality.
    dropout : float
        On the inputs and before the classifier.
    num_classes : int
    affect : bool
        Two more outputs: valence, arousal in [-1, 1] (tanh).

    Raises
    ------
    ValueError
        ``hops`` outside 0..8.
    """

    level = "utterance"

    def __init__(self, dims: dict | None = None, hidden: int = 64, hops: int = 3, layers: int = 1, dropout: float = 0.2, num_classes: int = 7, affect: bool = True):
        super().__init__()
        if not 0 <= hops <= 8:
            raise ValueError(f"amh: hops must be 0..8, not {hops}")
        dims = dict(DEFAULT_DIMS if dims is None else dims)
        self.dims, self.hidden, self.hops = dims, hidden, hops
        self.num_classes, self.affect = num_classes, affect
        self.drop = nn.Dropout(dropout)
        self.input_norm = nn.ModuleDict({m: InputNorm(d) for m, d in dims.items()})  # fitted on the training data
        self.encoder = nn.ModuleDict({m: MaskedRNN(d, hidden, layers, "gru") for m, d in dims.items()})
        self.bilinear = nn.ModuleList([nn.Linear(2 * hidden, hidden, bias=False) for _ in range(hops)])  # Cᵀ W, W ∈ R^{2d×d}
        self.head = nn.Linear(3 * hidden, num_classes + (2 if affect else 0))

    def encode(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Eq. 1: per modality (h sequence (B, L, d), its mask (B, L), h_last (B, d))."""
        return {m: self.encoder[m](self.drop(self.input_norm[m](x[m])) * mask[m].unsqueeze(-1), mask[m]) for m in HOP_ORDER}

    def hop(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> tuple[torch.Tensor, list[tuple[str, torch.Tensor]]]:
        """AMH-1..N: ``H_hopN`` (B, 3d) and each hop's (modality, attention weights (B, L_m)) — the weights sum to 1
        over the modality's observed frames (in their order), all zeros where the modality is absent."""
        enc = self.encode(x, mask)
        summary = {m: enc[m][2] for m in HOP_ORDER}  # h_last until the modality is hopped
        attention = []
        for n in range(self.hops):
            target = HOP_ORDER[n % 3]
            context = torch.cat([summary[m] for m in ("audio", "text", "video") if m != target], dim=-1)  # C = f(other two), in the source's order
            h, h_mask, _ = enc[target]
            scores = torch.einsum("bd,bld->bl", self.bilinear[n](context), h)
            a = masked_softmax(scores, h_mask)
            summary[target] = torch.einsum("bl,bld->bd", a, h)
            attention.append((target, a))
        return torch.cat([summary["audio"], summary["text"], summary["video"]], dim=-1), attention

    def forward_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.hop(x, mask)[0]

    def forward_head(self, features: torch.Tensor, mask: dict[str, torch.Tensor]) -> torch.Tensor:
        out = self.head(self.drop(features))
        if not self.affect:
            return out
        return bound_affect(out, self.num_classes)

    def attention(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> list[tuple[str, torch.Tensor]]:
        """Each hop's (modality, weights (B, T)) on the input grid (the compacted weights put back on the observed frames) — for plots."""
        _, hops = self.hop(x, mask)
        return [(m, uncompact(a, mask[m])) for m, a in hops]
