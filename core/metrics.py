"""Image-quality, diversity and coherence metrics for colourisation (DESIGN.md section 5).

Conventions: images are sRGB ``(H, W, 3)``, either uint8 or float in [0, 1]
(floats are quantised to 8 bit first, because an 8-bit file is what a user
keeps); ab maps are channels-first ``(2, H, W)`` (or ``(N, 2, H, W)`` for
sets of samples), CIE Lab units. Everything here is numpy/scipy, no torch
and no Qt, so it is cheap to import and easy to test.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .color import rgb_to_lab

AUC_MAX_THRESHOLD = 150.0


# ------------------------------------------------------------- helpers ---


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """sRGB ``(..., 3)`` float in [0, 1] (or uint8) -> uint8, rounded to nearest."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return rgb
    return np.clip(np.rint(np.asarray(rgb, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, g = to_uint8(pred), to_uint8(gt)
    if p.shape != g.shape or p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"expected two (H, W, 3) images of equal shape, got {p.shape} and {g.shape}")
    return p, g


def rgb_to_ab(rgb: np.ndarray) -> np.ndarray:
    """sRGB ``(H, W, 3)`` (uint8 or float [0, 1]) -> ab ``(2, H, W)`` float32 of the 8-bit image."""
    lab = rgb_to_lab(to_uint8(rgb).astype(np.float32) / 255.0)
    return np.ascontiguousarray(np.moveaxis(lab[..., 1:], -1, 0))


def _check_ab(ab: np.ndarray, name: str = "ab") -> np.ndarray:
    ab = np.asarray(ab, dtype=np.float64)
    if ab.ndim != 3 or ab.shape[0] != 2:
        raise ValueError(f"{name} must have shape (2, H, W), got {ab.shape}")
    return ab


# ------------------------------------------------------ PSNR and SSIM ---


def psnr(pred: np.ndarray, gt: np.ndarray) -> float:
    """PSNR in dB of two sRGB images ``(H, W, 3)`` on the 8-bit scale (peak 255).

    MSE is over all pixels and channels; identical images give ``inf``.
    """
    p, g = _check_pair(pred, gt)
    mse = float(np.mean((p.astype(np.float64) - g.astype(np.float64)) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0**2 / mse)


def best_of_n_psnr(preds: np.ndarray, gt: np.ndarray) -> float:
    """Highest PSNR over a set of predictions ``(N, H, W, 3)`` against one GT ``(H, W, 3)``."""
    preds = np.asarray(preds)
    if preds.ndim != 4:
        raise ValueError(f"preds must have shape (N, H, W, 3), got {preds.shape}")
    return max(psnr(p, gt) for p in preds)


def gaussian_kernel(sigma: float = 1.5, truncate: float = 3.5) -> np.ndarray:
    """Normalised 1-D Gaussian taps; radius ``int(truncate * sigma + 0.5)`` (11 taps for 1.5)."""
    r = int(truncate * sigma + 0.5)
    x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _blur(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    # Separable Gaussian over the two spatial axes; 'reflect' (half-sample symmetric) borders.
    y = ndimage.correlate1d(x, k, axis=0, mode="reflect")
    return ndimage.correlate1d(y, k, axis=1, mode="reflect")


def ssim(pred: np.ndarray, gt: np.ndarray, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> float:
    """Mean SSIM (Wang et al. 2004) of two sRGB images ``(H, W, 3)`` on the 8-bit scale.

    Gaussian-weighted local statistics (sigma 1.5, 11 x 11 taps, population
    covariance), C1 = (k1 * 255)^2, C2 = (k2 * 255)^2, computed per channel;
    the SSIM map is averaged after cropping the filter radius at the borders
    (where the window leaves the image), then over the three channels. This is
    the definition ``skimage.metrics.structural_similarity(gaussian_weights=True,
    use_sample_covariance=False, data_range=255, channel_axis=-1)`` uses.
    """
    p, g = _check_pair(pred, gt)
    k = gaussian_kernel(sigma)
    r = (k.size - 1) // 2
    if min(p.shape[:2]) < k.size:
        raise ValueError(f"images must be at least {k.size} px on each side for SSIM")
    x = p.astype(np.float64)
    y = g.astype(np.float64)
    c1, c2 = (k1 * 255.0) ** 2, (k2 * 255.0) ** 2
    mx, my = _blur(x, k), _blur(y, k)
    vx = _blur(x * x, k) - mx * mx
    vy = _blur(y * y, k) - my * my
    cxy = _blur(x * y, k) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s[r:-r, r:-r].mean())


# ---------------------------------------------------------- ab error AuC ---


def ab_error_curve(
    pred_ab: np.ndarray, gt_ab: np.ndarray, max_threshold: float = AUC_MAX_THRESHOLD, step: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative ab-error curve: thresholds ``(T,)`` and fraction of pixels with error <= t ``(T,)``.

    Error is the per-pixel Euclidean distance in the ab plane between
    ``pred_ab`` and ``gt_ab`` (both ``(2, H, W)``).
    """
    p, g = _check_ab(pred_ab, "pred_ab"), _check_ab(gt_ab, "gt_ab")
    if p.shape != g.shape:
        raise ValueError(f"shape mismatch {p.shape} vs {g.shape}")
    err = np.sort(np.sqrt(((p - g) ** 2).sum(0)).ravel())
    t = np.arange(0.0, max_threshold + step / 2, step)
    frac = np.searchsorted(err, t, side="right") / err.size
    return t, frac


def ab_auc(pred_ab: np.ndarray, gt_ab: np.ndarray, max_threshold: float = AUC_MAX_THRESHOLD) -> float:
    """Area under the cumulative ab-error curve, thresholds 0..150 step 1, normalised to [0, 1].

    As in Zhang et al. 2016 (Table 1, "AuC"): trapezoidal area divided by the
    threshold range, so a perfect prediction scores 1 and a constant error of
    e (integer, 1 <= e <= 150) scores (150.5 - e) / 150.
    """
    t, frac = ab_error_curve(pred_ab, gt_ab, max_threshold)
    area = float(np.sum((frac[1:] + frac[:-1]) * np.diff(t)) / 2.0)
    return area / max_threshold


# -------------------------------------------------------- colourfulness ---


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M of an sRGB image ``(H, W, 3)`` on the 0..255 scale.

    rg = R - G, yb = (R + G) / 2 - B; M = sqrt(sd_rg² + sd_yb²) + 0.3 sqrt(mean_rg² + mean_yb²).
    A gray image scores 0; typical photos score 20..100.
    """
    x = to_uint8(rgb).astype(np.float64)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"rgb must have shape (H, W, 3), got {x.shape}")
    R, G, B = x[..., 0], x[..., 1], x[..., 2]
    rg = R - G
    yb = 0.5 * (R + G) - B
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def colourfulness_ratio(pred: np.ndarray, gt: np.ndarray) -> float:
    """colourfulness(pred) / colourfulness(gt); ``nan`` when the GT is gray (M = 0)."""
    cg = colourfulness(gt)
    return colourfulness(pred) / cg if cg > 0 else math.nan


# ------------------------------------------------ diversity and coherence ---


def mean_pairwise_ab_distance(samples_ab: np.ndarray) -> float:
    """Diversity of a set of ab maps ``(N, 2, H, W)``, N >= 2.

    The mean over all pairs i < j of the mean per-pixel Euclidean ab distance
    between sample i and sample j (Lab units). Identical samples give 0.
    """
    s = np.asarray(samples_ab, dtype=np.float32)
    if s.ndim != 4 or s.shape[1] != 2:
        raise ValueError(f"samples must have shape (N, 2, H, W), got {s.shape}")
    n = s.shape[0]
    if n < 2:
        raise ValueError("diversity needs at least two samples")
    total = 0.0
    for i in range(n - 1):
        d = np.sqrt(((s[i + 1 :] - s[i]) ** 2).sum(1))  # (n-1-i, H, W)
        total += float(d.mean(axis=(1, 2), dtype=np.float64).sum())
    return total / (n * (n - 1) / 2)


def constant_colour_regions(gt_ab: np.ndarray, cell: float = 10.0, min_size: int = 64) -> np.ndarray:
    """Regions of near-constant ground-truth colour: labels ``(H, W)`` int64, -1 = no region.

    GT ab ``(2, H, W)`` is quantised to a grid of ``cell`` Lab units
    (``floor(ab / cell)``); a region is a 4-connected component of pixels in
    the same cell, so inside it GT ab varies by less than ``cell`` per channel.
    Components smaller than ``min_size`` pixels (texture, edges) are dropped.
    Labels of the kept regions are 0..R-1.
    """
    ab = _check_ab(gt_ab, "gt_ab")
    H, W = ab.shape[1:]
    q = np.floor(ab / cell).astype(np.int64)
    code = (q[0] + 1000) * 4096 + (q[1] + 1000)  # one integer per (a, b) cell
    idx = np.arange(H * W).reshape(H, W)
    same_h = code[:, 1:] == code[:, :-1]
    same_v = code[1:, :] == code[:-1, :]
    rows = np.concatenate([idx[:, :-1][same_h], idx[:-1, :][same_v]])
    cols = np.concatenate([idx[:, 1:][same_h], idx[1:, :][same_v]])
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(H * W, H * W))
    _, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp)
    keep = sizes >= min_size
    remap = np.full(sizes.size, -1, dtype=np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    return remap[comp].reshape(H, W)


def region_ab_spread(pred_ab: np.ndarray, labels: np.ndarray) -> float:
    """Coherence: pixel-weighted mean over regions of the ab spread of ``pred_ab`` ``(2, H, W)``.

    The spread of a region is the RMS Euclidean distance of its predicted ab
    values from their mean (sqrt(var a + var b)), Lab units. ``labels``
    ``(H, W)`` come from :func:`constant_colour_regions`. Lower is more
    coherent; a prediction constant inside every region scores 0. Returns
    ``nan`` when there is no region.
    """
    ab = _check_ab(pred_ab, "pred_ab")
    lab = np.asarray(labels)
    if lab.shape != ab.shape[1:]:
        raise ValueError(f"labels {lab.shape} do not match ab {ab.shape}")
    m = lab >= 0
    if not m.any():
        return math.nan
    r = lab[m]
    n = np.bincount(r).astype(np.float64)
    var = np.zeros_like(n)
    for c in range(2):
        v = ab[c][m]
        s1 = np.bincount(r, weights=v)
        s2 = np.bincount(r, weights=v * v)
        var += np.maximum(s2 / n - (s1 / n) ** 2, 0.0)
    return float(np.sum(n * np.sqrt(var)) / n.sum())


def coherence(pred_ab: np.ndarray, gt_ab: np.ndarray, cell: float = 10.0, min_size: int = 64) -> float:
    """ab spread of ``pred_ab`` ``(2, H, W)`` inside near-constant regions of ``gt_ab`` ``(2, H, W)``.

    See :func:`constant_colour_regions` and :func:`region_ab_spread`.
    """
    return region_ab_spread(pred_ab, constant_colour_regions(gt_ab, cell, min_size))
