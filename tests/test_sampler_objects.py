"""Object-level draws: regions from L and marginals, one mode per object, no tiny modes."""

from __future__ import annotations

import torch

from polychrome.core.bins import gamut_bins
from polychrome.core.sampler import (
    ObjectRegions,
    SamplerSettings,
    object_regions,
    sample,
    sample_from_seed,
)
from polychrome.core.sampler.modes import (
    MIN_MODE_MASS,
    draw_objects,
    pooled_marginals,
    region_modes,
)

CENTRES = torch.from_numpy(gamut_bins())
Q = CENTRES.shape[0]
RED, BLUE, GREEN, ORANGE, BROWN = (50, 35), (-5, -45), (-45, 40), (30, 60), (15, 20)


def nearest(ab: tuple[float, float]) -> int:
    return int((CENTRES - torch.tensor(ab, dtype=torch.float32)).norm(dim=1).argmin())


def marginal(mix: dict[tuple[float, float], float]) -> torch.Tensor:
    """Log-probabilities ``(Q,)`` with the given mass on the bins nearest the colours."""
    p = torch.full((Q,), 1e-9)
    for ab, m in mix.items():
        p[nearest(ab)] += m
    return (p / p.sum()).log()


def scene(left: dict, right: dict, h: int = 16, w: int = 32, L_left: float = 50.0, L_right: float = 50.0):
    """Two halves with their own per-pixel marginals; logits ``(1, Q, h, w)``, L ``(1, 1, h, w)``."""
    logits = torch.empty(1, Q, h, w)
    logits[0, :, :, : w // 2] = marginal(left)[:, None, None]
    logits[0, :, :, w // 2 :] = marginal(right)[:, None, None]
    L = torch.full((1, 1, h, w), L_left)
    L[..., w // 2 :] = L_right
    return logits, L


def probs_of(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits[0].reshape(Q, -1).T, dim=1)


def near(ab: torch.Tensor, colour: tuple[float, float], radius: float) -> torch.Tensor:
    """Bool ``(h, w)``: pixels of ab ``(2, h, w)`` within ``radius`` of ``colour``."""
    return (ab - torch.tensor(colour).view(2, 1, 1)).norm(dim=0) <= radius


def test_equal_grays_with_different_marginals_are_different_objects():
    logits, L = scene({RED: 1.0}, {GREEN: 1.0})  # one gray, two colours: the marginals split them
    reg = object_regions(probs_of(logits), CENTRES, L)
    coarse = reg.coarse
    assert (
        len(set(coarse[:, :16].flatten().tolist())) == 1 and len(set(coarse[:, 16:].flatten().tolist())) == 1
    )
    assert coarse[0, 0] != coarse[0, -1]
    # Same marginals on both sides but a big step of L between them: two objects as well.
    logits, L = scene({RED: 0.5, BLUE: 0.5}, {RED: 0.5, BLUE: 0.5}, L_left=30.0, L_right=75.0)
    coarse = object_regions(probs_of(logits), CENTRES, L).coarse
    assert coarse[0, 0] != coarse[0, -1]
    # Same marginals, same gray: one object.
    logits, L = scene({RED: 0.5, BLUE: 0.5}, {RED: 0.5, BLUE: 0.5})
    assert object_regions(probs_of(logits), CENTRES, L).n_coarse == 1


def test_region_modes_split_hues_and_keep_neutral_apart():
    pooled = torch.softmax(marginal({RED: 0.5, GREEN: 0.3, (0, 0): 0.2}), 0)[None]
    m = region_modes(pooled, CENTRES)
    heavy = m.mass[0] > 0.01
    assert int(heavy.sum()) == 3
    assert torch.allclose(m.mass[0, :3], torch.tensor([0.5, 0.3, 0.2]), atol=1e-3)
    for k, colour in enumerate((RED, GREEN, (0, 0))):
        assert torch.dist(m.colour[0, k], CENTRES[nearest(colour)]) < 1e-3


def test_each_object_takes_one_mode_and_both_modes_occur():
    logits, L = scene({RED: 0.5, BLUE: 0.5}, {GREEN: 0.95, (0, 0): 0.05}, L_left=40.0, L_right=70.0)
    seen = set()
    for seed in range(4):
        res = sample(logits, CENTRES, L, SamplerSettings(n=6, seed=seed, iterations=20))
        for ab in res.ab[1:]:
            inner = ab[:, 3:-3, 3:13]  # away from the border between the halves
            red, blue = near(inner, RED, 15.0), near(inner, BLUE, 15.0)
            assert bool(red.all()) or bool(blue.all()), "the object must take one colour"
            seen.add("red" if red.all() else "blue")
            assert bool(near(ab[:, 3:-3, 19:-3], GREEN, 15.0).all())  # the sure object stays green
    assert seen == {"red", "blue"}


def test_a_mode_with_tiny_pooled_probability_is_never_drawn():
    mix = {BLUE: 0.95, ORANGE: 0.05}
    assert mix[ORANGE] < MIN_MODE_MASS
    logits, L = scene(mix, mix)
    for seed in range(3):
        res = sample(logits, CENTRES, L, SamplerSettings(n=8, seed=seed, temperature=1.5, iterations=10))
        assert not any(bool(near(ab, ORANGE, 20.0).any()) for ab in res.ab)
    # The per-pixel field sampler does draw the orange pixels the test guards against.
    field = sample(
        logits, CENTRES, L, SamplerSettings(n=8, seed=0, temperature=1.5, iterations=0, method="field")
    )
    assert any(bool(near(ab, ORANGE, 20.0).any()) for ab in field.ab[1:])


def _two_part_object(right: dict) -> tuple[torch.Tensor, ObjectRegions]:
    """One coarse object of two fine parts: left (blue or brown), right (``right``)."""
    h, w = 8, 16
    logits, _ = scene({BLUE: 0.5, BROWN: 0.5}, right, h, w)
    fine = torch.zeros(h, w, dtype=torch.long)
    fine[:, w // 2 :] = 1
    return probs_of(logits), ObjectRegions(fine, torch.zeros(2, dtype=torch.long))


def test_parts_follow_their_object_unless_their_marginal_rejects_its_colour():
    # A part with the same marginal always takes the object's colour.
    probs, reg = _two_part_object({BLUE: 0.5, BROWN: 0.5})
    d = draw_objects(probs, CENTRES, reg, list(range(40)), 0.7)
    assert torch.allclose(d.fine_colour[:, 0], d.fine_colour[:, 1], atol=1e-4)
    assert len({tuple(c.round().tolist()) for c in d.fine_colour[:, 0]}) == 2  # both colours occur
    # Fruit merged with the wall behind it: it keeps its own red (nearly always: 98 % expected).
    probs, reg = _two_part_object({RED: 0.9, BLUE: 0.1})
    d = draw_objects(probs, CENTRES, reg, list(range(40)), 0.7)
    red = (d.fine_colour[:, 1] - CENTRES[nearest(RED)]).norm(dim=1) < 1.0
    assert int(red.sum()) >= 34


def test_lower_temperature_prefers_the_heavier_mode():
    logits, L = scene({RED: 0.7, BLUE: 0.3}, {RED: 0.7, BLUE: 0.3})
    probs = probs_of(logits)
    reg = object_regions(probs, CENTRES, L)
    red = CENTRES[nearest(RED)]

    def share(T: float) -> float:
        d = draw_objects(probs, CENTRES, reg, list(range(200)), T)
        return float(((d.fine_colour[:, 0] - red).norm(dim=1) < 1.0).float().mean())

    cold, hot = share(0.3), share(2.0)
    # Expected shares 0.94 and 0.60 (0.7^(1/T) against 0.3^(1/T)); 200 draws each.
    assert cold > 0.85 and hot < 0.75 and cold > hot


def test_object_draws_reproduce_from_their_seeds_and_keep_locks():
    logits, L = scene({RED: 0.5, BLUE: 0.5}, {GREEN: 0.6, ORANGE: 0.4}, L_left=40.0, L_right=70.0)
    st = SamplerSettings(n=5, seed=3, iterations=15)
    a = sample(logits, CENTRES, L, st)
    for i in range(1, 5):
        # One matrix product serves all draws, so its rounding depends on how many there are:
        # the same result to well under what 8-bit output can show (1e-3 ab).
        again = sample_from_seed(logits, CENTRES, L, st, a.seeds[i])
        assert torch.allclose(again, a.ab[i], rtol=0.0, atol=1e-3)
    locked = {2: a.ab[2].clone()}
    b = sample(logits, CENTRES, L, SamplerSettings(n=5, seed=4, iterations=15), locked=locked)
    assert torch.equal(b.ab[2], a.ab[2])
    # Regions passed in (computed once per image) give the same results as computed here.
    reg = object_regions(probs_of(logits), CENTRES, L)
    assert torch.equal(sample(logits, CENTRES, L, st, regions=reg).ab, a.ab)


def test_pooled_marginals_average_per_region():
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    labels = torch.tensor([0, 0, 1])
    assert torch.allclose(pooled_marginals(probs, labels, 2), torch.tensor([[0.5, 0.5], [0.5, 0.5]]))


def test_pick_colour_takes_the_objects_mean_colour_in_that_result():
    from polychrome.core.color import rgb_to_lab
    from polychrome.core.models.base import BestGuess, Marginals
    from polychrome.core.prepared import PreparedImage

    h, w = 16, 32
    logits, L = scene({RED: 1.0}, {GREEN: 1.0}, h, w, 45.0, 65.0)
    L_full = L[0, 0].repeat_interleave(4, 0).repeat_interleave(4, 1).numpy()  # (64, 128)
    prep = PreparedImage.from_marginals(Marginals(logits, CENTRES, BestGuess(0.38)), L_full)
    ab = torch.zeros(2, h, w)
    ab[:, :, : w // 2] = torch.tensor([30.0, 20.0]).view(2, 1, 1)
    ab[:, :, w // 2 :] = torch.tensor([-25.0, 15.0]).view(2, 1, 1)
    ab[:, ::2, : w // 2] += 6.0  # texture inside the object: the pick is its mean, not one pixel's
    for (x, y), L_obj, want in (((10.0, 20.0), 45.0, (33.0, 23.0)), ((120.0, 50.0), 65.0, (-25.0, 15.0))):
        lab = rgb_to_lab(torch.tensor([prep.pick_colour(ab, x, y)]).numpy())[0]
        assert abs(lab[0] - L_obj) < 1.0, lab  # the object's own lightness
        assert abs(lab[1] - want[0]) < 1.5 and abs(lab[2] - want[1]) < 1.5, lab


def test_a_small_change_of_near_equal_modes_moves_few_draws():
    # Red and blue nearly tied; a nudge (as a hint elsewhere can give) swaps which is heavier.
    from polychrome.core.sampler.modes import _choose

    before = region_modes(torch.softmax(marginal({RED: 0.46, BLUE: 0.44, GREEN: 0.10}), 0)[None], CENTRES)
    after = region_modes(torch.softmax(marginal({RED: 0.44, BLUE: 0.46, GREEN: 0.10}), 0)[None], CENTRES)
    u = torch.rand(2000, generator=torch.Generator().manual_seed(0))

    def drawn(m):
        many = type(m)(
            *(t.expand(len(u), *t.shape[1:]) for t in (m.colour, m.mass, m.pooled, m.key, m.member))
        )
        return many.colour[torch.arange(len(u)), _choose(many, 1.0, u)]

    moved = (drawn(before) - drawn(after)).norm(dim=1) > 1.0
    # Only the draws whose u lies in the 0.02-wide strip between the two modes may change
    # (laid out by mass, ~90 % would); 0.1 leaves room for sampling error over 2000 draws.
    assert float(moved.float().mean()) < 0.1
    freq = (drawn(before) - torch.tensor(RED)).norm(dim=1) < 15
    assert 0.40 < float(freq.float().mean()) < 0.52  # still drawn in proportion to the mass


def test_shades_vary_inside_the_drawn_mode_and_never_leave_it():
    # One object, sure it is blue, unsure which blue: draws differ in shade, never in hue.
    navy, sky = (10, -40), (-10, -30)
    logits, L = scene({navy: 0.5, sky: 0.5}, {navy: 0.5, sky: 0.5})
    probs = probs_of(logits)
    reg = object_regions(probs, CENTRES, L)
    d = draw_objects(probs, CENTRES, reg, list(range(60)), 1.0)
    colours = d.fine_colour.reshape(-1, 2)
    near_navy = (colours - torch.tensor(navy, dtype=torch.float32)).norm(dim=1) < 5
    near_sky = (colours - torch.tensor(sky, dtype=torch.float32)).norm(dim=1) < 5
    assert bool((near_navy | near_sky).all())  # every draw is one of the object's blues
    assert 0.25 < float(near_navy.float().mean()) < 0.75  # both, about equally often
