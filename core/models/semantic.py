"""Polychrome's semantic marginal network: an ImageNet-pretrained EfficientNet-Lite
encoder with a U-Net decoder and an image-level context vector.

Gray L is fed to the encoder as three equal sRGB channels (the gray an sRGB
display shows for that L*, with a = b = 0), so the ImageNet features apply
unchanged. Skips come from strides 4/8/16/32; logits are at stride 4 over
Polychrome's own 261 in-gamut bins. Any input size; the aspect ratio is kept
by reflect-padding to a multiple of 32 and cropping the output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..bins import gamut_bins
from .base import MarginalModel
from .efficientnet_lite import EfficientNetLite, load_pretrained, normalise_rgb255
from .registry import register_architecture


def _cbr(cin: int, cout: int, k: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def gray_srgb_from_l(L: torch.Tensor) -> torch.Tensor:
    """L* ``(B, 1, H, W)`` in [0, 100] -> sRGB gray ``(B, 1, H, W)`` in [0, 1] (a = b = 0, D65)."""
    fy = (L + 16.0) / 116.0
    delta = 6.0 / 29.0
    y = torch.where(fy > delta, fy**3, 3 * delta**2 * (fy - 4.0 / 29.0)).clamp(0.0, 1.0)
    return torch.where(y <= 0.0031308, 12.92 * y, 1.055 * y.clamp_min(1e-12) ** (1 / 2.4) - 0.055)


class SemanticNet(MarginalModel):
    """L ``(B, 1, H, W)`` -> logits ``(B, Q, ceil(H/4), ceil(W/4))``.

    ``encoder.*`` parameters are the EfficientNet-Lite's (published names under that
    prefix); the encoder's batch-norm statistics stay frozen in training (small CPU
    batches of gray crops would only add noise to ImageNet's statistics).
    """

    input_size = 256
    stride = 4
    _multiple = 32

    def __init__(self, centres: np.ndarray | None = None, variant: str = "lite0") -> None:
        super().__init__(gamut_bins() if centres is None else centres)
        self.name = f"polychrome-{variant}"
        self.encoder = EfficientNetLite(variant)
        # The classifier head is not used for colour; drop it so it is not shipped.
        del self.encoder._conv_head, self.encoder._bn1, self.encoder._fc
        c4, c8, c16, c32 = self.encoder.feature_channels
        self.context = nn.Sequential(nn.Linear(c32, 256), nn.ReLU(inplace=True), nn.Linear(256, 256))
        self.top = _cbr(c32, 256, 1)
        self.dec16 = nn.Sequential(_cbr(256 + c16, 192), _cbr(192, 192))
        self.dec8 = nn.Sequential(_cbr(192 + c8, 128), _cbr(128, 128))
        self.dec4 = nn.Sequential(_cbr(128 + c4, 96), _cbr(96, 96))
        self.head = nn.Conv2d(96, self.num_bins, 1)

    def init_pretrained(self, path: str | None = None) -> None:
        """Load the published ImageNet weights into the encoder (training only)."""
        full = EfficientNetLite(self.encoder.variant)
        load_pretrained(full, None if path is None else Path(path))
        own = self.encoder.state_dict()
        self.encoder.load_state_dict({k: v for k, v in full.state_dict().items() if k in own}, strict=True)

    def train(self, mode: bool = True) -> SemanticNet:
        super().train(mode)
        for m in self.encoder.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def logits_from_l(self, L: torch.Tensor) -> torch.Tensor:
        H, W = L.shape[-2:]
        m = self._multiple
        ph, pw = (-H) % m, (-W) % m
        x = normalise_rgb255(gray_srgb_from_l(L))
        if ph or pw:
            mode = "reflect" if min(H, W) > max(ph, pw) else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        f4, f8, f16, f32 = self.encoder.features(x.expand(-1, 3, -1, -1))
        d = self.top(f32) + self.context(f32.mean(dim=(2, 3)))[:, :, None, None]
        d = self.dec16(torch.cat([F.interpolate(d, size=f16.shape[-2:], mode="bilinear"), f16], 1))
        d = self.dec8(torch.cat([F.interpolate(d, size=f8.shape[-2:], mode="bilinear"), f8], 1))
        d = self.dec4(torch.cat([F.interpolate(d, size=f4.shape[-2:], mode="bilinear"), f4], 1))
        out = self.head(d)
        oh, ow = -(-H // self.stride), -(-W // self.stride)
        return out[..., :oh, :ow]


register_architecture("polychrome-lite0", lambda **kw: SemanticNet(variant="lite0", **kw))
register_architecture("polychrome-lite2", lambda **kw: SemanticNet(variant="lite2", **kw))
