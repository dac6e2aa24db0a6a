"""Quantised ab colour bins (Zhang et al. 2016, section 3.1) and what uses them.

Bin centres lie on a grid of step 10 in the ab plane. A bin is kept when some
sRGB colour (at any L*) has it as its nearest grid centre, i.e. when its
10 x 10 cell meets the sRGB gamut's projection onto the ab plane. The set is
computed here, never loaded from an opaque array.

Every function takes the bin centres ``(Q, 2)`` explicitly, so a model may
bring its own bin set (the official Zhang models use theirs).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .color import rgb_to_lab

GRID_STEP = 10.0
DEFAULT_T = 0.38


def _gamut_ab_samples(surface_levels: int = 256, interior_levels: int = 32) -> np.ndarray:
    """ab of sRGB colours: every face of the RGB cube finely, the interior coarsely."""
    s = np.linspace(0.0, 1.0, surface_levels, dtype=np.float32)
    grid_u, grid_v = np.meshgrid(s, s, indexing="ij")
    u, v = grid_u.ravel(), grid_v.ravel()
    faces = []
    for axis in range(3):
        for value in (0.0, 1.0):
            cols = [u, v]
            cols.insert(axis, np.full_like(u, value))
            faces.append(np.stack(cols, axis=-1))
    c = np.linspace(0.0, 1.0, interior_levels, dtype=np.float32)
    cube = np.stack(np.meshgrid(c, c, c, indexing="ij"), axis=-1).reshape(-1, 3)
    rgb = np.concatenate(faces + [cube], axis=0)
    return rgb_to_lab(rgb)[:, 1:]


@lru_cache(maxsize=4)
def _gamut_bins_cached(step: float) -> np.ndarray:
    ab = _gamut_ab_samples()
    cells = np.unique(np.round(ab / step).astype(np.int64), axis=0)
    # Row-major by (a, b), the order Zhang et al. use for their centres.
    order = np.lexsort((cells[:, 1], cells[:, 0]))
    return (cells[order] * step).astype(np.float32)


def gamut_bins(step: float = GRID_STEP) -> np.ndarray:
    """In-gamut ab bin centres ``(Q, 2)`` float32 (Q = 261 for step 10)."""
    return _gamut_bins_cached(float(step)).copy()


def _as_centres(centres: np.ndarray | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    c = torch.as_tensor(centres, dtype=like.dtype, device=like.device)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"bin centres must have shape (Q, 2), got {tuple(c.shape)}")
    return c


def _check_ab(ab: torch.Tensor) -> None:
    if ab.ndim != 4 or ab.shape[1] != 2:
        raise ValueError(f"ab must have shape (B, 2, H, W), got {tuple(ab.shape)}")


def _sq_dist(ab: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``(B, 2, H, W)`` x ``(Q, 2)`` -> squared distances ``(B, H, W, Q)``."""
    x = ab.permute(0, 2, 3, 1)
    return ((x.unsqueeze(-2) - c) ** 2).sum(-1)


