"""The interface every marginal model implements.

A marginal model maps L* ``(B, 1, H, W)`` in [0, 100] to logits
``(B, Q, h, w)`` over its own ab bin centres ``(Q, 2)``, where ``h, w`` is
about a quarter of ``H, W``. Models are fully convolutional: any size in,
aspect ratio kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


class MarginalModel(nn.Module):
    """Base class: subclasses implement :meth:`logits_from_l`.

    Attributes:
        name: registry name, e.g. ``"polychrome-small"``.
        input_size: preferred short side (pixels) of the L fed to the network.
        stride: ratio between input and output resolution (4 for all shipped models).
        logit_scale: factor the model's raw outputs already carry; logits are divided
            by it so that temperature ``T`` means the same for every model.
    """

    name: str = "marginal-model"
    input_size: int = 256
    stride: int = 4
    logit_scale: float = 1.0

    def __init__(self, centres: np.ndarray) -> None:
        super().__init__()
        c = torch.as_tensor(np.asarray(centres, dtype=np.float32))
        if c.ndim != 2 or c.shape[1] != 2:
            raise ValueError(f"bin centres must have shape (Q, 2), got {tuple(c.shape)}")
        # Not persistent: the centres are part of the architecture, not learned.
        self.register_buffer("centres", c, persistent=False)

    @property
    def num_bins(self) -> int:
        return int(self.centres.shape[0])

    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return self.centres.device

    def logits_from_l(self, L: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        """L ``(B, 1, H, W)`` in [0, 100] -> logits ``(B, Q, h, w)``."""
        if L.ndim != 4 or L.shape[1] != 1:
            raise ValueError(f"L must have shape (B, 1, H, W), got {tuple(L.shape)}")
        out = self.logits_from_l(L)
        if self.logit_scale != 1.0:
            out = out / self.logit_scale
        return out


@dataclass
class Marginals:
    """Network output for one image, cached while the user edits.

    logits: ``(1, Q, h, w)`` float32 on the model's device.
    centres: ``(Q, 2)`` float32, same device.
    """

    logits: torch.Tensor
    centres: torch.Tensor

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.logits.shape[-2]), int(self.logits.shape[-1])

    def to(self, device: torch.device | str) -> Marginals:
        return Marginals(self.logits.to(device), self.centres.to(device))
