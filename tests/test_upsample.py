"""Edge-aware ab upsampling and the banded full-resolution compose."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from polychrome.core.color import lab_to_rgb
from polychrome.core.pipeline import compose_many, compose_rgb
from polychrome.core.upsample import upsample_ab, upsample_ab_bands, upsample_ab_bilinear

SIDE_A = (40.0, -10.0)  # ab left of the edge
SIDE_B = (-20.0, 30.0)  # ab right of the edge


def step_scene(H: int = 240, W: int = 360, factor: int = 8, edge: float = 173.3):
    """A vertical luminance step with matching colour, and ab seen at 1/factor (area-averaged, so blurry)."""
    left = np.arange(W) < edge
    L = np.where(left, 30.0, 70.0).astype(np.float32)[None].repeat(H, 0)
    truth = np.empty((2, H, W), np.float32)
    for c in range(2):
        truth[c] = np.where(left, SIDE_A[c], SIDE_B[c])[None]
    small = F.interpolate(torch.from_numpy(truth)[None], size=(H // factor, W // factor), mode="area")
    return L, truth, small[0].numpy(), left


def test_step_edge_much_sharper_than_bilinear() -> None:
    L, truth, small, left = step_scene()
    guided = upsample_ab(small, L)
    bilinear = upsample_ab_bilinear(small, L.shape)
    err_guided = np.abs(guided - truth).mean()
    err_bilinear = np.abs(bilinear - truth).mean()
    assert err_guided < 0.25 * err_bilinear, (err_guided, err_bilinear)
    # Beyond 3 px from the edge each side holds its own colour; bilinear is still mixing there.
    cols = np.arange(L.shape[1])
    near = (np.abs(cols - 173.3) > 3) & (np.abs(cols - 173.3) < 12)
    assert np.abs(guided[:, :, near] - truth[:, :, near]).max() < 5.0
    assert np.abs(bilinear[:, :, near] - truth[:, :, near]).max() > 10.0


def test_constant_ab_stays_constant() -> None:
    L = np.random.default_rng(0).uniform(0, 100, (50, 70)).astype(np.float32)
    ab = np.empty((2, 7, 9), np.float32)
    ab[0], ab[1] = 12.5, -33.0
    out = upsample_ab(ab, L)
    np.testing.assert_allclose(out[0], 12.5, atol=1e-4)
    np.testing.assert_allclose(out[1], -33.0, atol=1e-4)


def test_output_stays_within_input_range() -> None:
    rng = np.random.default_rng(1)
    L = rng.uniform(0, 100, (64, 48)).astype(np.float32)  # texture the low-res fit never saw
    ab = rng.uniform(-30, 30, (2, 8, 6)).astype(np.float32)
    out = upsample_ab(ab, L)
    for c in range(2):
        assert ab[c].min() - 1e-4 <= out[c].min() and out[c].max() <= ab[c].max() + 1e-4


@pytest.mark.parametrize(
    "small,full",
    [((7, 9), (97, 131)), ((1, 1), (5, 3)), ((1, 4), (10, 37)), ((3, 2), (3, 2)), ((16, 16), (12, 10))],
)
def test_shapes_and_dtypes(small: tuple[int, int], full: tuple[int, int]) -> None:
    rng = np.random.default_rng(2)
    ab = rng.uniform(-50, 50, (2, *small))  # float64 in
    L = rng.uniform(0, 100, full)
    out = upsample_ab(ab, L)
    assert out.shape == (2, *full) and out.dtype == np.float32
    assert np.isfinite(out).all()
    if small == full:
        np.testing.assert_array_equal(out, ab.astype(np.float32))


def test_bands_tile_the_image_and_do_not_change_the_result() -> None:
    rng = np.random.default_rng(3)
    L = rng.uniform(0, 100, (53, 41)).astype(np.float32)
    ab = rng.uniform(-40, 40, (2, 6, 5)).astype(np.float32)
    whole = upsample_ab(ab, L)
    rows_seen = []
    for rows, band in upsample_ab_bands(ab, L, band_pixels=41 * 4):  # 4 rows per band
        assert band.shape == (2, rows.stop - rows.start, 41)
        np.testing.assert_allclose(band, whole[:, rows], atol=1e-5)
        rows_seen.extend(range(rows.start, rows.stop))
    assert rows_seen == list(range(53))


@pytest.mark.parametrize(
    "ab_shape,L_shape",
    [((3, 4, 4), (8, 8)), ((4, 4), (8, 8)), ((2, 4, 4), (8, 8, 1)), ((2, 0, 4), (8, 8)), ((2, 4, 4), (0, 8))],
)
def test_bad_shapes_raise(ab_shape: tuple[int, ...], L_shape: tuple[int, ...]) -> None:
    ab, L = np.zeros(ab_shape, np.float32), np.zeros(L_shape, np.float32)
    with pytest.raises(ValueError, match="shape|empty"):
        upsample_ab(ab, L)
    with pytest.raises(ValueError, match="shape|empty"):
        upsample_ab_bands(ab, L)  # at the call, before any band is asked for


# ---------------------------------------------------------------- compose ---


def test_compose_matches_unbanded_reference() -> None:
    rng = np.random.default_rng(4)
    L = rng.uniform(0, 100, (37, 29)).astype(np.float32)
    ab = rng.uniform(-40, 40, (2, 5, 4)).astype(np.float32)
    lab = np.concatenate([L[..., None], np.moveaxis(upsample_ab(ab, L), 0, -1)], axis=-1)
    ref = lab_to_rgb(lab)
    out = compose_rgb(L, torch.from_numpy(ab)[None])  # (1, 2, h, w) tensor as the sampler gives it
    assert out.dtype == np.float32 and out.shape == (37, 29, 3)
    np.testing.assert_allclose(out, ref, atol=1e-6)
    u8 = compose_rgb(L, ab, out_dtype=np.uint8)
    np.testing.assert_array_equal(u8, np.floor(ref * 255 + 0.5).astype(np.uint8))
    u16 = compose_rgb(L, ab, out_dtype=np.uint16)
    assert u16.dtype == np.uint16 and np.abs(u16 - ref * 65535).max() <= 0.51


def test_compose_rejects_batches_and_odd_dtypes() -> None:
    L = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="batch"):
        compose_rgb(L, np.zeros((2, 2, 4, 4), np.float32))
    with pytest.raises(ValueError, match="out_dtype"):
        compose_rgb(L, np.zeros((2, 4, 4), np.float32), out_dtype=np.int32)


def test_compose_memory_is_bounded_by_the_output() -> None:
    # 3 MP: an unbanded compose would hold the full Lab image plus several
    # full-size temporaries (hundreds of MB); banded, it needs the output and a few bands.
    H, W = 1500, 2000
    L = np.random.default_rng(5).uniform(0, 100, (H, W)).astype(np.float32)
    ab = np.random.default_rng(6).uniform(-40, 40, (2, 48, 64)).astype(np.float32)
    tracemalloc.start()
    try:
        out = compose_rgb(L, ab, out_dtype=np.uint8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (H, W, 3)
    assert peak < out.nbytes + 100 * 2**20, peak / 2**20


def test_compose_many_and_overlapped_bands_give_the_serial_result() -> None:
    rng = np.random.default_rng(7)
    L = rng.uniform(0, 100, (1100, 1000)).astype(np.float32)  # more than two bands
    abs_ = [rng.uniform(-40, 40, (2, 28, 25)).astype(np.float32) for _ in range(3)]
    full = upsample_ab(abs_[0], L)
    serial = lab_to_rgb(np.dstack([L, full[0], full[1]]))
    # Same arithmetic; a vectorised kernel may round the last digit differently at a band's tail.
    np.testing.assert_allclose(compose_rgb(L, abs_[0]), serial, rtol=0, atol=1e-5)
    small, parts = L[:200, :300], [a[:, :6, :8] for a in abs_]
    many = compose_many(small, parts, np.uint8)
    for m, a in zip(many, parts, strict=True):
        assert np.abs(m.astype(int) - compose_rgb(small, a, np.uint8)).max() <= 1


def test_a_given_guide_is_used_and_checked() -> None:
    rng = np.random.default_rng(3)
    L = rng.uniform(0, 100, (40, 60)).astype(np.float32)
    ab = rng.uniform(-30, 30, (2, 10, 15)).astype(np.float32)
    flat = np.full((10, 15), 50.0, np.float32)  # a guide without edges: bilinear colour
    with_flat = np.concatenate([b for _, b in upsample_ab_bands(ab, L, guide=flat)], axis=1)
    default = upsample_ab(ab, L)
    assert not np.allclose(with_flat, default, atol=1e-2)
    for wrong in ((9, 15), (15, 10), (150,)):
        with pytest.raises(ValueError, match="guide"):
            upsample_ab_bands(ab, L, guide=np.zeros(wrong, np.float32))
