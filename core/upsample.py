"""Edge-aware upsampling of low-resolution ab under the guidance of full-resolution L.

The network predicts colour at a fraction of the photograph's resolution. Plain
bilinear upsampling would smear colour across sharp luminance edges (a red coat
bleeding into a white wall). The fast guided filter (He & Sun 2015,
arXiv:1505.00996) fixes that cheaply: at low resolution, fit in every window a
local linear model ``ab ≈ A · L + B`` against a downsampled L, smooth the
coefficients, upsample *them* bilinearly, and apply them to the full-resolution L.
Where colour changes together with luminance, the full-res edge of L then
carries the colour edge.

Memory stays bounded: the coefficient maps are low resolution, and the
full-resolution output is produced in row bands, so a 24 MP image never needs
more than a few full-size float planes at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import uniform_filter

from .resize import resize_l_np

DEFAULT_RADIUS = 2  # box radius in low-res pixels: the window must span a blurred colour edge
DEFAULT_EPS = 9.0  # regulariser in L*² units: luminance steps well below ~3 L* carry no colour edge
# Full-res pixels per band: compose holds ~120 bytes of temporaries per pixel, for up to three
# bands at once; a 1280 px preview is four bands, so both cores convert it.
BAND_PIXELS = 1 << 18


def _check_inputs(ab: np.ndarray, L_full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ab = np.asarray(ab)
    L_full = np.asarray(L_full)
    if ab.ndim != 3 or ab.shape[0] != 2:
        raise ValueError(f"ab must have shape (2, h, w), got {ab.shape}")
    if L_full.ndim != 2:
        raise ValueError(f"L_full must have shape (H, W), got {L_full.shape}")
    if min(ab.shape[1:]) < 1 or min(L_full.shape) < 1:
        raise ValueError(f"ab {ab.shape} and L_full {L_full.shape} must not be empty")
    return ab.astype(np.float32, copy=False), L_full.astype(np.float32, copy=False)


def _bilinear_taps(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices ``i0, i1`` and weights ``w`` (each ``(n_out,)``) for half-pixel-centred resampling.

    Same convention as ``F.interpolate(..., align_corners=False)``: output pixel
    centres map to ``(i + 0.5) * n_in / n_out - 0.5``, clamped at the borders.
    """
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    i0 = np.floor(src).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0).astype(np.float32)


def _downsample_guide(L_full: np.ndarray, h: int, w: int) -> np.ndarray:
    """Full-res L ``(H, W)`` -> ``(h, w)`` float64, antialiased as the network's own input was."""
    return resize_l_np(L_full, (h, w)).astype(np.float64)  # no torch: compose runs on worker threads


