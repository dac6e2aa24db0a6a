"""The published Zhang et al. colorization networks as marginal models.

Re-implemented so that the authors' released PyTorch state dicts (from the
``richzhang/colorization`` repository, ``colorizers/eccv16.py`` and
``colorizers/siggraph17.py``) load unchanged: the module names, ``nn.Sequential``
indices and tensor shapes below follow those files exactly.

* :class:`ECCV16Net` — Colorful Image Colorization (ECCV 2016). Logits are the
  313-channel ``conv8`` output at 1/4 resolution. Its 313 ab bin centres are
  Zhang's own set (not Polychrome's computed gamut bins): the release stores
  them, divided by 110, as the weights of the final 1x1 ``model_out`` conv that
  turns the softmax into ab (``ab = 110 * model_out(softmax(conv8))``), so they
  are recovered from the weights whenever a state dict is loaded.
* :class:`SIGGRAPH17Net` — Real-Time User-Guided Image Colorization (SIGGRAPH
  2017). Takes L plus ab hints and a hint mask; its ``model_class`` head gives
  529 logits over the full 23 x 23 ab grid of step 10 on [-110, 110]^2, and a
  separate regression head predicts ab directly (:meth:`SIGGRAPH17Net.regress_ab`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .base import MarginalModel
from .registry import register_architecture

# Input/output normalisation of both official nets (``BaseColor`` in the release).
L_CENT = 50.0
L_NORM = 100.0
AB_NORM = 110.0

# Caffe's ECCV16 deploy net scales conv8_313 by 2.606 (a Scale layer, "conv8_313_rh")
# before the softmax and the centres conv ("class8_ab"): an annealed mean with
# T = 1 / 2.606 ~= 0.384. The PyTorch port (colorizers/eccv16.py) has no layer
# between model8 and that softmax, so the factor must be folded into model8's last
# conv (model8.6). Dividing it out gives plain logits, on which our T = 0.38 means
# what Zhang's does. Inferred from the two graphs: this was not checked against the
# released numbers here (no network), and nothing in the release notes states it.
ECCV16_LOGIT_SCALE = 2.606

SIGGRAPH17_GRID_STEP = 10.0
SIGGRAPH17_AB_MAX = 110.0
SIGGRAPH17_GRID_SIDE = int(2 * SIGGRAPH17_AB_MAX / SIGGRAPH17_GRID_STEP) + 1  # 23


def siggraph17_grid() -> np.ndarray:
    """The 529 ab centres ``(529, 2)`` float32 of SIGGRAPH17's class head.

    Class ``q = ia * 23 + ib`` has centre ``(-110 + 10 ia, -110 + 10 ib)``, the
    order of ``encode_ab_ind`` in the authors' training code
    (``richzhang/colorization-pytorch``, ``util/util.py``).
    """
    v = np.arange(SIGGRAPH17_GRID_SIDE, dtype=np.float32) * SIGGRAPH17_GRID_STEP - SIGGRAPH17_AB_MAX
    a, b = np.meshgrid(v, v, indexing="ij")  # a along rows, so b varies fastest
    return np.stack([a.ravel(), b.ravel()], axis=1)


def _conv_stack(
    cin: int, cout: int, n: int, *, stride_last: int = 1, dilation: int = 1, norm: bool = True
) -> list[nn.Module]:
    """``n`` x (3x3 conv, ReLU), optionally BatchNorm: the official block layout.

    Convs sit at even indices (0, 2, 4, ...), the BatchNorm last, as in the release.
    """
    layers: list[nn.Module] = []
    for i in range(n):
        stride = stride_last if i == n - 1 else 1
        layers += [
            nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=stride, padding=dilation, dilation=dilation),
            nn.ReLU(inplace=True),
        ]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    return layers


def _pad_to_multiple(x: torch.Tensor, m: int, mode: str = "reflect") -> torch.Tensor:
    """Pad ``(B, C, H, W)`` at the bottom/right up to multiples of ``m``."""
    H, W = x.shape[-2:]
    ph, pw = (-H) % m, (-W) % m
    if not (ph or pw):
        return x
    if mode == "reflect" and min(H, W) <= max(ph, pw):
        mode = "replicate"  # reflect needs the pad to be smaller than the side
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _check_state_dict_is_tensors(state_dict: Mapping[str, Any]) -> None:
    bad = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise TypeError(f"state dict values must be tensors; not for {bad[:3]}")


class _ZhangModel(MarginalModel):
    """Shared parts: padding to the nets' total downsampling and cropping back."""

    input_size = 256
    stride = 4
    _multiple = 8  # both nets downsample 3x by 2 and upsample once before the logits

    def __init__(self, centres: np.ndarray | None = None) -> None:
        super().__init__(np.zeros((0, 2), np.float32) if centres is None else centres)

    def _normalise_l(self, L: torch.Tensor) -> torch.Tensor:
        return (L - L_CENT) / L_NORM

    def _crop(self, out: torch.Tensor, H: int, W: int) -> torch.Tensor:
        return out[..., : -(-H // self.stride), : -(-W // self.stride)]

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, torch.Tensor]) -> _ZhangModel:
        """Build the net and load an official state dict into it (strict), in eval mode."""
        _check_state_dict_is_tensors(state_dict)
        model = cls()
        model.load_state_dict(state_dict, strict=True)
        return model.eval()


