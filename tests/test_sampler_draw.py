"""Smooth Gumbel-max draws: exact per-pixel marginals, spatial coherence, reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from polychrome.core.bins import gamut_bins
from polychrome.core.sampler import independent_samples
from polychrome.core.sampler.confidence import ab_confidence, bin_confidence, neighbour_table
from polychrome.core.sampler.draw import candidate_seeds, draw_bins, smooth_gumbel_noise

CENTRES = torch.from_numpy(gamut_bins())
Q = CENTRES.shape[0]


def random_logits(h: int, w: int, seed: int, scale: float = 2.0) -> torch.Tensor:
    """Logits ``(1, Q, h, w)`` with a few dozen plausible bins per pixel, the rest near zero mass."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, Q, h, w, generator=g) * scale


def tempered(logits: torch.Tensor, T: float) -> torch.Tensor:
    return torch.softmax(logits[0].double() / T, dim=0)  # (Q, h, w)


def test_noise_has_exact_gumbel_marginals():
    g = smooth_gumbel_noise(candidate_seeds(3, 200), 2, 12, 16, correlation=5.0)
    assert g.shape == (200, 2, 12, 16)
    # Pixels at all grid phases (on and between coarse nodes) must be Gumbel(0, 1).
    for y, x in [(0, 0), (5, 7), (11, 15), (3, 10)]:
        v = g[:, :, y, x].flatten().numpy()
        assert stats.kstest(v, stats.gumbel_r.cdf).pvalue > 1e-3
    v = g.flatten().numpy()
    assert abs(v.mean() - np.euler_gamma) < 0.05
    assert abs(v.var() - math.pi**2 / 6) < 0.15


def test_noise_is_smooth_and_independent_across_bins():
    g = smooth_gumbel_noise(candidate_seeds(0, 100), 2, 24, 24, correlation=6.0)
    a, b = g[..., :, :-1].flatten(), g[..., :, 1:].flatten()
    assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.8  # neighbours correlated
    assert abs(torch.corrcoef(torch.stack([g[:, 0].flatten(), g[:, 1].flatten()]))[0, 1]) < 0.05
    iid = smooth_gumbel_noise(candidate_seeds(0, 100), 1, 24, 24, correlation=1.0)
    a, b = iid[..., :, :-1].flatten(), iid[..., :, 1:].flatten()
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1]) < 0.05


@pytest.mark.parametrize("max_bins", [2, 16])
def test_draw_frequencies_match_tempered_marginals(max_bins):
    # max_bins = 2 sends most of the mass through the tail entrant: exactness must not depend on it.
    h, w, T, m = 6, 6, 0.7, 3000
    logits = random_logits(h, w, seed=1, scale=1.5)
    draws = draw_bins(logits, candidate_seeds(11, m), T, correlation=3.0, max_bins=max_bins)
    assert draws.bins.shape == (m, h, w) and draws.loglik.shape == (m,)
    p = tempered(logits, T)
    for y, x in [(0, 0), (2, 3), (5, 5)]:
        freq = torch.bincount(draws.bins[:, y, x], minlength=Q).double() / m
        # Chi-square over the 12 most probable bins plus "the rest".
        top = torch.argsort(p[:, y, x], descending=True)[:12]
        exp = torch.cat([p[top, y, x], (1 - p[top, y, x].sum()).view(1)]) * m
        obs = torch.cat([freq[top], (1 - freq[top].sum()).view(1)]) * m
        assert stats.chisquare(obs.numpy(), exp.numpy() * obs.sum().item() / exp.sum().item()).pvalue > 1e-4
        assert (freq - p[:, y, x]).abs().max() < 0.04


def test_neighbours_agree_far_more_than_independent_sampling():
    h, w = 24, 32
    # Five equally likely colours everywhere: independent pixels agree with probability 1/5.
    logits = torch.full((1, Q, h, w), -30.0)
    logits[:, [10, 60, 120, 180, 240]] = 0.0
    smooth = draw_bins(logits, candidate_seeds(0, 20), 1.0, correlation=6.0).bins
    agree = (smooth[..., :, 1:] == smooth[..., :, :-1]).float().mean()
    ind = independent_samples(logits, CENTRES, 20, T=1.0, seed=0)
    agree_ind = (ind[..., :, 1:] == ind[..., :, :-1]).all(1).float().mean()
    assert abs(agree_ind - 0.2) < 0.03
    assert agree > 0.75