def _guided_coefficients(ab: np.ndarray, L_small: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Smoothed local linear coefficients ``(4, h, w)`` float32: ``A_a, A_b, B_a, B_b``.

    Statistics are float64: ``mean(I²) - mean(I)²`` loses digits in float32
    when L* is ~100 and its local variance ~1. At low resolution this is cheap.
    """
    size = 2 * radius + 1

    def box(x: np.ndarray) -> np.ndarray:
        return uniform_filter(x, size=size, mode="reflect")

    I = L_small
    mean_I = box(I)
    var_I = np.maximum(box(I * I) - mean_I * mean_I, 0.0)
    coef = np.empty((4, *I.shape), dtype=np.float32)
    for c in range(2):
        p = ab[c].astype(np.float64)
        mean_p = box(p)
        a = (box(I * p) - mean_I * mean_p) / (var_I + eps)
        b = mean_p - a * mean_I
        coef[c] = box(a)
        coef[2 + c] = box(b)
    return coef


def upsample_ab_bands(
    ab: np.ndarray,
    L_full: np.ndarray,
    *,
    radius: int = DEFAULT_RADIUS,
    eps: float = DEFAULT_EPS,
    band_pixels: int = BAND_PIXELS,
    guide: np.ndarray | None = None,
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(rows, ab_band)`` with ``ab_band`` ``(2, len(rows), W)`` float32, top to bottom.

    The bands tile the full-resolution image; see :func:`upsample_ab` for the
    method. Consumers that only need a per-band product (sRGB, export) never hold
    the full-resolution ab. ``guide``: L* at ab's resolution ``(h, w)``, when the caller has
    it (the working-resolution L the ab belongs to); default: ``L_full`` resized.
    """
    # Validate now, not at the first next(): a bad call should fail where it is made.
    ab, L_full = _check_inputs(ab, L_full)
    if radius < 0 or eps <= 0:
        raise ValueError(f"radius must be >= 0 and eps > 0, got radius={radius}, eps={eps}")
    if guide is not None:
        guide = np.asarray(guide, dtype=np.float64)
        if guide.shape != ab.shape[1:]:
            raise ValueError(f"guide must have shape {ab.shape[1:]}, got {guide.shape}")
    return _bands(ab, L_full, radius, eps, band_pixels, guide)


def _bands(
    ab: np.ndarray, L_full: np.ndarray, radius: int, eps: float, band_pixels: int, guide: np.ndarray | None
) -> Iterator[tuple[slice, np.ndarray]]:
    _, h, w = ab.shape
    H, W = L_full.shape
    rows_per_band = max(1, band_pixels // W)
    if (h, w) == (H, W):
        # Nothing to upsample: the colour is already at the guide's resolution.
        for r0 in range(0, H, rows_per_band):
            rows = slice(r0, min(H, r0 + rows_per_band))
            yield rows, ab[:, rows].copy()
        return

    small = _downsample_guide(L_full, h, w) if guide is None else guide
    coef = _guided_coefficients(ab, small, radius, eps)
    # The linear model may overshoot where full-res L has detail the low-res fit
    # never saw; never produce a colour outside the range the input asked for.
    lo = ab.reshape(2, -1).min(axis=1)[:, None, None]
    hi = ab.reshape(2, -1).max(axis=1)[:, None, None]
    y0, y1, wy = _bilinear_taps(H, h)
    for r0 in range(0, H, rows_per_band):
        rows = slice(r0, min(H, r0 + rows_per_band))
        n = rows.stop - rows.start
        # Rows first, at low-res width (cheap), then each coefficient plane to full width with
        # OpenCV's bilinear resize: the same half-pixel centres and border clamping as
        # _bilinear_taps, several times faster than numpy gathers at full width.
        c0 = coef[:, y0[rows]]
        c_rows = c0 + (coef[:, y1[rows]] - c0) * wy[rows, None]  # (4, n, w), planes contiguous
        band = np.empty((2, n, W), np.float32)
        for ch in range(2):
            slope = cv2.resize(c_rows[ch], (W, n), interpolation=cv2.INTER_LINEAR).reshape(n, W)
            offset = cv2.resize(c_rows[2 + ch], (W, n), interpolation=cv2.INTER_LINEAR).reshape(n, W)
            np.multiply(slope, L_full[rows], out=band[ch])
            band[ch] += offset
        np.clip(band, lo, hi, out=band)
        yield rows, band


def upsample_ab(
    ab: np.ndarray,
    L_full: np.ndarray,
    *,
    radius: int = DEFAULT_RADIUS,
    eps: float = DEFAULT_EPS,
) -> np.ndarray:
    """Low-res ab ``(2, h, w)`` + full-res L ``(H, W)`` -> full-res ab ``(2, H, W)`` float32.

    Fast guided filter with L as the guide: colour edges snap to luminance
    edges, flat colour stays flat, and colour never leaves the input's range.
    Any sizes work, including non-integer ratios and ``h = w = 1``; ab already
    at ``(H, W)`` is returned unchanged (as a float32 copy).

    Raises:
        ValueError: if ab is not ``(2, h, w)`` or L is not ``(H, W)``.
    """
    ab, L_full = _check_inputs(ab, L_full)
    out = np.empty((2, *L_full.shape), dtype=np.float32)
    for rows, band in upsample_ab_bands(ab, L_full, radius=radius, eps=eps):
        out[:, rows] = band
    return out


def upsample_ab_bilinear(ab: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Plain bilinear ab ``(2, h, w)`` -> ``(2, H, W)`` float32 for ``size = (H, W)``: the baseline."""
    ab = np.asarray(ab, dtype=np.float32)
    if ab.ndim != 3 or ab.shape[0] != 2:
        raise ValueError(f"ab must have shape (2, h, w), got {ab.shape}")
    t = torch.from_numpy(np.ascontiguousarray(ab))[None]
    with torch.inference_mode():
        return F.interpolate(t, size=size, mode="bilinear", align_corners=False)[0].numpy()