def nearest_bin(ab: torch.Tensor, centres: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Index of the nearest bin centre: ``(B, 2, H, W)`` -> ``(B, H, W)`` int64."""
    _check_ab(ab)
    return _sq_dist(ab, _as_centres(centres, ab)).argmin(-1)


def soft_encode(
    ab: torch.Tensor, centres: np.ndarray | torch.Tensor, k: int = 5, sigma: float = 5.0
) -> torch.Tensor:
    """Soft one-hot of ab values ``(B, 2, H, W)`` -> ``(B, Q, H, W)``.

    Each value spreads over its ``k`` nearest centres with Gaussian weights of
    std ``sigma``, normalised to sum to one.
    """
    _check_ab(ab)
    c = _as_centres(centres, ab)
    d2 = _sq_dist(ab, c)
    d2k, idx = d2.topk(k, dim=-1, largest=False)
    w = torch.softmax(-d2k / (2.0 * sigma**2), dim=-1)
    out = torch.zeros(*d2.shape, dtype=ab.dtype, device=ab.device)
    out.scatter_(-1, idx, w)
    return out.permute(0, 3, 1, 2).contiguous()


def smooth_over_ab(values: np.ndarray, centres: np.ndarray, sigma: float = 5.0) -> np.ndarray:
    """Gaussian smoothing of a per-bin quantity ``(Q,)`` over the ab plane, mass preserved."""
    c = np.asarray(centres, dtype=np.float64)
    d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    k = np.exp(-d2 / (2.0 * sigma**2))
    k /= k.sum(axis=0, keepdims=True)  # column-normalised: each bin's mass is redistributed
    out = k @ np.asarray(values, dtype=np.float64)
    return (out / out.sum()).astype(np.float32)


def rebalance_weights(prior: np.ndarray, lam: float = 0.5) -> np.ndarray:
    """Class-rebalancing weights ``(Q,)``: w ∝ ((1-λ) p + λ/Q)^-1 with Σ p w = 1."""
    p = np.asarray(prior, dtype=np.float64)
    if p.ndim != 1 or not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
        raise ValueError("prior must be a non-negative 1-D histogram with positive mass")
    p = p / p.sum()
    w = 1.0 / ((1.0 - lam) * p + lam / p.size)
    w /= (p * w).sum()
    return w.astype(np.float32)


def annealed_probs(logits: torch.Tensor, T: float = DEFAULT_T) -> torch.Tensor:
    """p^(1/T) renormalised, from logits ``(B, Q, h, w)`` -> ``(B, Q, h, w)``."""
    if T <= 0:
        raise ValueError("temperature must be positive")
    return torch.softmax(logits.float() / T, dim=1)


def expected_ab(probs: torch.Tensor, centres: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Expectation of bin centres: ``(B, Q, h, w)`` -> ab ``(B, 2, h, w)``."""
    c = _as_centres(centres, probs)
    if probs.ndim != 4 or probs.shape[1] != c.shape[0]:
        raise ValueError(f"probs must be (B, {c.shape[0]}, h, w), got {tuple(probs.shape)}")
    return torch.einsum("bqhw,qc->bchw", probs, c)


def annealed_mean(
    logits: torch.Tensor, centres: np.ndarray | torch.Tensor, T: float = DEFAULT_T
) -> torch.Tensor:
    """Zhang's point estimate: logits ``(B, Q, h, w)`` -> ab ``(B, 2, h, w)``."""
    return expected_ab(annealed_probs(logits, T), centres)


def point_estimate(
    logits: torch.Tensor,
    centres: np.ndarray | torch.Tensor,
    T: float = DEFAULT_T,
    chroma: str = "mean",
    gain: float = 1.0,
) -> torch.Tensor:
    """A best guess from logits ``(B, Q, h, w)`` -> ab ``(B, 2, h, w)``.

    ``chroma="mean"``: the annealed mean. ``"expected"``: its hue with the *expected* chroma
    ``E[|c|]`` of the same distribution: averaging over competing hues shrinks the mean toward
    gray (a sepia hedge), while ``E[|c|]`` is how colourful the marginals say the pixel is.
    ``gain``: a chroma gain on the result (ab scaled, hue kept). Under the marginals, moving a
    pixel's mean by ``d`` costs ``|d|²`` of expected squared error wherever it is; colourfulness
    is mostly the spread of ab, which grows fastest per unit cost when each pixel moves along
    its own ab, so a uniform gain is a cheap way to undo a plain-CE model's hedge toward gray.
    """
    if not gain > 0:
        raise ValueError(f"gain must be positive, got {gain!r}")
    probs = annealed_probs(logits, T)
    ab = expected_ab(probs, centres)
    if chroma == "expected":
        c = _as_centres(centres, probs)
        expected = torch.einsum("bqhw,q->bhw", probs, c.norm(dim=1))[:, None]
        mean_chroma = ab.norm(dim=1, keepdim=True)
        ab = ab * (expected / mean_chroma.clamp_min(1e-3)).where(mean_chroma > 1e-3, 1.0)
    elif chroma != "mean":
        raise ValueError(f"chroma must be 'mean' or 'expected', got {chroma!r}")
    return ab if gain == 1.0 else ab * gain


def ab_histogram(ab: torch.Tensor, centres: np.ndarray | torch.Tensor) -> np.ndarray:
    """Counts of nearest bins over a batch of ab maps ``(B, 2, H, W)`` -> ``(Q,)`` float64."""
    idx = nearest_bin(ab, centres)
    q = int(torch.as_tensor(centres).shape[0])
    return torch.bincount(idx.flatten(), minlength=q).double().cpu().numpy()
