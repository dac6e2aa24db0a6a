"""Geometry and colour of hints: brush footprints, the hue-and-saturation target, the palette.

A stroke's colour means "this hue and this saturation" (CIE saturation ``C*/L*``): at a
pixel of lightness ``L`` its target chroma is ``s * L`` along the stroke's hue, then
reduced (hue kept) into the sRGB gamut at that ``L`` with a small margin. A red
dress stays red in its folds instead of turning neon: dark pixels get less chroma,
as a dark red surface has.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .color import lab_to_linear_rgb, rgb_to_lab

MIN_RADIUS = 0.75  # working-res pixels: even a point hint covers the pixel it falls in
GAMUT_MARGIN = 0.96  # of the largest in-gamut chroma: composing at a slightly different L stays inside
SAT_L_FLOOR = 5.0  # L* under which saturation is measured as if at this L (no division blow-up)
# Chroma follows lightness as C* ∝ L*^SAT_EXPONENT along a stroke's reach: 1 is CIE saturation
# C*/L* (a surface in shadow), 0 would keep one chroma everywhere.
SAT_EXPONENT = 0.25
PALETTE_SIGMA = 15.0
PALETTE_FLOOR = 0.1  # bins far from every palette colour lose at most gamma * log(1 / 0.1)


def _smoothstep(t: torch.Tensor) -> torch.Tensor:
    return t * t * (3.0 - 2.0 * t)


def paint_mask(points: torch.Tensor, radius: float, hardness: float, size: tuple[int, int]) -> torch.Tensor:
    """Antialiased brush footprint of a polyline at working resolution.

    Args:
        points: ``(P, 2)`` polyline ``(x, y)`` in working-res pixel units (pixel ``j`` spans
            ``[j, j + 1)``, its centre is ``j + 0.5``).
        radius: brush radius in working-res pixels.
        hardness: 0 = the brush fades from the centre line, 1 = hard edge (1 px antialiasing).
        size: ``(h, w)``.
    Returns:
        ``(h, w)`` float32 in [0, 1] on the device of ``points``.
    """
    h, w = size
    dev = points.device
    r = max(float(radius), MIN_RADIUS)
    ramp = max(1.0, (1.0 - hardness) * r)
    out = torch.zeros(h, w, device=dev)
    # Only the bounding box of the stroke can be painted.
    lo = (points.amin(0) - r - 1.0).floor().long()
    hi = (points.amax(0) + r + 1.0).ceil().long()
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(w, int(hi[0])), min(h, int(hi[1]))
    if x0 >= x1 or y0 >= y1:
        return out
    ys = torch.arange(y0, y1, device=dev, dtype=torch.float32) + 0.5
    xs = torch.arange(x0, x1, device=dev, dtype=torch.float32) + 0.5
    pix = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)  # (n, 2) as (x, y)
    a = points[:-1] if len(points) > 1 else points
    b = points[1:] if len(points) > 1 else points
    d2 = torch.full((pix.shape[0],), torch.inf, device=dev)
    for s0 in range(0, a.shape[0], 64):  # segments in chunks: long strokes stay cheap in memory
        sa, sb = a[s0 : s0 + 64], b[s0 : s0 + 64]
        ab = sb - sa
        t = ((pix[:, None] - sa) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)
        nearest = sa + t.clamp(0.0, 1.0)[..., None] * ab
        d2 = torch.minimum(d2, (pix[:, None] - nearest).square().sum(-1).amin(1))
    m = _smoothstep(((r + 0.5 - d2.sqrt()) / ramp).clamp(0.0, 1.0))
    out[y0:y1, x0:x1] = m.reshape(y1 - y0, x1 - x0)
    return out


def gamut_scale(
    L: np.ndarray, a: np.ndarray, b: np.ndarray, iters: int = 14, upper: float = 1.0
) -> np.ndarray:
    """Largest ``s`` in [0, upper] with ``(L, s a, s b)`` inside the sRGB gamut (bisection, per element).

    All arrays have one shape; float32. Gray (s = 0) is always inside.
    """
    L = np.clip(np.asarray(L, np.float32), 0.0, 100.0)
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)

    def inside(s: np.ndarray) -> np.ndarray:
        rgb = lab_to_linear_rgb(np.stack([L, a * s, b * s], -1))
        return np.all((rgb >= -1e-4) & (rgb <= 1.0 + 1e-4), axis=-1)

    ok_full = inside(np.full_like(L, upper))
    lo, hi = np.zeros_like(L), np.full_like(L, upper)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        good = inside(mid)
        lo, hi = np.where(good, mid, lo), np.where(good, hi, mid)
    return np.where(ok_full, upper, lo).astype(np.float32)


def in_gamut_ab(L: np.ndarray, a: np.ndarray, b: np.ndarray, margin: float = GAMUT_MARGIN) -> np.ndarray:
    """``(2, ...)`` ab with the chroma of ``(a, b)`` reduced, hue kept, to ``margin`` of the
    largest in-gamut chroma at ``L`` (unchanged when already that far inside)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    s = np.minimum(1.0, gamut_scale(L, a, b, upper=1.0 / margin) * margin)
    return np.stack([a * s, b * s])


def saturation_ab(ab: tuple[float, float], L: float) -> tuple[float, float]:
    """ab at lightness ``L`` -> "saturation ab" ``ab / L`` (hue and CIE saturation ``C*/L*``)."""
    d = max(float(L), SAT_L_FLOOR) ** SAT_EXPONENT
    return float(ab[0]) / d, float(ab[1]) / d


def color_saturation(color: tuple[float, float, float]) -> tuple[float, float]:
    """Saturation ab ``(a/L, b/L)`` of an sRGB colour: the hue and saturation a stroke paints."""
    lab = rgb_to_lab(np.asarray(color, dtype=np.float32))
    return saturation_ab((float(lab[1]), float(lab[2])), float(lab[0]))


def relit_ab(sat: np.ndarray, L: np.ndarray, margin: float = GAMUT_MARGIN) -> np.ndarray:
    """Saturation ab ``(2, ...)`` re-lit at lightness ``L`` ``(...)``: ``sat * L``, then into the
    gamut at ``L`` -> ab ``(2, ...)`` float32."""
    d = np.maximum(np.asarray(L, np.float32), SAT_L_FLOOR) ** SAT_EXPONENT
    return in_gamut_ab(L, sat[0] * d, sat[1] * d, margin)


def target_ab(color: tuple[float, float, float], L: float) -> tuple[float, float]:
    """ab of an sRGB colour applied at lightness ``L``: its hue and saturation, chroma then
    reduced (hue kept) into the sRGB gamut at ``L``."""
    ab = relit_ab(np.asarray(color_saturation(color), np.float32)[:, None], np.array([L], np.float32))
    return float(ab[0, 0]), float(ab[1, 0])


def palette_log_weights(centres: torch.Tensor, palette: list[tuple[float, float, float]]) -> torch.Tensor:
    """``pi(k)`` ``(Q,)`` <= 0: log of a floored Gaussian affinity to the nearest palette colour."""
    ab = torch.as_tensor(rgb_to_lab(np.asarray(palette, dtype=np.float32))[:, 1:], device=centres.device)
    d2 = torch.cdist(centres.float(), ab).square()
    aff = torch.exp(-d2 / (2.0 * PALETTE_SIGMA**2)).amax(1)
    return torch.log(PALETTE_FLOOR + aff) - math.log(PALETTE_FLOOR + 1.0)
