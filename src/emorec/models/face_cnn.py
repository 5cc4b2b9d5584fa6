"""emorec's compact facial-expression CNN (VGG-style stages) for 48×48 grey faces.

A VGG-style network of the kind that holds the strong single-model FER2013
results (e.g. Khaireddin & Chen 2021, "Facial Emotion Recognition: State of
the Art Performance on FER2013", a tuned VGG at 73.28 %), reduced to fit a
2-core CPU: four stages of two 3×3 conv-BN-ReLU layers and 2×2 pooling
(32-64-128-256 channels), global average pooling, dropout, linear head.

Shapes: ``forward_features`` (batch, 1, 48, 48) → (batch, 256) expression
embedding; ``forward_head`` (batch, 256) → (batch, num_classes) logits.
Input: grey faces scaled to [0, 1] then standardised with mean 0.5, std 0.25.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.blocks import ConvStage
from emorec.models.weights import read_weights, save_weights, shipped_path

__all__ = ["INPUT_MEAN", "INPUT_STD", "FaceCNN", "FaceSnapshotEnsemble", "class_probabilities", "default_weights_path", "join_face_models", "load_face_model", "save_face_model", "tta_settings", "tta_views"]

INPUT_MEAN, INPUT_STD = 0.5, 0.25
"""Input standardisation: ``(grey / 255 - INPUT_MEAN) / INPUT_STD``."""


class FaceCNN(nn.Module):
    """Compact VGG-style CNN for 48×48 grey face crops.

    Parameters
    ----------
    num_classes : int
    width : int
        Channels of the first stage (doubles per stage).
    dropout : float
    """

    def __init__(self, num_classes: int = 7, width: int = 32, dropout: float = 0.3):
        super().__init__()
        self.num_classes, self.width = num_classes, width
        self.stages = nn.Sequential(
            ConvStage(1, width), ConvStage(width, 2 * width, 0.1), ConvStage(2 * width, 4 * width, 0.1), ConvStage(4 * width, 8 * width, 0.1)
        )
        self.embed_dim = 8 * width
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.embed_dim, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x).mean(dim=(2, 3))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class FaceSnapshotEnsemble(nn.Module):
    """Snapshots of one :class:`FaceCNN` training run, taken at the ends of its
    cosine learning-rate cycles, averaged (Huang et al. 2017, "Snapshot
    Ensembles: Train 1, get M for free", section 3).

    Shapes: ``forward_features`` (batch, 1, 48, 48) → (batch, M × 256), the
    members' embeddings side by side; ``forward`` → (batch, num_classes) log of
    the members' mean class probabilities (so ``softmax(forward(x))`` is that mean).
    """

    def __init__(self, members: list[FaceCNN]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.num_classes = members[0].num_classes
        self.embed_dim = sum(m.embed_dim for m in members)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m.forward_features(x) for m in self.members], dim=1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        parts = torch.split(features, [m.embed_dim for m in self.members], dim=1)
        probs = torch.stack([torch.softmax(m.forward_head(f), dim=1) for m, f in zip(self.members, parts)]).mean(dim=0)
        return torch.log(probs.clamp_min(1e-12))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def tta_views(x: torch.Tensor, mirror: bool = False, shift: int = 0) -> list[torch.Tensor]:
    """Test-time augmentation views of faces ``x`` (batch, 1, H, W): the faces; with ``shift`` > 0
    also the faces moved by ``shift`` pixels left, right, up and down (edges replicated); with
    ``mirror`` every view's mirror image too. Returns 1, 2, 5 or 10 tensors shaped like ``x``."""
    views = [x]
    if shift:
        h, w = x.shape[-2:]
        padded = nn.functional.pad(x, (shift, shift, shift, shift), mode="replicate")
        for dx, dy in ((shift, 0), (-shift, 0), (0, shift), (0, -shift)):
            views.append(padded[..., shift - dy : shift - dy + h, shift - dx : shift - dx + w])
    if mirror:
        views += [v.flip(-1) for v in views]
    return views


def class_probabilities(model: nn.Module, x: torch.Tensor, mirror: bool = False, shift: int = 0, features: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax class probabilities of a face model, ``x`` (batch, 1, 48, 48) → (batch, num_classes);
    with ``mirror`` and/or ``shift``, the mean over the :func:`tta_views` of each face
    (test-time augmentation). ``features`` (batch, embed_dim): ``model.forward_features(x)`` when
    the caller has it already (the unchanged view is then not run again)."""
    views = tta_views(x, mirror, shift)
    first = model.forward_head(features) if features is not None else model(views[0])
    return sum((torch.softmax(model(v), dim=1) for v in views[1:]), torch.softmax(first, dim=1)) / len(views)


def default_weights_path() -> Path:
    """Where the shipped face_cnn weights live inside the installed package."""
    return shipped_path("face_cnn.safetensors")


def tta_settings(info: dict) -> tuple[bool, int]:
    """``(mirror, shift)`` for :func:`class_probabilities`: the test-time views stored in the
    weights' metadata by the training recipe (``tta: hflip``, ``tta_shift: n`` pixels)."""
    return info.get("tta") == "hflip", int(info.get("tta_shift", 0))


def save_face_model(model: FaceCNN | FaceSnapshotEnsemble, path: str | Path, info: dict) -> None:
    """Write a face model as safetensors; ``info`` (classes, width, dropout, …) goes into the metadata,
    with ``members`` = the number of snapshots for an ensemble. Floating-point tensors are stored as
    float16 (half the size; :func:`load_face_model` computes in float32)."""
    info = dict(info, members=len(model.members) if isinstance(model, FaceSnapshotEnsemble) else 1)
    save_weights(path, model.state_dict(), {"info": info}, half=True)


def load_face_model(path: str | Path) -> tuple[FaceCNN | FaceSnapshotEnsemble, dict]:
    """Read weights written by :func:`save_face_model`; returns the model (eval mode, ``info_`` set) and its ``info``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Not a safetensors file, or another model's weights (no face_cnn metadata, or tensors that do not fit).
    """
    state, meta = read_weights(path)
    info = meta.get("info")
    if not isinstance(info, dict) or not all(k in info for k in ("classes", "width", "dropout")):
        raise ValueError(f"{path}: not face_cnn weights (no face_cnn metadata: classes, width, dropout)")
    members = [FaceCNN(len(info["classes"]), info["width"], info["dropout"]) for _ in range(int(info.get("members", 1)))]
    model = members[0] if len(members) == 1 else FaceSnapshotEnsemble(members)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: not face_cnn weights of the size its metadata gives ({str(exc).splitlines()[0]})") from exc
    model.info_ = info
    return model.eval(), info


def join_face_models(paths: list[str | Path], out: str | Path, trained: str = "") -> FaceSnapshotEnsemble:
    """Write one :class:`FaceSnapshotEnsemble` of the networks in ``paths`` (files of :func:`save_face_model`, each a
    single network or an ensemble, whose members are taken in order) to ``out``: class probabilities averaged, embeddings
    side by side (Huang et al. 2017, section 3). The metadata keeps each file's training history and test-time views
    (the first file's).

    Raises
    ------
    FileNotFoundError
        A file in ``paths`` is missing.
    ValueError
        Fewer than two networks, or networks with different classes.
    """
    members, infos = [], []
    for path in paths:
        model, info = load_face_model(path)
        members += list(model.members) if isinstance(model, FaceSnapshotEnsemble) else [model]
        infos.append(info)
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least two networks, {len(members)} given")
    if any(i["classes"] != infos[0]["classes"] for i in infos):
        raise ValueError("the networks to join have different classes")
    ensemble = FaceSnapshotEnsemble(members).eval()
    history = "; ".join(f"[{Path(p).name}] {i.get('trained', 'not recorded')}" for p, i in zip(paths, infos))
    info = {k: v for k, v in infos[0].items() if k not in ("members", "trained")}
    info["trained"] = f"ensemble (mean class probabilities) of {len(members)} networks{': ' + trained if trained else ''}; {history}"
    save_face_model(ensemble, out, info)
    return ensemble


register_model(
    "face_cnn", task="classification", modalities=("video",), level="image",
    inputs="48x48 grey eye-aligned face crop (face.track)", outputs="7 FER2013 classes; 256-d expression embedding per network",
    weights="face_cnn.safetensors", card="docs/models/face_cnn.md", source="VGG-style CNN (Simonyan & Zisserman 2015) on FER2013 (Goodfellow et al. 2013)",
    loader=lambda path: load_face_model(path)[0],
)(FaceCNN)

register_model(
    "face_cnn_distilled", task="classification", modalities=("video",), level="image",
    inputs="48x48 grey eye-aligned face crop (face.track)", outputs="7 FER2013 classes; 256-d expression embedding",
    weights="face_cnn_distilled.safetensors", card="docs/models/face_cnn.md",
    source="one FaceCNN distilled from the face_cnn snapshot ensemble (Hinton et al. 2015) with video-like augmentation",
    loader=lambda path: load_face_model(path)[0],
)(FaceCNN)
