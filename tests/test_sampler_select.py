"""Diverse selection and the end-to-end sampler: locking, seeds, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from polychrome.core.bins import annealed_mean, gamut_bins
from polychrome.core.sampler import (
    MEAN_SEED,
    SamplerSettings,
    SampleSet,
    l_at_working_res,
    sample,
    sample_from_seed,
)
from polychrome.core.sampler.select import farthest_point, lowres, pairwise_ab_distance, select_diverse

CENTRES = torch.from_numpy(gamut_bins())
Q = CENTRES.shape[0]


def nearest(ab: tuple[float, float]) -> int:
    return int((CENTRES - torch.tensor(ab)).norm(dim=1).argmin())


def multimodal_scene(h: int = 16, w: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    """Four quadrants of different L, each with three equally likely, far-apart colours."""
    L = torch.zeros(1, 1, h, w)
    logits = torch.full((1, Q, h, w), -20.0)
    options = [
        [(40, 40), (-40, 40), (0, -40)],
        [(60, 0), (-30, -30), (10, 60)],
        [(-50, 10), (20, -50), (30, 30)],
        [(0, 0), (50, 50), (-40, -20)],
    ]
    for qi, (ys, xs) in enumerate(
        [
            (slice(0, h // 2), slice(0, w // 2)),
            (slice(0, h // 2), slice(w // 2, w)),
            (slice(h // 2, h), slice(0, w // 2)),
            (slice(h // 2, h), slice(w // 2, w)),
        ]
    ):
        L[..., ys, xs] = 20.0 + 20.0 * qi
        for ab in options[qi]:
            logits[0, nearest(ab), ys, xs] = 0.0
    return logits, L


def min_pairwise(ab: torch.Tensor) -> float:
    d = pairwise_ab_distance(lowres(ab), lowres(ab))
    return float(d[~torch.eye(len(ab), dtype=torch.bool)].min())


def test_farthest_point_picks_one_per_cluster():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [60.0, 0.0], [0.0, 60.0], [-60.0, -60.0]])
    cand = []
    for i in range(12):  # three near-copies of each of four flat colours
        cand.append(centres[i % 4].view(2, 1, 1).expand(2, 4, 4) + torch.randn(2, 4, 4, generator=g))
    picks = farthest_point(torch.stack(cand), None, 4)
    assert picks[0] == 0 and sorted(p % 4 for p in picks) == [0, 1, 2, 3]
    # With a fixed result at cluster 0, the first pick goes elsewhere, the farthest cluster.
    fixed = centres[0].view(1, 2, 1, 1).expand(1, 2, 4, 4)
    picks = farthest_point(torch.stack(cand), fixed, 3)
    assert 0 not in {p % 4 for p in picks} and picks[0] % 4 == 3


def test_select_diverse_drops_unlikely_candidates_and_keeps_order_at_zero_diversity():
    cand = torch.randn(8, 2, 6, 6, generator=torch.Generator().manual_seed(1)) * 30
    loglik = torch.arange(8.0)  # candidate 7 most likely
    assert select_diverse(cand, loglik, None, 3, 0.0) == [0, 1, 2]
    picks = select_diverse(cand, loglik, None, 3, 1.0)
    assert picks[0] == 7 and len(set(picks)) == 3
    assert all(p >= 2 for p in picks)  # the 40% least likely of the 5 surplus (0, 1) are dropped


def test_diverse_selection_is_farther_apart_than_first_draws():
    # Per-pixel field draws: a continuum of candidates, so picking far-apart ones must pay off
    # (object draws have a handful of combinations here; tests/test_sampler_objects.py).
    logits, L = multimodal_scene()
    base = SamplerSettings(n=6, correlation=8.0, seed=3, iterations=30, method="field")
    diverse = sample(logits, CENTRES, L, base)
    plain = sample(logits, CENTRES, L, SamplerSettings(**{**base.__dict__, "diversity": 0.0}))
    assert min_pairwise(diverse.ab) > min_pairwise(plain.ab)
    d_div = pairwise_ab_distance(lowres(diverse.ab), lowres(diverse.ab)).sum() / 30
    d_plain = pairwise_ab_distance(lowres(plain.ab), lowres(plain.ab)).sum() / 30
    assert d_div > d_plain


def test_sample_shapes_seeds_and_reproducibility():
    logits, L = multimodal_scene()
    st = SamplerSettings(n=5, seed=11, iterations=20)
    a = sample(logits, CENTRES, L, st)
    assert isinstance(a, SampleSet) and a.ab.shape == (5, 2, 16, 24) and a.ab.dtype == torch.float32
    assert a.seeds[0] == MEAN_SEED and len(set(a.seeds[1:])) == 4 and a.settings is st
    b = sample(logits, CENTRES, L, st)
    assert torch.equal(a.ab, b.ab) and a.seeds == b.seeds
    c = sample(logits, CENTRES, L, SamplerSettings(n=5, seed=12, iterations=20))
    assert not torch.equal(a.ab[1:], c.ab[1:]) and torch.equal(a.ab[0], c.ab[0])
    # Every result can be rebuilt from its seed alone (to rounding: see sample_from_seed).
    for i in (0, 2, 4):
        again = sample_from_seed(logits, CENTRES, L, st, a.seeds[i])
        assert torch.allclose(again, a.ab[i], rtol=0.0, atol=1e-3)


def test_result_zero_is_the_annealed_mean():
    # Spatially constant marginals: the TV term is zero at the mean, so regularising keeps it.
    g = torch.Generator().manual_seed(2)
    logits = (torch.randn(1, Q, 1, 1, generator=g) * 3).expand(1, Q, 8, 10).contiguous()
    L = l_at_working_res(np.linspace(0, 100, 40 * 32, dtype=np.float32).reshape(32, 40), (8, 10))
    res = sample(logits, CENTRES, L, SamplerSettings(n=3))
    assert torch.allclose(res.ab[0], annealed_mean(logits, CENTRES)[0], atol=1e-3)


def test_lock_keeps_results_bit_identical_across_reseeding():
    logits, L = multimodal_scene()
    first = sample(logits, CENTRES, L, SamplerSettings(n=5, seed=0, iterations=20))
    locked = {2: first.ab[2].clone(), 0: first.ab[0].clone()}
    again = sample(
        logits, CENTRES, L, SamplerSettings(n=5, seed=1, iterations=20), locked=locked, locked_seeds={2: 77}
    )
    assert torch.equal(again.ab[2], first.ab[2]) and torch.equal(again.ab[0], first.ab[0])
    assert not torch.equal(again.ab[1], first.ab[1])
    assert again.seeds[2] == 77 and again.seeds[0] == MEAN_SEED
    # Everything locked: nothing is drawn.
    all_locked = {i: first.ab[i] for i in range(5)}
    assert torch.equal(sample(logits, CENTRES, L, SamplerSettings(n=5), locked=all_locked).ab, first.ab)


def test_saturation_scales_new_results_only():
    logits, L = multimodal_scene()
    # Diversity 0 so the lock does not change which draws are picked.
    st = SamplerSettings(n=4, seed=5, iterations=20, diversity=0.0)
    full = sample(logits, CENTRES, L, st)
    half = sample(
        logits, CENTRES, L, SamplerSettings(**{**st.__dict__, "saturation": 0.5}), locked={3: full.ab[3]}
    )
    assert torch.allclose(half.ab[:3], 0.5 * full.ab[:3], atol=1e-5)
    assert torch.equal(half.ab[3], full.ab[3])


def test_sampler_follows_the_marginals_per_region():
    logits, L = multimodal_scene()
    st = SamplerSettings(n=6, temperature=0.7, seed=2, iterations=40, smoothness=0.3)
    res = sample(logits, CENTRES, L, st)
    allowed = [
        torch.stack([CENTRES[nearest(ab)] for ab in opts])
        for opts in ([(40, 40), (-40, 40), (0, -40)], [(60, 0), (-30, -30), (10, 60)])
    ]
    for i in range(1, 6):
        for region, xs in zip(allowed, (slice(0, 12), slice(12, 24)), strict=True):
            inner = res.ab[i, :, 2:6, xs][:, :, 2:-2].reshape(2, -1).T  # away from region borders
            # Regularised draws stay near one of the region's own colours (TV shrinks them a bit).
            assert torch.cdist(inner, region).min(1).values.median() < 8.0


def test_l_at_working_res():
    L = np.full((40, 60), 37.0, dtype=np.float32)
    L[:, 30:] = 80.0
    t = l_at_working_res(L, (10, 15))
    assert t.shape == (1, 1, 10, 15) and t.dtype == torch.float32
    assert torch.allclose(t[0, 0, :, :6], torch.tensor(37.0)) and torch.allclose(
        t[0, 0, :, 9:], torch.tensor(80.0)
    )
    with pytest.raises(ValueError):
        l_at_working_res(L[None], (10, 15))


def test_bad_arguments_raise():
    logits, L = multimodal_scene()
    with pytest.raises(ValueError):
        sample(logits, CENTRES, L, SamplerSettings(n=0))
    with pytest.raises(ValueError):
        sample(logits, CENTRES, L, SamplerSettings(temperature=0.0))
    with pytest.raises(ValueError):
        sample(logits, CENTRES, L[..., :8], SamplerSettings())
    with pytest.raises(ValueError):
        sample(logits, CENTRES, L, SamplerSettings(n=3), locked={3: torch.zeros(2, 16, 24)})
    with pytest.raises(ValueError):
        sample(logits, CENTRES, L, SamplerSettings(n=3), locked={1: torch.zeros(2, 8, 24)})
