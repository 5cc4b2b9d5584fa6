"""emorec's temporal voice emotion network: a TCN over frozen speech-encoder states and
eGeMAPS LLDs, attentive utterance pooling, an emotion-class head and an arousal/valence head.

Per encoder state (≈41 per second) the input is the outputs of Moonshine base-en
encoder blocks (each layer-normalised, mixed with learned softmax weights — the
SUPERB weighted-layer-sum, Yang et al., Interspeech 2021, section 3) ‖ the 25
eGeMAPSv02 LLDs interpolated to the state times (standardised with training-set
statistics). A linear projection, a non-causal TCN (:class:`~emorec.models.blocks.TemporalBlock`,
dilations 1, 2, 4: a receptive field of 29 states ≈ 0.7 s) and attentive
statistics pooling (:class:`~emorec.models.blocks.AttentiveStatsPooling`) give
the utterance embedding; a linear head gives class logits, a linear head + tanh
gives (valence, arousal) in [-1, 1]. This follows the audio branch of the
``tcn_gated`` method (``../shared/docs/methods.md`` §1: a pretrained audio
network's middle layers → TCN) with utterance pooling for categorical corpora.

The arousal/valence head is trained on the categories' proxy coordinates
(:mod:`emorec.emotion_space`), not on dimensional ratings: it reads the voice's
category on the circumplex, nothing more.

Licence of the shipped weights (``emorec/weights/voice_tcn.safetensors``):
trained on RAVDESS (CC BY-NC-SA 4.0) and EMO-DB (free for research) — research
and non-commercial use only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from emorec.models.blocks import AttentiveStatsPooling, TemporalBlock
from emorec.models._registry import register_model
from emorec.models.speech_encoder import ENCODER_DIM, NUM_LLD
from emorec.models.weights import read_weights, save_weights, shipped_path

__all__ = ["NUM_LLD", "STATE_DIM", "VoiceTCN", "default_weights_path", "frame_inputs", "pad_batch"]

STATE_DIM = ENCODER_DIM


def default_weights_path() -> Path:
    return shipped_path("voice_tcn.safetensors")


def frame_inputs(block_states: np.ndarray, state_times: np.ndarray, lld: np.ndarray, lld_times: np.ndarray) -> np.ndarray:
    """Per-state network input of one recording.

    Parameters
    ----------
    block_states : (num_states, num_blocks, 416) np.ndarray
        Encoder block outputs (an ``audio.moonshine`` record's ``block_states``).
    state_times : (num_states,) np.ndarray
        Time of each state in seconds.
    lld : (num_lld_frames, 25) np.ndarray
        eGeMAPSv02 LLDs (100 frames/s; an ``audio.egemaps`` record's ``lld``).
    lld_times : (num_lld_frames,) np.ndarray
        Centre of each LLD frame in seconds.

    Returns
    -------
    (num_states, num_blocks × 416 + 25) np.ndarray of float32
        The block states flattened block by block, then the LLDs linearly
        interpolated at the state times (held constant beyond their ends).

    Raises
    ------
    ValueError
        No encoder state or no LLD frame.
    """
    states = np.asarray(block_states, np.float32)
    if states.ndim != 3 or states.shape[0] == 0 or states.shape[2] != STATE_DIM:
        raise ValueError(f"expected block states (num_states > 0, num_blocks, {STATE_DIM}), got {states.shape}")
    if len(lld) == 0:
        raise ValueError("no eGeMAPS LLD frame")
    lld = np.asarray(lld, np.float32)
    interp = np.stack([np.interp(state_times, lld_times, lld[:, j]) for j in range(lld.shape[1])], axis=1).astype(np.float32)
    return np.concatenate([states.reshape(len(states), -1), interp], axis=1)


class VoiceTCN(nn.Module):
    """TCN voice emotion network (see the module docstring).

    Parameters
    ----------
    classes : tuple of str
    blocks : tuple of int
        Moonshine encoder blocks in the input, in order.
    hidden : int
        TCN channels; the utterance embedding has ``2 × hidden`` values.
    dilations : tuple of int
        One :class:`~emorec.models.blocks.TemporalBlock` per dilation.
    dropout : float

    Shapes: ``forward(x, lengths)`` with ``x`` (batch, time, len(blocks) × 416 + 25)
    zero-padded after ``lengths`` (batch,) → (batch, num_classes + 2): class
    logits, then valence and arousal in [-1, 1]. ``forward_features`` → (batch, 2 × hidden).
    """

    def __init__(self, classes: tuple[str, ...], blocks: tuple[int, ...] = (2, 3, 4, 5), hidden: int = 128, dilations: tuple[int, ...] = (1, 2, 4), dropout: float = 0.2):
        super().__init__()
        self.classes, self.blocks = tuple(classes), tuple(int(b) for b in blocks)
        self.config = {"hidden": hidden, "dilations": list(dilations), "dropout": dropout}
        self.register_buffer("lld_mean", torch.zeros(NUM_LLD))
        self.register_buffer("lld_std", torch.ones(NUM_LLD))
        self.layer_weights = nn.Parameter(torch.zeros(len(self.blocks)))
        self.proj = nn.Sequential(nn.Linear(STATE_DIM + NUM_LLD, hidden), nn.GELU(), nn.Dropout(dropout))
        self.tcn = nn.Sequential(*[TemporalBlock(hidden, 3, d, dropout) for d in dilations])
        self.pool = AttentiveStatsPooling(hidden)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, len(self.classes))
        self.affect = nn.Linear(2 * hidden, 2)

    @property
    def input_dim(self) -> int:
        return len(self.blocks) * STATE_DIM + NUM_LLD

    def set_lld_normaliser(self, frames: np.ndarray) -> None:
        """Standardise the LLD part of the input with the mean/std of ``frames`` (num_frames, input_dim) (training data)."""
        lld = np.asarray(frames[:, -NUM_LLD:], np.float64)
        self.lld_mean.copy_(torch.from_numpy(lld.mean(axis=0)).float())
        self.lld_std.copy_(torch.from_numpy(lld.std(axis=0) + 1e-6).float())

    def forward_features(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        states = x[..., : len(self.blocks) * STATE_DIM].reshape(b, t, len(self.blocks), STATE_DIM)
        states = nn.functional.layer_norm(states, (STATE_DIM,))
        mixed = (states * torch.softmax(self.layer_weights, 0)[:, None]).sum(dim=2)
        lld = (x[..., -NUM_LLD:] - self.lld_mean) / self.lld_std
        mask = torch.arange(t, device=x.device)[None] < lengths[:, None]
        h = self.proj(torch.cat([mixed, lld], dim=-1)) * mask[..., None]
        h = h.transpose(1, 2)
        for block in self.tcn:
            h = block(h, mask)
        return self.pool(h, mask)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        e = self.drop(self.forward_features(x, lengths))
        return torch.cat([self.head(e), torch.tanh(self.affect(e))], dim=1)

    @torch.inference_mode()
    def predict(self, segments: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (num_segments, num_classes) and (valence, arousal) (num_segments, 2)
        of segments, each (num_states, input_dim) from :func:`frame_inputs`.

        Raises
        ------
        ValueError
            A segment with no state or of the wrong width.
        """
        for s in segments:
            if s.ndim != 2 or len(s) == 0 or s.shape[1] != self.input_dim:
                raise ValueError(f"voice_tcn input must be (num_states > 0, {self.input_dim}), got {s.shape}")
        self.eval()
        x, lengths = pad_batch(segments)
        out = self(x, lengths)
        k = len(self.classes)
        return torch.softmax(out[:, :k], 1).numpy(), out[:, k:].numpy()

    def save(self, path: str | Path, info: dict | None = None) -> None:
        """Write the weights (safetensors, float16: half the size; :meth:`load` computes in float32)
        with classes, blocks, settings and ``info`` in the metadata."""
        save_weights(path, self.state_dict(), {"classes": self.classes, "blocks": self.blocks, "config": self.config, "info": info or {}}, half=True)

    @classmethod
    def load(cls, path: str | Path | None = None) -> VoiceTCN:
        """Read weights written by :meth:`save` (default: the ones shipped in the package); ``info_`` holds their training notes.

        Raises
        ------
        FileNotFoundError
            No weights at ``path``.
        """
        path = Path(path) if path else default_weights_path()
        if not path.exists():
            raise FileNotFoundError(f"{path}: voice_tcn weights not found (train them with `emorec train voice_tcn`)")
        state, meta = read_weights(path)
        config = meta["config"]
        model = cls(tuple(meta["classes"]), tuple(meta["blocks"]), config["hidden"], tuple(config["dilations"]), config["dropout"])
        model.load_state_dict(state)
        model.info_ = meta.get("info", {})
        return model.eval()


register_model(
    "voice_tcn", task="classification+regression", modalities=("audio",), level="utterance",
    inputs="audio.moonshine encoder blocks 2-5 per state + 25 eGeMAPS LLDs", outputs="8 RAVDESS classes + (valence, arousal)",
    weights="voice_tcn.safetensors", card="docs/models/voice_tcn.md",
    source="audio branch of methods.md section 1 (TCN over a pretrained network's middle layers); SUPERB weighted layer sum (Yang et al. 2021)",
)(VoiceTCN)


def pad_batch(segments: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad (num_states_i, D) arrays into (batch, max_states, D) float32 and their lengths (batch,) int64."""
    lengths = torch.tensor([len(s) for s in segments])
    x = torch.zeros(len(segments), int(lengths.max()), segments[0].shape[1])
    for i, s in enumerate(segments):
        x[i, : len(s)] = torch.from_numpy(np.asarray(s, np.float32))
    return x, lengths
