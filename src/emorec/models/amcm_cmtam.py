"""``amcm_cmtam``: adjacency-matrix ConvMixer (AMCM) on face-crop video, ResNet-34 on MFCCs, cross-modal temporal
attention with a learnable intermediate matrix (CMTAM) (paper 004, ``../shared/seeds/004_c9c76eb9809b30a9.txt``; digest
``../shared/docs/methods.md`` §5). Its loss, FLDW, is in :mod:`emorec.losses` (usable by any classifier).

- Video stream (:class:`AMCM`): ConvMixer patch embedding of each 112×112 RGB crop (patch 7 → a 16×16 grid); in every
  layer the depthwise convolution is replaced by (a) concatenating learned spatial and temporal position codes to the
  features, (b) a learnable spatial adjacency matrix (n² × n², 256 × 256) over the patches with a skip connection,
  (c) a learnable temporal adjacency matrix (t × t, 16 × 16) over the frames with a skip connection, then (d) pointwise
  convolution + GELU + BatchNorm. Both matrices start at 1 and are trained unconstrained. ``mixer="depthwise"`` is the
  original ConvMixer layer (Trockman & Kolter 2022: residual depthwise conv + GELU + BN, then pointwise) for the ablation.
- Audio stream: ResNet-34 (:class:`~emorec.models.blocks.ResNetTrunk`) on the MFCC "image" (1 × n_mfcc × frames), pooled
  over frequency → a sequence over time.
- Fusion: two symmetric :class:`CMTAM` blocks, ``Q = BN(Linear(X_M))``, ``K = BN(Linear(X_M'))``, ``V = BN(Linear(X_M'))``,
  ``f_att = softmax(Q · LIM · Kᵀ / √d_k) · V``, ``f_M = PointwiseConv(f_att + Q)``; each pooled over time, concatenated → FC.

Inputs (an exception to the (B, T, D) embeddings of the other sequence models: this family reads pixels and MFCCs):
``x["video"]`` (B, t, 3, H, W) float face crops in [0, 1] (H = W = 112 by default), ``x["audio"]`` (B, T_a, n_mfcc) MFCC
frames; ``mask["video"]`` (B, t), ``mask["audio"]`` (B, T_a). Output (B, num_classes) logits.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.blocks import InputNorm, ResNetTrunk, bound_affect, masked_mean, masked_softmax
from emorec.models.sequence import SequenceModel

__all__ = ["AMCM", "CMTAM", "AMCMCMTAM", "AMCMLayer", "augment_clips"]


class AMCMLayer(nn.Module):
    """One AMCM layer: (B, C, t, P) → (B, C, t, P) with P = n² patches.

    Parameters
    ----------
    dim : int
        Channels C.
    patches, frames : int
        P and t (the adjacency matrices' sizes).
    pos_dim : int
        Channels of each position code (spatial, temporal) concatenated before the matrices.
    mixer : {"adjacency", "depthwise"}
        ``depthwise``: the original ConvMixer layer (residual depthwise k×k conv + GELU + BN per frame, then pointwise +
        GELU + BN) — the ablation.
    kernel : int
        Depthwise kernel (``mixer="depthwise"``).
    """

    def __init__(self, dim: int, patches: int, frames: int, pos_dim: int = 8, mixer: str = "adjacency", kernel: int = 9):
        super().__init__()
        if mixer not in ("adjacency", "depthwise"):
            raise ValueError(f"amcm: mixer must be 'adjacency' or 'depthwise', not {mixer!r}")
        self.mixer, self.grid = mixer, int(round(math.sqrt(patches)))
        if mixer == "adjacency":
            self.spatial_code = nn.Parameter(torch.randn(pos_dim, 1, patches) * 0.02)
            self.temporal_code = nn.Parameter(torch.randn(pos_dim, frames, 1) * 0.02)
            self.sam = nn.Parameter(torch.ones(patches, patches))  # spatial adjacency, initialised to 1 (the paper)
            self.tam = nn.Parameter(torch.ones(frames, frames))  # temporal adjacency, initialised to 1
            cin = dim + 2 * pos_dim
        else:
            self.depthwise = nn.Sequential(nn.Conv2d(dim, dim, kernel, groups=dim, padding=kernel // 2), nn.GELU(), nn.BatchNorm2d(dim))
            cin = dim
        self.pointwise = nn.Sequential(nn.Conv2d(cin, dim, 1), nn.GELU(), nn.BatchNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, p = x.shape
        if self.mixer == "depthwise":
            frames = x.permute(0, 2, 1, 3).reshape(b * t, c, self.grid, self.grid)
            frames = frames + self.depthwise(frames)
            return self.pointwise(frames.reshape(b, t, c, p).permute(0, 2, 1, 3))
        codes = [self.spatial_code.expand(-1, t, -1), self.temporal_code[:, :t].expand(-1, -1, p)]
        h = torch.cat([x, *(code.unsqueeze(0).expand(b, -1, -1, -1) for code in codes)], dim=1)  # (B, C + 2 pos, t, P)
        h = h + h @ self.sam  # spatial adjacency over the patches, with the skip connection
        h = h + torch.einsum("bctp,ts->bcsp", h, self.tam[:t, :t])  # temporal adjacency over the frames, with the skip
        return self.pointwise(h)


class AMCM(nn.Module):
    """Video stream: patch embedding + ``depth`` :class:`AMCMLayer` → per-frame tokens (B, t, dim).

    Parameters
    ----------
    dim, depth : int
    image : int
        Crop side (112).
    patch : int
        Patch side (7 → 16 × 16 = 256 patches).
    frames : int
        t, the number of frames (16).
    pos_dim : int
    mixer : {"adjacency", "depthwise"}
    kernel : int
    """

    def __init__(self, dim: int = 64, depth: int = 4, image: int = 112, patch: int = 7, frames: int = 16, pos_dim: int = 8, mixer: str = "adjacency", kernel: int = 9):
        super().__init__()
        grid = image // patch
        self.frames = frames
        self.embed = nn.Sequential(nn.Conv2d(3, dim, patch, stride=patch), nn.GELU(), nn.BatchNorm2d(dim))
        self.layers = nn.ModuleList([AMCMLayer(dim, grid * grid, frames, pos_dim, mixer, kernel) for _ in range(depth)])

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        b, t = video.shape[:2]
        if t > self.frames:
            raise ValueError(f"amcm: {t} frames given, the temporal adjacency matrix holds {self.frames}")
        h = self.embed(video.reshape(b * t, *video.shape[2:]))  # (B·t, C, n, n)
        h = h.reshape(b, t, h.shape[1], -1).permute(0, 2, 1, 3)  # (B, C, t, P)
        for layer in self.layers:
            h = layer(h)
        return h.mean(dim=3).transpose(1, 2)  # (B, t, C)

    def adjacency(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each layer's (spatial (P, P), temporal (t, t)) adjacency matrices, for the figures (empty for ``depthwise``)."""
        return [(layer.sam.detach(), layer.tam.detach()) for layer in self.layers if layer.mixer == "adjacency"]


class CMTAM(nn.Module):
    """Cross-modal temporal attention of modality M over M' with a learnable intermediate matrix LIM (d × d, initialised
    to the identity): ``Q = BN(Linear(X_M))``, ``K = BN(Linear(X_M'))``, ``V = BN(Linear(X_M'))``,
    ``f = PointwiseConv(softmax(Q·LIM·Kᵀ/√d)·V + Q)``.

    Shapes: ``x`` (B, t, d_M), ``other`` (B, t', d_M'), ``other_mask`` (B, t') → (B, t, d) and the weights (B, t, t').
    """

    def __init__(self, dim_m: int, dim_other: int, dim: int = 64):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(dim_m, dim), nn.Linear(dim_other, dim), nn.Linear(dim_other, dim)
        self.bn_q, self.bn_k, self.bn_v = nn.BatchNorm1d(dim), nn.BatchNorm1d(dim), nn.BatchNorm1d(dim)
        self.lim = nn.Parameter(torch.eye(dim))
        self.pointwise = nn.Conv1d(dim, dim, 1)
        self.scale = 1.0 / math.sqrt(dim)

    @staticmethod
    def _bn(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
        return bn(x.transpose(1, 2)).transpose(1, 2)

    def forward(self, x: torch.Tensor, other: torch.Tensor, other_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = self._bn(self.bn_q, self.q(x)), self._bn(self.bn_k, self.k(other)), self._bn(self.bn_v, self.v(other))
        scores = torch.einsum("btd,de,bse->bts", q, self.lim, k) * self.scale
        weights = masked_softmax(scores, other_mask[:, None, :].expand_as(scores))
        att = torch.einsum("bts,bsd->btd", weights, v)
        return self.pointwise((att + q).transpose(1, 2)).transpose(1, 2), weights


def augment_clips(video: torch.Tensor, max_degrees: float = 10.0, max_shift: float = 0.125) -> torch.Tensor:
    """Random rotation and shift, one per clip, applied to every frame of it (004 paper §4.1: random cropping and rotation of the face sequences).

    ``video`` (B, t, C, H, W) → the same shape; the shift is a fraction of the side; borders are filled with zeros.
    """
    b, t, c, h, w = video.shape
    angle = (torch.rand(b, device=video.device) * 2 - 1) * math.radians(max_degrees)
    shift = (torch.rand(b, 2, device=video.device) * 2 - 1) * max_shift * 2  # affine_grid's coordinates span [-1, 1]
    theta = torch.zeros(b, 2, 3, device=video.device, dtype=video.dtype)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = angle.cos(), -angle.sin(), angle.sin(), angle.cos()
    theta[:, :, 2] = shift
    grid = nn.functional.affine_grid(theta.repeat_interleave(t, dim=0), [b * t, c, h, w], align_corners=False)
    return nn.functional.grid_sample(video.reshape(b * t, c, h, w), grid, align_corners=False).reshape(b, t, c, h, w)


@register_model(
    "amcm_cmtam", task="classification", modalities=("audio", "video"), level="utterance",
    inputs="16 face crops 112×112 RGB in [0, 1] (B, t, 3, 112, 112); MFCC frames (B, T_a, n_mfcc); masks",
    outputs="class logits per clip (7 classes by default; + valence, arousal with affect)", weights="amcm_cmtam.safetensors", card="docs/models/amcm_cmtam.md",
    source="paper 004 (methods.md §5): AMCM (spatial + temporal adjacency matrices in ConvMixer), ResNet-34 on MFCC, CMTAM with LIM; FLDW loss",
)
class AMCMCMTAM(SequenceModel):
    """AMCM video stream + ResNet-34 audio stream + two CMTAM blocks + classifier (paper 004).

    Parameters
    ----------
    num_classes : int
    dim : int
        Width of the video tokens and of the CMTAM blocks.
    depth : int
        AMCM layers.
    frames : int
        Video frames t (the temporal adjacency matrix is t × t).
    image, patch : int
    audio_width : int
        ResNet-34 base width (64 in the paper; smaller for CPU-sized runs).
    audio_depth : {18, 34}
    mixer : {"adjacency", "depthwise"}
    kernel : int
        Depthwise kernel of ``mixer="depthwise"`` (choose it so both mixers have about the same parameters).
    streams : {"both", "video", "audio"}
        ``video``/``audio``: one stream alone (pooled tokens → classifier), the ablation against the fusion.
    dropout : float
    n_mfcc : int
        MFCC coefficients per audio frame (standardised per coefficient by ``input_norm["audio"]``, fitted on the
        training fold).
    affect : bool
        Also output valence and arousal (two outputs after the logits) for ``emorec analyze``'s timeline; the paper's
        model is classes only (False).
    augment : bool
        While training, each clip's frames are rotated by one random angle in ±10° and shifted by one random offset
        within ±1/8 of the side (the paper's random rotation and cropping, §4.1, the same for all frames of a clip so that
        the motion is kept); off in eval mode.

    ``x["video"]`` may also be flattened, (B, t, 3·H·W) (the corpus and analyze inputs), and is reshaped.

    Raises
    ------
    ValueError
        Unknown ``mixer`` or ``streams``.
    """

    level = "utterance"

    def __init__(self, num_classes: int = 7, dim: int = 64, depth: int = 4, frames: int = 16, image: int = 112, patch: int = 7, audio_width: int = 64,
                 audio_depth: int = 34, mixer: str = "adjacency", streams: str = "both", dropout: float = 0.2, n_mfcc: int = 40, affect: bool = False,
                 kernel: int = 9, augment: bool = False):
        super().__init__()
        self.augment = augment
        if streams not in ("both", "video", "audio"):
            raise ValueError(f"amcm_cmtam: streams must be 'both', 'video' or 'audio', not {streams!r}")
        self.num_classes, self.affect, self.streams, self.image = num_classes, affect, streams, image
        self.input_norm = nn.ModuleDict({"audio": InputNorm(n_mfcc)})
        self.modalities = {"both": ("audio", "video"), "video": ("video",), "audio": ("audio",)}[streams]
        self.video = AMCM(dim, depth, image, patch, frames, mixer=mixer, kernel=kernel) if streams != "audio" else None
        if streams != "video":
            self.audio = ResNetTrunk(1, audio_depth, audio_width)
            self.audio_proj = nn.Linear(self.audio.out_channels, dim)
        else:
            self.audio = None
        if streams == "both":
            self.video_over_audio, self.audio_over_video = CMTAM(dim, dim, dim), CMTAM(dim, dim, dim)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(dim * len(self.modalities), num_classes + (2 if affect else 0))

    def audio_tokens(self, mfcc: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ResNet-34 over the MFCC image, pooled over frequency: (B, t', dim) tokens and their mask (a token is observed if
        any MFCC frame it covers is)."""
        h = self.audio(mfcc.transpose(1, 2).unsqueeze(1))  # (B, C, F', T')
        tokens = self.audio_proj(h.mean(dim=2).transpose(1, 2))  # (B, T', dim)
        stride = math.ceil(mask.shape[1] / tokens.shape[1])
        pad = stride * tokens.shape[1] - mask.shape[1]
        token_mask = nn.functional.pad(mask, (0, pad)).reshape(mask.shape[0], tokens.shape[1], stride).any(dim=2)
        return tokens, token_mask

    def forward_features(self, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = []
        if self.video is not None:
            video = x["video"]
            if video.dim() == 3:  # flattened crops
                video = video.reshape(*video.shape[:2], 3, self.image, self.image)
            if self.augment and self.training:
                video = augment_clips(video)
            v = self.video(video)
            v_mask = mask["video"]
        if self.audio is not None:
            a, a_mask = self.audio_tokens(self.input_norm["audio"](x["audio"]) * mask["audio"].unsqueeze(-1), mask["audio"])
        if self.streams == "both":
            fv, _ = self.video_over_audio(v, a, a_mask)
            fa, _ = self.audio_over_video(a, v, v_mask)
            parts = [masked_mean(fv, v_mask), masked_mean(fa, a_mask)]
        elif self.streams == "video":
            parts = [masked_mean(v, v_mask)]
        else:
            parts = [masked_mean(a, a_mask)]
        return torch.cat(parts, dim=-1)

    def forward_head(self, features: torch.Tensor, mask: dict[str, torch.Tensor]) -> torch.Tensor:
        return bound_affect(self.head(self.drop(features)), self.num_classes)
