"""Colour conversions agree with scikit-image to 1e-3 (numpy and torch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import color as skcolor

from polychrome.core.color import lab_to_rgb, lab_to_rgb_torch, rgb_to_lab, rgb_to_lab_torch


@pytest.fixture
def rgb(rng: np.random.Generator) -> np.ndarray:
    x = rng.random((17, 23, 3), dtype=np.float32)
    # include the cube's corners and grays, where the piecewise curves switch
    x[0, :8] = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=np.float32)
    x[1, :5] = np.linspace(0, 0.05, 5, dtype=np.float32)[:, None]
    return x


def test_rgb_to_lab_matches_skimage(rgb: np.ndarray) -> None:
    ours = rgb_to_lab(rgb)
    assert ours.dtype == np.float32 and ours.shape == rgb.shape
    np.testing.assert_allclose(ours, skcolor.rgb2lab(rgb), atol=1e-3)


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB")
@pytest.mark.parametrize("shape", [(500,), (40, 500), (3, 7, 1000)])  # small arrays and OpenCV's path
def test_lab_to_rgb_matches_skimage(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    lab = np.stack(
        [rng.uniform(0, 100, shape), rng.uniform(-100, 100, shape), rng.uniform(-100, 100, shape)], -1
    ).astype(np.float32)
    lab.reshape(-1, 3)[:4] = [[0, 0, 0], [100, 0, 0], [0.5, 0, 0], [8.0, 0, 0]]  # the curves' toes
    with np.errstate(all="ignore"):
        ref = skcolor.lab2rgb(lab.reshape(-1, 3).astype(np.float64)).reshape(lab.shape)
    ours = lab_to_rgb(lab)
    assert ours.dtype == np.float32 and ours.shape == lab.shape
    np.testing.assert_allclose(ours, ref, atol=1e-3)
    # A strided view converts the same as its copy.
    np.testing.assert_allclose(lab_to_rgb(lab[..., ::-1][..., ::-1]), ours, atol=1e-6)


def test_torch_matches_numpy_batched(rgb: np.ndarray) -> None:
    t = torch.from_numpy(np.stack([rgb, rgb[::-1].copy()])).permute(0, 3, 1, 2)
    lab_t = rgb_to_lab_torch(t)
    np.testing.assert_allclose(lab_t[1].permute(1, 2, 0).numpy(), skcolor.rgb2lab(rgb[::-1]), atol=1e-3)
    back = lab_to_rgb_torch(lab_t)
    np.testing.assert_allclose(back.numpy(), t.numpy(), atol=1e-3)


def test_round_trip_numpy(rgb: np.ndarray) -> None:
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-3)


def test_shape_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        rgb_to_lab(np.zeros((4, 4, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        rgb_to_lab_torch(torch.zeros(3, 4, 4))
