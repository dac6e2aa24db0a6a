"""Levin et al. 2004 baseline: colour spreads within a region and stops at luminance edges."""

from __future__ import annotations

import numpy as np
import pytest

from polychrome.core import levin

RED = (45.0, 30.0)
BLUE = (5.0, -45.0)


def _two_regions(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """L ``(h, w)``: dark left half, bright right half, a little noise."""
    L = np.full((h, w), 30.0, np.float32)
    L[:, w // 2 :] = 75.0
    return L + rng.normal(0, 0.3, L.shape).astype(np.float32)


def _hints(h: int, w: int, pts: list[tuple[int, int, tuple[float, float]]]) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((h, w), bool)
    ab = np.zeros((2, h, w), np.float32)
    for y, x, c in pts:
        mask[y, x] = True
        ab[:, y, x] = c
    return mask, ab


def test_two_regions_take_their_hint_colour_and_respect_the_edge(rng):
    h, w = 40, 60
    L = _two_regions(h, w, rng)
    mask, hab = _hints(h, w, [(5, 5, RED), (34, 54, BLUE)])
    ab = levin.solve(L, mask, hab)
    assert ab.shape == (2, h, w) and ab.dtype == np.float32
    # A one-pixel hint holds its region against a little leakage across the edge
    # (weights there are ~1e-3, not 0), so a few Lab units of tolerance.
    left, right = ab[:, :, : w // 2], ab[:, :, w // 2 :]
    np.testing.assert_allclose(left.reshape(2, -1).mean(1), RED, atol=2.5)
    np.testing.assert_allclose(right.reshape(2, -1).mean(1), BLUE, atol=2.5)
    # Right at the edge, on both sides, each pixel still has its own region's colour.
    for col, own in ((w // 2 - 1, RED), (w // 2, BLUE)):
        dist = np.linalg.norm(ab[:, :, col] - np.array(own)[:, None], axis=0)
        assert dist.max() < 4.0
    # Hints are kept exactly.
    np.testing.assert_allclose(ab[:, 5, 5], RED, atol=1e-4)


def test_no_hints_gives_gray_and_flat_image_spreads_one_hint(rng):
    L = _two_regions(20, 30, rng)
    none = levin.solve(L, np.zeros((20, 30), bool), np.zeros((2, 20, 30), np.float32))
    assert not none.any()
    flat = np.full((20, 30), 50.0, np.float32)
    mask, hab = _hints(20, 30, [(10, 15, RED)])
    out = levin.solve(flat, mask, hab)
    np.testing.assert_allclose(out.reshape(2, -1), np.repeat(np.array(RED)[:, None], 600, 1), atol=1e-3)


def test_working_resolution_matches_full_solve(rng):
    h, w = 120, 90
    L = _two_regions(h, w, rng)
    mask = np.zeros((h, w), bool)
    hab = np.zeros((2, h, w), np.float32)
    mask[10:16, 10:16] = True
    hab[:, 10:16, 10:16] = np.array(RED, np.float32)[:, None, None]
    mask[100:106, 70:76] = True
    hab[:, 100:106, 70:76] = np.array(BLUE, np.float32)[:, None, None]
    ab = levin.colorize(L, mask, hab, work_short_side=45)
    assert ab.shape == (2, h, w)
    np.testing.assert_allclose(ab[:, :, :40].reshape(2, -1).mean(1), RED, atol=1.5)
    np.testing.assert_allclose(ab[:, :, 50:].reshape(2, -1).mean(1), BLUE, atol=1.5)


def test_shape_errors():
    with pytest.raises(ValueError):
        levin.solve(np.zeros((4, 4)), np.zeros((4, 5), bool), np.zeros((2, 4, 4)))
