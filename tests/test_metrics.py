"""Metrics: known values, and SSIM against scikit-image's reference implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from polychrome.core import metrics as M


def _photo_like(rng: np.random.Generator, h: int = 48, w: int = 64) -> np.ndarray:
    """Smooth colour gradients plus noise, uint8 ``(h, w, 3)``."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([x, y, 1 - x * y], -1) * 200 + 20
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def test_psnr_identical_is_inf_and_constant_offset_is_known(rng):
    a = _photo_like(rng)
    assert M.psnr(a, a) == math.inf
    a = np.clip(a, 0, 250)  # keep +5 in range so the offset is exact everywhere
    b = a.astype(np.int16) + 5
    assert M.psnr(a, b.astype(np.uint8)) == pytest.approx(20 * math.log10(255 / 5), abs=1e-9)


def test_psnr_quantises_floats_to_8_bit():
    a = np.full((4, 4, 3), 0.5, np.float32)
    assert M.psnr(a, a + 0.0001) == math.inf  # the same 8-bit image
    assert M.best_of_n_psnr(np.stack([a * 0, a]), a) == math.inf


@pytest.mark.parametrize("noise", [3.0, 25.0])
def test_ssim_matches_skimage(rng, noise):
    a = _photo_like(rng, 40, 57)
    b = np.clip(a + rng.normal(0, noise, a.shape), 0, 255).astype(np.uint8)
    ref = structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1
    )
    assert M.ssim(a, b) == pytest.approx(ref, abs=1e-6)
    assert M.ssim(a, a) == pytest.approx(1.0)


def test_auc_known_values():
    gt = np.zeros((2, 8, 8), np.float32)
    assert M.ab_auc(gt, gt) == pytest.approx(1.0)
    pred = gt.copy()
    pred[0] += 6.0
    pred[1] += 8.0  # error exactly 10 everywhere
    assert M.ab_auc(pred, gt) == pytest.approx((150.5 - 10) / 150)
    far = gt + 200.0
    assert M.ab_auc(far, gt) == 0.0
    half = gt.copy()
    half[:, :4] = far[:, :4]  # half the pixels perfect, half hopeless
    assert M.ab_auc(half, gt) == pytest.approx(0.5)


def test_colourfulness_gray_is_zero_and_ratio(rng):
    gray = np.repeat(rng.integers(0, 256, (16, 16, 1)), 3, axis=-1).astype(np.uint8)
    assert M.colourfulness(gray) == pytest.approx(0.0)
    assert math.isnan(M.colourfulness_ratio(gray, gray))
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 200
    # rg = 200, yb = 100 everywhere: std 0, mean term 0.3 * hypot(200, 100).
    assert M.colourfulness(red) == pytest.approx(0.3 * math.hypot(200, 100))
    a = _photo_like(rng)
    assert M.colourfulness_ratio(a, a) == pytest.approx(1.0)


def test_diversity_known_values():
    s = np.zeros((3, 2, 5, 5), np.float32)
    s[1, 0] = 3.0
    s[1, 1] = 4.0  # |s1 - s0| = 5
    s[2, 0] = 6.0
    s[2, 1] = 8.0  # |s2 - s0| = 10, |s2 - s1| = 5
    assert M.mean_pairwise_ab_distance(s) == pytest.approx((5 + 10 + 5) / 3)
    assert M.mean_pairwise_ab_distance(np.zeros((4, 2, 3, 3))) == 0.0
    with pytest.raises(ValueError):
        M.mean_pairwise_ab_distance(s[:1])


def test_coherence_regions_and_spread(rng):
    gt = np.zeros((2, 20, 20), np.float32)
    gt[0, :, 10:] = 40.0  # two flat regions, a seam at x = 10
    labels = M.constant_colour_regions(gt, min_size=16)
    assert labels.max() == 1 and (labels >= 0).all()
    assert len(np.unique(labels[:, :10])) == 1 and labels[0, 0] != labels[0, 19]
    # Prediction constant per region (even wrong colours) is perfectly coherent.
    flat = np.zeros_like(gt)
    flat[1, :, 10:] = -30.0
    assert M.coherence(flat, gt, min_size=16) == pytest.approx(0.0, abs=1e-9)
    # A +-3 checkerboard in a and in b (zero mean per region): spread sqrt(9 + 9) exactly.
    checker = np.where(np.add.outer(np.arange(20), np.arange(20)) % 2 == 0, 3.0, -3.0)
    noisy = flat + checker
    assert M.coherence(noisy, gt, min_size=16) == pytest.approx(math.sqrt(18))
    # GT itself is coherent; tiny regions are dropped.
    assert M.coherence(gt, gt) == pytest.approx(0.0, abs=1e-9)
    speckle = rng.uniform(-100, 100, gt.shape)
    assert math.isnan(M.coherence(gt, speckle, min_size=16))


def test_rgb_to_ab_gray_is_near_zero():
    g = np.full((3, 3, 3), 128, np.uint8)
    assert np.abs(M.rgb_to_ab(g)).max() < 1e-2