def test_independent_samples_frequencies():
    logits = random_logits(2, 2, seed=5, scale=1.0)
    ab = independent_samples(logits, CENTRES, 4000, T=0.5, seed=3)
    assert ab.shape == (4000, 2, 2, 2)
    k = (ab[:, :, 0, 1, None] - CENTRES.T[None]).abs().sum(1).argmin(1)
    freq = torch.bincount(k, minlength=Q).double() / 4000
    assert (freq - tempered(logits, 0.5)[:, 0, 1]).abs().max() < 0.03
    assert torch.equal(ab, independent_samples(logits, CENTRES, 4000, T=0.5, seed=3))


def test_draw_is_reproducible_and_per_candidate():
    logits = random_logits(10, 14, seed=2)
    seeds = candidate_seeds(7, 5)
    a = draw_bins(logits, seeds, 0.7, 4.0)
    b = draw_bins(logits, seeds, 0.7, 4.0)
    assert torch.equal(a.bins, b.bins) and torch.equal(a.loglik, b.loglik)
    # A candidate does not depend on the others drawn with it.
    alone = draw_bins(logits, seeds[3:4], 0.7, 4.0)
    assert torch.equal(alone.bins[0], a.bins[3])
    assert not torch.equal(a.bins[0], a.bins[1])
    assert candidate_seeds(7, 5) == seeds and candidate_seeds(8, 5) != seeds
    assert candidate_seeds(7, 3, start=2) == seeds[2:5]


def test_loglik_is_mean_log_probability_of_drawn_bins():
    logits = random_logits(5, 7, seed=4)
    d = draw_bins(logits, candidate_seeds(0, 3), 0.7, 2.0)
    logp = torch.log_softmax(logits[0], dim=0)
    expect = logp.gather(0, d.bins[1][None])[0].mean()
    assert torch.allclose(d.loglik[1], expect, atol=1e-5)


def test_confidences_match_brute_force():
    logits = random_logits(3, 4, seed=6)
    probs = torch.softmax(logits[0].reshape(Q, -1), dim=0)  # (Q, hw)
    bins = torch.randint(0, Q, (2, 12), generator=torch.Generator().manual_seed(0))
    c = bin_confidence(probs.T.contiguous(), bins, neighbour_table(CENTRES, 15.0))
    d = torch.cdist(CENTRES, CENTRES)
    for m in range(2):
        for x in range(12):
            near = d[bins[m, x]] <= 15.0
            assert torch.allclose(c[m, x], probs[near, x].sum(), atol=1e-6)
    ab = torch.randn(1, 2, 12) * 30
    ca = ab_confidence(probs.T.contiguous(), CENTRES, ab, 15.0)
    for x in range(12):
        near = (CENTRES - ab[0, :, x]).norm(dim=1) <= 15.0
        assert torch.allclose(ca[0, x], probs[near, x].sum(), atol=1e-5)


def test_ab_confidence_is_exact_everywhere_in_ab():
    """The lookup cells only narrow the bins to test: every ab value, on a bin centre, between
    bins, at the gamut's edge or far outside it (and NaN), gets the brute-force mass."""
    g = torch.Generator().manual_seed(1)
    hw = 400
    probs = torch.softmax(torch.randn(hw, Q, generator=g) * 2, dim=1)
    ab = torch.randn(3, 2, hw, generator=g) * 60  # many values outside the bins' range
    ab[0, :, :Q] = CENTRES.T  # exactly on every bin centre (Q <= hw)
    ab[1, :, :50] = CENTRES.T[:, :50] + 15.0 * torch.tensor([[0.6], [0.8]])  # radius away
    ab[2, 0, :3] = torch.tensor([float("nan"), 1e9, -1e9])
    got = ab_confidence(probs, CENTRES, ab, 15.0)
    for m in range(3):
        d = torch.cdist(ab[m].T.double(), CENTRES.double())  # NaN rows: no bin is near
        want = torch.where(d <= 15.0, probs.double(), 0.0).sum(1)
        close = (d - 15.0).abs() < 1e-3  # on the circle itself float rounding may decide
        ok = (got[m].double() - want).abs() < 1e-5
        assert bool((ok | close.any(1)).all())
    assert got[2, :3].tolist() == [0.0, 0.0, 0.0]
    assert bool((got >= 0).all()) and bool((got <= 1 + 1e-5).all())


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        draw_bins(torch.zeros(Q, 4, 4), [0], 0.7, 3.0)
    with pytest.raises(ValueError):
        draw_bins(torch.zeros(1, Q, 4, 4), [0], 0.0, 3.0)
    with pytest.raises(ValueError):
        independent_samples(torch.zeros(1, Q - 1, 4, 4), CENTRES, 2)


