"""ab bins, soft encoding, rebalancing and the annealed mean, with known values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import color as skcolor

from polychrome.core.bins import (
    annealed_mean,
    gamut_bins,
    nearest_bin,
    rebalance_weights,
    smooth_over_ab,
    soft_encode,
)


def test_gamut_bin_count_and_extent() -> None:
    c = gamut_bins()
    # Every sRGB colour's nearest grid-10 centre: 261 cells, spanning exactly
    # the ab range of Zhang et al.'s 313-bin set (a in [-90, 100], b in [-110, 90]).
    assert c.shape == (261, 2) and c.dtype == np.float32
    assert (c[:, 0].min(), c[:, 0].max(), c[:, 1].min(), c[:, 1].max()) == (-90, 100, -110, 90)
    assert np.all(np.mod(c, 10) == 0)
    assert len(np.unique(c, axis=0)) == len(c)


def test_every_srgb_colour_has_its_nearest_centre_in_the_set(rng: np.random.Generator) -> None:
    rgb = rng.random((20000, 3))
    ab = skcolor.rgb2lab(rgb)[:, 1:]
    cells = {tuple(x) for x in (np.round(ab / 10) * 10).astype(int)}
    have = {tuple(x) for x in gamut_bins().astype(int)}
    assert cells <= have
    # and the set is tight: the neutral bin is in, a far out-of-gamut one is not
    assert (0, 0) in have and (-90, -110) not in have


def test_nearest_bin() -> None:
    c = gamut_bins()
    ab = torch.tensor([[[[0.0, 23.0]], [[0.0, -41.0]]]])  # (1, 2, 1, 2): (0,0) and (23,-41)
    idx = nearest_bin(ab, c)
    assert idx.shape == (1, 1, 2)
    np.testing.assert_array_equal(c[idx[0, 0, 0]], [0, 0])
    np.testing.assert_array_equal(c[idx[0, 0, 1]], [20, -40])


def test_soft_encode_known_values() -> None:
    c = gamut_bins()
    ab = torch.zeros(1, 2, 1, 1)  # exactly on the (0, 0) centre
    z = soft_encode(ab, c)[0, :, 0, 0]
    assert torch.isclose(z.sum(), torch.tensor(1.0))
    assert (z > 0).sum() == 5
    # centre weight vs. its four neighbours at distance 10: exp(0) : exp(-100 / 50)
    w0 = 1.0 / (1.0 + 4.0 * np.exp(-2.0))
    i0 = int(np.where((c == [0, 0]).all(1))[0][0])
    assert float(z[i0]) == pytest.approx(w0, rel=1e-5)
    assert float(z.max()) == pytest.approx(w0, rel=1e-5)


def test_rebalance_weights_known_values() -> None:
    p = np.array([0.7, 0.2, 0.1, 0.0])
    w = rebalance_weights(p, lam=0.5)
    raw = 1.0 / (0.5 * p + 0.5 / 4)
    np.testing.assert_allclose(w, raw / (p * raw).sum(), rtol=1e-6)
    assert (p * w).sum() == pytest.approx(1.0)
    assert w[3] > w[2] > w[1] > w[0]  # rarer colours weigh more
    with pytest.raises(ValueError):
        rebalance_weights(np.array([-1.0, 2.0]))


def test_smoothing_preserves_mass_and_spreads() -> None:
    c = gamut_bins()
    p = np.zeros(len(c))
    i0 = int(np.where((c == [0, 0]).all(1))[0][0])
    p[i0] = 1.0
    s = smooth_over_ab(p, c, sigma=5.0)
    assert s.sum() == pytest.approx(1.0, abs=1e-6)
    assert s[i0] < 1.0 and s.argmax() == i0
    nb = int(np.where((c == [10, 0]).all(1))[0][0])
    assert s[nb] == pytest.approx(s[i0] * np.exp(-2.0), rel=0.05)


def test_annealed_mean_limits() -> None:
    c = torch.tensor([[0.0, 0.0], [10.0, 0.0], [20.0, 20.0]])
    p = torch.tensor([0.5, 0.3, 0.2]).view(1, 3, 1, 1)
    logits = p.log()
    mean = annealed_mean(logits, c, T=1.0)[0, :, 0, 0]
    torch.testing.assert_close(mean, torch.tensor([0.5 * 0 + 0.3 * 10 + 0.2 * 20, 0.2 * 20]))
    mode = annealed_mean(logits, c, T=1e-3)[0, :, 0, 0]
    torch.testing.assert_close(mode, torch.tensor([0.0, 0.0]), atol=1e-4, rtol=0)
    q = p.pow(1 / 0.38)
    q = q / q.sum()
    expected = (q.view(3, 1) * c).sum(0)
    torch.testing.assert_close(annealed_mean(logits, c)[0, :, 0, 0], expected)