class ECCV16Net(_ZhangModel):
    """Zhang et al. 2016: L ``(B, 1, H, W)`` -> logits ``(B, 313, ceil(H/4), ceil(W/4))``.

    ``centres`` ``(313, 2)`` are tied to ``model_out.weight`` (``centres = 110 *
    model_out.weight[:, :, 0, 0].T``): given centres set the weight, and loading a
    state dict resets the centres from the weight. The ~32 M parameters take
    about 130 MB in float32.
    """

    name = "eccv16"
    logit_scale = ECCV16_LOGIT_SCALE
    num_classes = 313

    def __init__(self, centres: np.ndarray | None = None) -> None:
        q = self.num_classes
        # Placeholder until model_out exists; replaced from (or written into) it below.
        super().__init__(np.zeros((q, 2), dtype=np.float32))
        self.model1 = nn.Sequential(*_conv_stack(1, 64, 2, stride_last=2))
        self.model2 = nn.Sequential(*_conv_stack(64, 128, 2, stride_last=2))
        self.model3 = nn.Sequential(*_conv_stack(128, 256, 3, stride_last=2))
        self.model4 = nn.Sequential(*_conv_stack(256, 512, 3))
        self.model5 = nn.Sequential(*_conv_stack(512, 512, 3, dilation=2))
        self.model6 = nn.Sequential(*_conv_stack(512, 512, 3, dilation=2))
        self.model7 = nn.Sequential(*_conv_stack(512, 512, 3))
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            *_conv_stack(256, 256, 2, norm=False),
            nn.Conv2d(256, q, 1),
        )
        # Probabilities -> ab / 110; its weights are the bin centres, not learned.
        self.model_out = nn.Conv2d(q, 2, 1, bias=False)
        self.model_out.weight.requires_grad_(False)
        if centres is not None:
            c = torch.as_tensor(np.asarray(centres, dtype=np.float32))
            if tuple(c.shape) != (q, 2):
                raise ValueError(f"ECCV16 needs ({q}, 2) bin centres, got {tuple(c.shape)}")
            with torch.no_grad():
                self.model_out.weight.copy_((c / AB_NORM).T[:, :, None, None])
        self._sync_centres()

    def _sync_centres(self) -> None:
        """Set ``centres`` ``(313, 2)`` from ``model_out.weight`` ``(2, 313, 1, 1)``."""
        with torch.no_grad():
            w = self.model_out.weight
            self.centres = (w[:, :, 0, 0].T * AB_NORM).to(torch.float32).clone()

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self._sync_centres()
        return result

    def logits_from_l(self, L: torch.Tensor) -> torch.Tensor:
        """Raw conv8 output ``(B, 313, h, w)``, still carrying the 2.606 factor."""
        H, W = L.shape[-2:]
        x = _pad_to_multiple(self._normalise_l(L), self._multiple)
        for block in (
            self.model1,
            self.model2,
            self.model3,
            self.model4,
            self.model5,
            self.model6,
            self.model7,
        ):
            x = block(x)
        return self._crop(self.model8(x), H, W)

    def official_ab(self, L: torch.Tensor) -> torch.Tensor:
        """The release's own point estimate at 1/4 resolution: ab ``(B, 2, h, w)``.

        ``110 * model_out(softmax(conv8))``: the annealed mean at T = 1 / 2.606,
        before the release's x4 bilinear upsampling.
        """
        return self.model_out(torch.softmax(self.logits_from_l(L), dim=1)) * AB_NORM