def test_independent_pixel_noise_is_exact_too():
    # correlation <= 1 takes the per-pixel path that draws only the noise it uses.
    h, w, T, m = 3, 3, 1.0, 3000
    logits = random_logits(h, w, seed=8, scale=1.2)
    bins = draw_bins(logits, candidate_seeds(4, m), T, correlation=0.0, max_bins=3).bins
    p = tempered(logits, T)
    for y, x in [(0, 0), (2, 1)]:
        freq = torch.bincount(bins[:, y, x], minlength=Q).double() / m
        assert (freq - p[:, y, x]).abs().max() < 0.04
    agree = (bins[..., :, 1:] == bins[..., :, :-1]).float().mean()
    assert agree < 0.2  # no spatial coupling


def test_region_shared_noise_keeps_exact_marginals_and_unifies_regions():
    from polychrome.core.sampler.regions import luminance_regions

    h, w = 16, 24
    L = torch.full((1, 1, h, w), 30.0)
    L[..., :, w // 2 :] = 70.0  # two regions of constant luminance
    regions = luminance_regions(L)
    assert regions.shape == (h, w)
    left, right = regions[:, : w // 2 - 2], regions[:, w // 2 + 2 :]
    assert (left == left[0, 0]).all() and (right == right[0, 0]).all() and left[0, 0] != right[0, 0]

    # Exactness: per-pixel frequencies with region sharing still follow p^(1/T).
    T, m = 0.7, 3000
    logits = random_logits(h, w, seed=4, scale=1.5)
    draws = draw_bins(logits, candidate_seeds(5, m), T, correlation=4.0, regions=regions, region_share=0.7)
    p = tempered(logits, T)
    for y, x in [(0, 0), (7, 13), (15, 23)]:
        freq = torch.bincount(draws.bins[:, y, x], minlength=Q).double() / m
        assert (freq - p[:, y, x]).abs().max() < 0.04

    # Coherence: with equal marginals everywhere, far-apart pixels of one region agree
    # far more often with region sharing than without, and across regions they do not.
    flat = torch.full((1, Q, h, w), -30.0)
    flat[:, [10, 60, 120, 180, 240]] = 0.0
    seeds = candidate_seeds(1, 300)
    plain = draw_bins(flat, seeds, 1.0, correlation=4.0).bins
    shared = draw_bins(flat, seeds, 1.0, correlation=4.0, regions=regions, region_share=0.7).bins
    same_plain = (plain[:, 0, 0] == plain[:, -1, w // 2 - 3]).float().mean()
    same_shared = (shared[:, 0, 0] == shared[:, -1, w // 2 - 3]).float().mean()
    across = (shared[:, 0, 0] == shared[:, 0, -1]).float().mean()
    assert same_shared > same_plain + 0.25
    assert abs(across - 0.2) < 0.08


def test_region_noise_is_exactly_gumbel():
    from polychrome.core.sampler.regions import luminance_regions

    L = torch.full((1, 1, 12, 16), 50.0)
    L[..., 6:, :] = 90.0
    g = smooth_gumbel_noise(
        candidate_seeds(2, 300), 1, 12, 16, correlation=5.0, regions=luminance_regions(L), region_share=0.7
    )
    for y, x in [(0, 0), (11, 15), (5, 9)]:
        assert stats.kstest(g[:, 0, y, x].numpy(), stats.gumbel_r.cdf).pvalue > 1e-3
