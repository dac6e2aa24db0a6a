"""The interface every marginal model implements.

A marginal model maps L* ``(B, 1, H, W)`` in [0, 100] to logits
``(B, Q, h, w)`` over its own ab bin centres ``(Q, 2)``, where ``h, w`` is
about a quarter of ``H, W``. Models are fully convolutional: any size in,
aspect ratio kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..bins import DEFAULT_T, point_estimate, rebalance_weights


@dataclass(frozen=True)
class BestGuess:
    """How a model's single best guess is read from its marginals (chosen on dev, kept in its card).

    The marginals stay calibrated (the sampler and hints use them as they are); only the
    point estimate applies a decision rule: optionally a class-rebalancing correction
    ``log w_λ`` (Zhang et al.'s weights from the training prior, which favours the rarer,
    saturated colours a plain-CE model hedges against), then the annealed mean at ``temperature``,
    optionally with the distribution's expected chroma (``chroma="expected"``), times a chroma
    ``gain`` (:func:`~polychrome.core.bins.point_estimate`).
    """

    temperature: float = DEFAULT_T
    log_weights: torch.Tensor | None = None  # (Q,) added to the logits; None = no correction
    rebalance_lambda: float | None = None
    chroma: str = "mean"
    gain: float = 1.0

    @classmethod
    def from_card(cls, card: dict) -> BestGuess:
        rule = card.get("best_guess") or {}
        T = float(rule.get("temperature", DEFAULT_T))
        chroma = str(rule.get("chroma", "mean"))
        if chroma not in ("mean", "expected"):
            raise ValueError(f"model card: best_guess.chroma must be 'mean' or 'expected', got {chroma!r}")
        gain = float(rule.get("gain", 1.0))
        if not (np.isfinite(gain) and gain > 0):
            raise ValueError(f"model card: best_guess.gain must be a positive number, got {gain!r}")
        lam = rule.get("rebalance_lambda")
        prior = card.get("bin_prior")
        if lam is None or prior is None:
            return cls(T, chroma=chroma, gain=gain)
        w = rebalance_weights(np.asarray(prior, np.float64), float(lam))
        return cls(T, torch.log(torch.as_tensor(w, dtype=torch.float32)), float(lam), chroma, gain)

    def logits(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, Q, h, w)`` with the correction applied (the same tensor when there is none)."""
        if self.log_weights is None:
            return logits
        return logits + self.log_weights.to(logits)[:, None, None]

    def ab(self, logits: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        """Best-guess ab ``(B, 2, h, w)`` from logits ``(B, Q, h, w)``."""
        return point_estimate(self.logits(logits), centres, self.temperature, self.chroma, self.gain)


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
    best_guess: BestGuess = BestGuess()  # set from the model card by the registry
    input_size: int = 256
    stride: int = 4
    logit_scale: float = 1.0
    centres: torch.Tensor  # (Q, 2) bin centres, a buffer (declared for the type checker)

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
    best_guess: BestGuess = field(default_factory=BestGuess)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.logits.shape[-2]), int(self.logits.shape[-1])

    def to(self, device: torch.device | str) -> Marginals:
        return Marginals(self.logits.to(device), self.centres.to(device), self.best_guess)
