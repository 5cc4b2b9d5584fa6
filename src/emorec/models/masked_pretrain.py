"""``masked_pretrain``: masked-frame self-supervised pretraining of per-modality recurrent encoders on unlabelled feature
sequences, fine-tuning with mean pooling + a fully connected layer, and feature-level fusion (patent 001,
``../shared/seeds/001_e7403a35ba590756.txt``; digest ``../shared/docs/methods.md`` §2).

- :func:`mask_frames` — the pretext task's corruption: exactly ``round(ratio × valid)`` of each sequence's valid frames
  (10 % by default; single frames or spans) replaced by all-zero vectors; padding is never chosen.
- :class:`MaskedEncoder` — a recurrent encoder (GRU or LSTM, configurable) that reads the masked sequence, and a linear
  reconstruction head; :func:`reconstruction_loss` — L2 between the reconstruction and the unmasked features, on the
  masked frames (the objective) and on all valid frames (reported).
- :class:`MaskedPretrain` — the sequence model: per modality a pretrained encoder → mean pooling over valid frames →
  sentence-level feature; one modality → a fully connected layer → classes (fine-tuning), both → concatenation →
  classifier (the fusion).

Inputs (sequence-model contract): ``x["audio"]`` (B, T_a, 25) frame-level eGeMAPS LLDs (the store's ``audio.egemaps``,
100 Hz), ``x["video"]`` (B, T_v, 768) per-frame face-expression embeddings (``face.cnn``, 10 Hz); masks (B, T).
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.blocks import InputNorm, MaskedRNN, bound_affect, masked_mean, uncompact
from emorec.models.sequence import SequenceModel

__all__ = ["MaskedEncoder", "MaskedPretrain", "mask_frames", "reconstruction_loss"]

DEFAULT_DIMS = {"audio": 25, "video": 768}
"""eGeMAPS LLDs per 10 ms frame; face.cnn embedding per 0.1 s frame."""


def mask_frames(x: torch.Tensor, valid: torch.Tensor, ratio: float = 0.1, unit: str = "frames", span: int = 5,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace ``round(ratio × n_valid)`` valid frames of each sequence by zero vectors (patent 001, pretraining step).

    Parameters
    ----------
    x : (B, T, D) float
    valid : (B, T) bool
        Real frames (padding and unobserved frames are False and never chosen).
    ratio : float
        Share of each sequence's valid frames to mask (0.1 = the patent's 10 %).
    unit : {"frames", "spans"}
        ``frames``: frames chosen independently; ``spans``: runs of ``span`` consecutive valid frames (the last run cut so
        the count is exact).
    span : int
    generator : torch.Generator or None

    Returns
    -------
    masked : (B, T, D) — ``x`` with the chosen frames zeroed
    chosen : (B, T) bool — the frames that were zeroed (a subset of ``valid``)

    Raises
    ------
    ValueError
        ``ratio`` outside [0, 1] or an unknown ``unit``.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"mask ratio must be in [0, 1], not {ratio}")
    if unit not in ("frames", "spans"):
        raise ValueError(f"mask unit must be 'frames' or 'spans', not {unit!r}")
    chosen = torch.zeros_like(valid)
    for b in range(x.shape[0]):
        idx = torch.nonzero(valid[b]).squeeze(1)
        k = int(round(ratio * len(idx)))
        if k == 0:
            continue
        if unit == "frames":
            pick = idx[torch.randperm(len(idx), generator=generator)[:k]]
        else:
            starts = torch.randperm(len(idx), generator=generator)
            taken = torch.zeros(len(idx), dtype=torch.bool)
            for s in starts.tolist():
                need = k - int(taken.sum())
                if need <= 0:
                    break
                run = torch.arange(s, min(s + span, len(idx)))
                run = run[~taken[run]][:need]
                taken[run] = True
            pick = idx[taken]
        chosen[b, pick] = True
    return x * (~chosen).unsqueeze(-1).to(x.dtype), chosen


def reconstruction_loss(reconstruction: torch.Tensor, target: torch.Tensor, chosen: torch.Tensor, valid: torch.Tensor) -> dict[str, torch.Tensor]:
    """L2 (mean squared error per feature) between ``reconstruction`` and ``target`` (B, T, D): ``masked`` over the chosen
    frames (the pretraining objective) and ``all`` over every valid frame; padding never counts."""
    err = ((reconstruction - target) ** 2).mean(-1)  # (B, T)

    def over(sel: torch.Tensor) -> torch.Tensor:
        return (err * sel).sum() / sel.sum().clamp(min=1)

    return {"masked": over(chosen), "all": over(valid)}


class MaskedEncoder(nn.Module):
    """Recurrent encoder of one modality with a reconstruction head.

    Parameters
    ----------
    in_dim : int
    hidden : int
    layers : int
    cell : {"gru", "lstm"}
    bidirectional : bool
        A bidirectional encoder sees both sides of a masked frame (the reconstruction task needs context).

    Shapes: ``encode(x, valid)`` → (B, T, hidden) per-frame states on the input grid (zeros where not valid);
    ``reconstruct(x, valid)`` → (B, T, in_dim).
    """

    def __init__(self, in_dim: int, hidden: int = 128, layers: int = 2, cell: str = "gru", bidirectional: bool = True):
        super().__init__()
        self.in_dim, self.hidden = in_dim, hidden
        # masked frames are zero vectors *inside* the sequence, so the encoder reads every valid frame (not compacted away)
        self.rnn = MaskedRNN(in_dim, hidden, layers, cell, bidirectional)
        self.decoder = nn.Linear(hidden, in_dim)

    def encode(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        h, _, _ = self.rnn(x, valid)  # compacted over valid frames (masked frames are valid zeros)
        return uncompact(h, valid)

    def reconstruct(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x, valid))


@register_model(
    "masked_pretrain", task="classification", modalities=("audio", "video"), level="utterance",
    inputs="audio.egemaps LLDs (25, 100 Hz) and/or face.cnn embeddings (768, 10 Hz), with masks",
    outputs="class logits per utterance (fine-tuned branch or the fused model); reconstruction in pretraining",
    weights="masked_pretrain.safetensors", card="docs/models/masked_pretrain.md",
    source="patent 001 (methods.md §2): masked-frame pretraining of RNN encoders (10 % zeroed, L2 reconstruction), mean pooling + FC, feature-level fusion",
)
class MaskedPretrain(SequenceModel):
    """Per-modality masked-pretrained encoders → mean pooling → FC (one modality) or concatenation → classifier (fusion).

    Parameters
    ----------
    dims : dict of str → int
        Input width per modality (``{"audio": 25}`` for the acoustic branch alone, both for the fusion; other keys, e.g.
        a corpus's ``text``, are ignored).
    hidden, layers : int
    cell : {"gru", "lstm"}
    bidirectional : bool
    num_classes : int
    dropout : float
    modalities : tuple of str or None
        The branches read, among ``audio`` and ``video`` present in ``dims`` (None: all of them) — one for a fine-tuned
        branch, both for the fused model.
    affect : bool
        Also output valence and arousal (two more outputs after the class logits), for ``emorec analyze``'s timeline; the
        patent's model is classes only (False).

    The encoders are ``self.encoders[m]`` (:class:`MaskedEncoder`); pretraining uses their ``reconstruct``, fine-tuning
    and fusion :meth:`forward` → (B, num_classes [+ 2]).
    """

    level = "utterance"

    def __init__(self, dims: dict | None = None, hidden: int = 128, layers: int = 2, cell: str = "gru", bidirectional: bool = True,
                 num_classes: int = 7, dropout: float = 0.2, modalities: tuple[str, ...] | None = None, affect: bool = False):
        super().__init__()
        dims = dict(DEFAULT_DIMS if dims is None else dims)
        self.modalities = tuple(m for m in ("audio", "video") if m in dims and (modalities is None or m in modalities))
        if not self.modalities:
            raise ValueError(f"masked_pretrain reads audio and/or video; dims has {sorted(dims)}, modalities {modalities}")
        self.dims = {m: dims[m] for m in self.modalities}
        self.num_classes, self.affect = num_classes, affect
        self.input_norm = nn.ModuleDict({m: InputNorm(d) for m, d in self.dims.items()})  # the pretraining's standardisation, or fitted
        self.encoders = nn.ModuleDict({m: MaskedEncoder(d, hidden, layers, cell, bidirectional) for m, d in self.dims.items()})
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * len(self.modalities), num_classes + (2 if affect else 0))

    def sentence_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per modality the mean of the encoder states over valid frames (B, hidden) (zeros for an absent modality)."""
        return {m: masked_mean(self.encoders[m].encode(self.input_norm[m](x[m]) * mask[m].unsqueeze(-1), mask[m]), mask[m]) for m in self.modalities}

    def forward_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:
        feats = self.sentence_features(x, mask)
        return torch.cat([feats[m] for m in self.modalities], dim=-1)

    def forward_head(self, features: torch.Tensor, mask: dict[str, torch.Tensor]) -> torch.Tensor:
        return bound_affect(self.head(self.drop(features)), self.num_classes)
