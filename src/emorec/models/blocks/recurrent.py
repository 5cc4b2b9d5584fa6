"""Recurrent encoders over masked sequences (the GRU/LSTM encoders of the utterance-level families).

A modality's mask may have holes (no face in some frames, silence between words): the encoder reads only the
observed frames, in order, as one packed sequence (``torch.nn.utils.rnn.pack_padded_sequence``), so a missing frame
is never read as a zero feature and padding never reaches the last hidden state.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MaskedRNN", "compact", "uncompact"]


def compact(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Move each item's observed frames to the front, in order.

    Shapes: ``x`` (B, T, D), ``mask`` (B, T) bool → ``x'`` (B, L, D) with L = max observed count (≥ 1),
    ``mask'`` (B, L) bool (a prefix of each row), ``lengths`` (B,) int64 (0 for an item with nothing observed).
    """
    lengths = mask.sum(dim=1)
    order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)  # observed frames first, in time order
    width = max(int(lengths.max()) if lengths.numel() else 0, 1)
    idx = order[:, :width]
    out = torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
    out_mask = torch.arange(width, device=x.device)[None, :] < lengths[:, None]
    return out * out_mask.unsqueeze(-1), out_mask, lengths


def uncompact(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`compact`: ``values`` (B, L, ...) over the compacted observed steps, ``mask`` (B, T) the
    original mask → (B, T, ...) with each value back on its frame, 0 on unobserved frames (e.g. attention weights or
    encoder states drawn on the input grid)."""
    out = torch.zeros(*mask.shape, *values.shape[2:], dtype=values.dtype, device=values.device)
    prefix = torch.arange(values.shape[1], device=mask.device)[None, :] < mask.sum(1, keepdim=True)  # compacted steps in use
    out[mask] = values[prefix]  # both selections run row by row, in time order
    return out


class MaskedRNN(nn.Module):
    """A (multilayer, optionally bidirectional) GRU or LSTM over the observed frames of a masked sequence.

    Parameters
    ----------
    in_dim : int
    hidden : int
        Output width (per direction ``hidden // 2`` when ``bidirectional``).
    layers : int
    cell : {"gru", "lstm"}
    bidirectional : bool
    dropout : float
        Between layers (``layers`` > 1).

    Shapes: ``forward(x, mask)`` with ``x`` (B, T, in_dim), ``mask`` (B, T) bool →
    ``outputs`` (B, L, hidden) over the compacted observed frames (zeros past each length), ``out_mask`` (B, L),
    ``last`` (B, hidden) — the final state (forward direction's last step ‖ backward direction's first step);
    zeros for an item with no observed frame.

    Raises
    ------
    ValueError
        Unknown cell, or an odd ``hidden`` with ``bidirectional``.
    """

    def __init__(self, in_dim: int, hidden: int, layers: int = 1, cell: str = "gru", bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', not {cell!r}")
        if bidirectional and hidden % 2:
            raise ValueError(f"bidirectional RNN needs an even hidden width, not {hidden}")
        size = hidden // 2 if bidirectional else hidden
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(in_dim, size, num_layers=layers, batch_first=True, bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0)
        self.hidden, self.bidirectional = hidden, bidirectional

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        xc, out_mask, lengths = compact(x, mask)
        packed = nn.utils.rnn.pack_padded_sequence(xc, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=xc.shape[1])
        h = state[0] if isinstance(state, tuple) else state  # (layers · directions, B, size)
        last = torch.cat([h[-2], h[-1]], dim=-1) if self.bidirectional else h[-1]
        seen = (lengths > 0).to(x.dtype)
        return out * out_mask.unsqueeze(-1), out_mask, last * seen[:, None]
