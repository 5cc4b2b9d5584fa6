"""ResNet trunks in plain torch (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016, table 1):
BasicBlock stages, so spectrogram models need no torchvision (no wheel exists for emorec's torch)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RESNET_LAYERS", "BasicBlock", "ResNetTrunk"]

RESNET_LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
"""BasicBlock counts per stage of ResNet-18 and ResNet-34."""


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with an identity (or 1×1 projection) shortcut: (B, cin, H, W) → (B, cout, H/stride, W/stride)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class ResNetTrunk(nn.Module):
    """A ResNet without its classifier: 7×7/2 stem + 3×3/2 max pool, four BasicBlock stages of widths w, 2w, 4w, 8w
    (strides 1, 2, 2, 2). ``depth`` 18 or 34; ``width`` 64 is the paper's.

    Shapes: (B, in_channels, H, W) → (B, 8·width, H/32, W/32) (rounded up).

    Raises
    ------
    ValueError
        A depth other than 18 or 34.
    """

    def __init__(self, in_channels: int = 1, depth: int = 34, width: int = 64):
        super().__init__()
        if depth not in RESNET_LAYERS:
            raise ValueError(f"ResNet depth must be one of {sorted(RESNET_LAYERS)}, not {depth}")
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        stages, cin = [], width
        for i, n in enumerate(RESNET_LAYERS[depth]):
            cout = width * 2**i
            stages.append(nn.Sequential(*[BasicBlock(cin if b == 0 else cout, cout, 2 if (b == 0 and i > 0) else 1) for b in range(n)]))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))