class SIGGRAPH17Net(_ZhangModel):
    """Zhang et al. 2017 (local hints network).

    :meth:`forward` (the marginal-model interface) takes L only and runs with no
    hints. :meth:`logits` and :meth:`regress_ab` also take ab hints
    ``(B, 2, H, W)`` in Lab units and a mask ``(B, 1, H, W)`` (1 where a hint is given).
    """

    name = "siggraph17"
    num_classes = SIGGRAPH17_GRID_SIDE**2  # 529
    # Added to the 0/1 hint mask before it enters the net. The release's demo code
    # (colorizers/siggraph17.py, the file that names this URL) feeds the mask as is
    # (0 = no hint), the convention of the Caffe-converted model; the authors'
    # PyTorch training code instead centres it (mask - 0.5).
    mask_offset = 0.0

    def __init__(self, centres: np.ndarray | None = None) -> None:
        grid = siggraph17_grid()
        if centres is not None:
            c = np.asarray(centres, dtype=np.float32)
            if c.shape != grid.shape or not np.allclose(c, grid, atol=1e-3):
                raise ValueError(
                    "SIGGRAPH17's 529 classes are the fixed 23x23 ab grid; other centres don't fit"
                )
        super().__init__(grid)
        self.model1 = nn.Sequential(*_conv_stack(4, 64, 2))
        self.model2 = nn.Sequential(*_conv_stack(64, 128, 2))
        self.model3 = nn.Sequential(*_conv_stack(128, 256, 3))
        self.model4 = nn.Sequential(*_conv_stack(256, 512, 3))
        self.model5 = nn.Sequential(*_conv_stack(512, 512, 3, dilation=2))
        self.model6 = nn.Sequential(*_conv_stack(512, 512, 3, dilation=2))
        self.model7 = nn.Sequential(*_conv_stack(512, 512, 3))
        self.model8up = nn.Sequential(nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1))
        self.model3short8 = nn.Sequential(nn.Conv2d(256, 256, 3, padding=1))
        # A leading ReLU (index 0) so the convs sit at odd indices, as released.
        self.model8 = nn.Sequential(nn.ReLU(inplace=True), *_conv_stack(256, 256, 2))
        self.model9up = nn.Sequential(nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1))
        self.model2short9 = nn.Sequential(nn.Conv2d(128, 128, 3, padding=1))
        self.model9 = nn.Sequential(nn.ReLU(inplace=True), *_conv_stack(128, 128, 1))
        self.model10up = nn.Sequential(nn.ConvTranspose2d(128, 128, 4, stride=2, padding=1))
        self.model1short10 = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1))
        self.model10 = nn.Sequential(
            nn.ReLU(inplace=True), nn.Conv2d(128, 128, 3, padding=1), nn.LeakyReLU(negative_slope=0.2)
        )
        self.model_class = nn.Sequential(nn.Conv2d(256, self.num_classes, 1))
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, 1), nn.Tanh())

    def _inputs(self, L: torch.Tensor, hints: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor:
        """Normalised, padded net input ``(B, 4, H8, W8)``: L, ab hints / 110, mask."""
        if L.ndim != 4 or L.shape[1] != 1:
            raise ValueError(f"L must have shape (B, 1, H, W), got {tuple(L.shape)}")
        B, _, H, W = L.shape
        if hints is None:
            hints = L.new_zeros(B, 2, H, W)
        if mask is None:
            mask = L.new_zeros(B, 1, H, W)
        if hints.shape != (B, 2, H, W) or mask.shape != (B, 1, H, W):
            raise ValueError(
                f"hints must be (B, 2, H, W) and mask (B, 1, H, W) like L {tuple(L.shape)}; "
                f"got {tuple(hints.shape)} and {tuple(mask.shape)}"
            )
        l_in = _pad_to_multiple(self._normalise_l(L), self._multiple)
        pad = (0, l_in.shape[-1] - W, 0, l_in.shape[-2] - H)
        # Hints are sparse: pad them with "no hint", never with reflected colour.
        ab_in = F.pad(hints / AB_NORM, pad)
        mask_in = F.pad(mask + self.mask_offset, pad, value=self.mask_offset)
        return torch.cat([l_in, ab_in, mask_in], dim=1)

    def _trunk(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Net input -> (conv1_2 at 1/1, conv2_2 at 1/2, conv8_3 at 1/4)."""
        conv1 = self.model1(x)
        conv2 = self.model2(conv1[:, :, ::2, ::2])  # the release subsamples by striding
        conv3 = self.model3(conv2[:, :, ::2, ::2])
        x = self.model4(conv3[:, :, ::2, ::2])
        x = self.model7(self.model6(self.model5(x)))
        conv8 = self.model8(self.model8up(x) + self.model3short8(conv3))
        return conv1, conv2, conv8

    def logits(
        self, L: torch.Tensor, hints: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """L ``(B, 1, H, W)`` (+ hints, mask) -> class logits ``(B, 529, ceil(H/4), ceil(W/4))``."""
        H, W = L.shape[-2:]
        _, _, conv8 = self._trunk(self._inputs(L, hints, mask))
        return self._crop(self.model_class(conv8), H, W)

    def logits_from_l(self, L: torch.Tensor) -> torch.Tensor:
        return self.logits(L)

    def regress_ab(
        self, L: torch.Tensor, hints: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The regression head: ab ``(B, 2, H, W)`` in Lab units, full input resolution."""
        H, W = L.shape[-2:]
        conv1, conv2, conv8 = self._trunk(self._inputs(L, hints, mask))
        x = self.model9(self.model9up(conv8) + self.model2short9(conv2))
        x = self.model10(self.model10up(x) + self.model1short10(conv1))
        return self.model_out(x)[..., :H, :W] * AB_NORM


register_architecture(ECCV16Net.name, ECCV16Net)
register_architecture(SIGGRAPH17Net.name, SIGGRAPH17Net)
