"""Colour hints: objects filled by one stroke, edges respected, in-gamut relighting, the
full-strength guarantee, the incremental engine, the JSON format and colour suggestions.

The object tests run the real pipeline (PreparedImage: hint engine -> best guess and the
sampler's N results) on synthetic photos whose network prediction is the same wrong colour
everywhere, so only the propagation can tell the regions apart.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from skimage.color import deltaE_ciede2000

from polychrome.core.bins import annealed_mean, gamut_bins
from polychrome.core.color import lab_to_linear_rgb, rgb_to_lab
from polychrome.core.hint_geometry import SAT_EXPONENT, gamut_scale
from polychrome.core.hints import (
    FORMAT_VERSION,
    HINT_SIGMA,
    HOLD_DELTA_E,
    HOLD_PAINT,
    MIX_POWER,
    HintDocument,
    HintEngine,
    Stroke,
    apply_hints,
    paint_mask,
    suggest_colors,
    target_ab,
)
from polychrome.core.models.base import Marginals
from polychrome.core.prepared import PreparedImage
from polychrome.core.sampler import SamplerSettings

CENTRES = torch.from_numpy(gamut_bins())
Q = CENTRES.shape[0]
H, W = 32, 48  # working resolution
SCALE = 4  # full-res pixels per working pixel
IMAGE = (W * SCALE, H * SCALE)  # full-res (W, H)
BLUE = (-10.0, -30.0)  # what the "network" predicts everywhere
RED = (0.8, 0.15, 0.1)
GREEN = (0.2, 0.6, 0.15)
SETTINGS = SamplerSettings(n=8, seed=3, iterations=30)
MOVED = 10.0  # ab: a pixel "moved to the hint" when this close to its target (hint - blue >= 60 ab)
CHANGED = 10.0  # ab: a pixel "changed" when it moved this far from its un-hinted value


def network_logits(ab=BLUE, confidence: float = 12.0, h: int = H, w: int = W) -> torch.Tensor:
    """``(1, Q, h, w)``: a Gaussian of width ``confidence`` (ab) around ``ab`` at every pixel."""
    lg = -((CENTRES - torch.tensor(ab)) ** 2).sum(1) / (2 * confidence**2)
    return lg.view(1, Q, 1, 1).expand(1, Q, h, w).contiguous()


def prepare(L_full: np.ndarray, logits: torch.Tensor | None = None) -> PreparedImage:
    logits = network_logits() if logits is None else logits
    return PreparedImage.from_marginals(Marginals(logits, CENTRES), L_full.astype(np.float32))


def results(prep: PreparedImage, doc: HintDocument | None) -> torch.Tensor:
    """``(1 + N, 2, h, w)``: the best guess and the sampler's N results under ``doc``."""
    return torch.cat([prep.best_guess(doc), prep.sample(SETTINGS, doc).ab])


def target_map(prep: PreparedImage, color) -> torch.Tensor:
    """``(2, h, w)``: ``color`` re-lit at every working pixel's L* (hue and saturation kept, in gamut)."""
    L = prep.L_work[0, 0].numpy()
    t = np.array([target_ab(color, float(v)) for v in L.ravel()], np.float32).T.reshape(2, *L.shape)
    return torch.from_numpy(t)


def two_regions() -> np.ndarray:
    """Full-res L*: a dark region (L* 35, left) touching a light one (L* 70, right)."""
    L = np.full((H * SCALE, W * SCALE), 70.0)
    L[:, : W * SCALE // 2] = 35.0
    return L


def region(prep: PreparedImage, value: float, side: str) -> torch.Tensor:
    """Working pixels of one flat region: its side of the image, L* within 1 of ``value`` (the
    column the antialiased resize blends across the boundary belongs to neither region)."""
    L = prep.L_work[0, 0]
    half = torch.zeros(H, W, dtype=torch.bool)
    if side == "left":
        half[:, : W // 2] = True
    else:
        half[:, W // 2 :] = True
    return half & ((L - value).abs() < 1.0)


def point(x: float, y: float, color, **kw) -> Stroke:
    """A point hint with the editor's default brush (reach, strength, hardness as the Stroke's)."""
    return Stroke(points=[(x, y)], radius=8.0, color=color, **kw)


def test_one_stroke_fills_its_region_and_leaves_the_touching_one():
    prep = prepare(two_regions())
    left, right = region(prep, 35.0, "left"), region(prep, 70.0, "right")
    assert left.sum() >= 0.45 * H * W and right.sum() >= 0.45 * H * W
    doc = HintDocument(strokes=[point(20.0, 20.0, RED)])  # one dab in the dark region's corner
    paint = prep.engine.stroke_paint(doc.strokes[0])[0]
    assert (paint > 0)[left].float().mean() < 0.05  # the paint itself covers a few pixels only
    before, after = results(prep, None), results(prep, doc)
    target = target_map(prep, RED)
    assert (before - target).norm(dim=1)[:, left].min() > 6 * MOVED  # blue, far from the hint
    for i in range(after.shape[0]):  # the best guess and every one of the N results
        moved = (after[i] - target).norm(dim=0)[left]
        assert (moved < MOVED).float().mean() >= 0.95, (i, moved.max())
    # The best guess (deterministic) keeps its colour in the other region...
    changed = (after[0] - before[0]).norm(dim=0)[right]
    assert (changed > CHANGED).float().mean() < 0.05, changed.max()
    # ...and no result takes the hint's colour there: the sampler may hand the other region's
    # colours to different result indices (it picks far-apart draws over the whole image), but
    # none comes closer to the hint than the un-hinted results already were.
    closest_before = (before - target).norm(dim=1)[:, right].amin(0)
    for i in range(after.shape[0]):
        toward = closest_before - (after[i] - target).norm(dim=0)[right]
        assert (toward > CHANGED).float().mean() < 0.05, (i, toward.max())


def test_two_regions_of_equal_L_split_by_a_thin_dark_line_stay_apart():
    L = np.full((H * SCALE, W * SCALE), 60.0)
    L[:, (W // 2) * SCALE : (W // 2 + 1) * SCALE] = 15.0  # one working pixel wide
    prep = prepare(L)
    left = torch.zeros(H, W, dtype=torch.bool)
    left[:, : W // 2 - 1] = True
    right = torch.zeros(H, W, dtype=torch.bool)
    right[:, W // 2 + 2 :] = True
    doc = HintDocument(strokes=[point(30.0, 60.0, RED), point(IMAGE[0] - 30.0, 60.0, GREEN)])
    red, green = target_map(prep, RED), target_map(prep, GREEN)
    assert (red - green).norm(dim=0)[left | right].min() > 5 * MOVED
    for i, ab in enumerate(results(prep, doc)):
        assert ((ab - red).norm(dim=0)[left] < MOVED).float().mean() >= 0.95, i
        assert ((ab - green).norm(dim=0)[right] < MOVED).float().mean() >= 0.95, i


def test_a_hint_in_a_dark_region_gets_an_in_gamut_colour_at_that_lightness():
    L = np.full((H * SCALE, W * SCALE), 70.0)
    L[:, : W * SCALE // 2] = 12.0
    prep = prepare(L)
    dark = region(prep, 12.0, "left")
    blue = (0.1, 0.2, 1.0)  # saturated: its chroma (at its own L* 37) is far outside the gamut at L* 12
    sat_ab = rgb_to_lab(np.array(blue, np.float32))[1:]
    assert gamut_scale(np.float32([12.0]), sat_ab[:1], sat_ab[1:])[0] < 0.6  # > 40 % too much chroma
    doc = HintDocument(strokes=[point(40.0, 60.0, blue)])
    for i, ab in enumerate(results(prep, doc)):
        a, b = ab[0][dark].numpy(), ab[1][dark].numpy()
        lin = lab_to_linear_rgb(np.stack([np.full_like(a, 12.0), a, b], -1))
        # In gamut (1e-3 of linear RGB: the gamut test's own 1e-4 and float32 rounding) and not gray:
        # the hue is the stroke's and the chroma most of what the gamut allows there.
        assert lin.min() > -1e-3 and lin.max() < 1.0 + 1e-3, i
        hue = np.degrees(np.arctan2(b, a) - np.arctan2(sat_ab[1], sat_ab[0]))
        assert np.abs((hue + 180) % 360 - 180).max() < 5.0, i
        best = np.hypot(*target_ab(blue, 12.0)) / 0.96  # the gamut's edge along that hue
        assert np.hypot(a, b).min() > 0.8 * best, i


def test_full_strength_paint_holds_its_colour_within_the_stated_delta_e():
    # A textured photo: two regions, noise in L*, several strokes (one soft, one half strength,
    # one crossing the edge) against a confident network: every result keeps the painted colour.
    rng = np.random.default_rng(0)
    L = two_regions() + rng.normal(0.0, 3.0, (H * SCALE, W * SCALE))
    prep = prepare(L, network_logits(confidence=6.0))
    strokes = [
        Stroke(points=[(20.0, 20.0), (70.0, 100.0)], radius=10.0, color=RED, hardness=0.0),
        Stroke(points=[(150.0, 30.0)], radius=14.0, color=GREEN),
        Stroke(points=[(60.0, 64.0), (140.0, 64.0)], radius=6.0, color=(0.9, 0.8, 0.1), hardness=1.0),
        # Paint only, soft: its pull is the paint's coverage, so the hold does the work.
        Stroke(points=[(110.0, 110.0)], radius=8.0, color=(0.1, 0.3, 0.8), hardness=0.0, reach=0.0),
        Stroke(points=[(160.0, 110.0)], radius=10.0, color=(0.5, 0.1, 0.6), strength=0.5),
    ]
    doc = HintDocument(strokes=strokes)
    eng = prep.engine
    Lw = prep.L_work[0, 0].numpy()
    checked = 0
    for ab in results(prep, doc):
        for s in strokes[:4]:  # full strength
            held = (eng.stroke_paint(s)[0] >= HOLD_PAINT).numpy()
            # Where strokes overlap, the later one is not the only colour painted there.
            others = sum((eng.stroke_paint(o)[0] > 0).numpy() for o in strokes if o is not s)
            held &= others == 0
            want = np.array([target_ab(s.color, float(v)) for v in Lw[held]])
            got = ab[:, torch.from_numpy(held)].numpy().T
            lab_want = np.column_stack([Lw[held], want])
            lab_got = np.column_stack([Lw[held], got])
            assert deltaE_ciede2000(lab_want, lab_got).max() <= HOLD_DELTA_E
            checked += int(held.sum())
    assert checked > 9 * 20  # every result, tens of pixels per stroke


def test_stroke_colour_means_hue_and_saturation():
    # One stroke across two lightnesses: the same hue on both, chroma following L* (a surface
    # in shadow is a darker, less chromatic version of its colour), as SAT_EXPONENT says.
    prep = prepare(two_regions())
    muted = (0.6, 0.4, 0.3)  # inside the gamut at both lightnesses: no gamut mapping involved
    doc = HintDocument(strokes=[Stroke(points=[(40.0, 64.0), (150.0, 64.0)], radius=6.0, color=muted)])
    f = prep.engine.field(doc)
    dark, light = f.target[:, 16, 6].numpy(), f.target[:, 16, 40].numpy()
    hue = np.degrees(np.arctan2(dark[1], dark[0]) - np.arctan2(light[1], light[0]))
    assert abs(hue) < 1.0
    ratio = np.hypot(*light) / np.hypot(*dark)
    assert ratio == pytest.approx((70.0 / 35.0) ** SAT_EXPONENT, rel=0.02)
    # At the colour's own lightness the target is the colour's own ab.
    lab = rgb_to_lab(np.array(muted, np.float32))
    assert np.allclose(target_ab(muted, float(lab[0])), lab[1:], atol=0.05)


def test_a_colour_with_zero_probability_can_be_imposed():
    prep = prepare(two_regions(), network_logits(confidence=3.0))  # red bins get logits around -500
    p_before = torch.softmax(prep.marginals.logits[0, :, 16, 6], 0)
    red_ab = torch.tensor(target_ab(RED, 35.0))
    assert p_before[(CENTRES - red_ab).norm(dim=1) < 15].sum() < 1e-30
    doc = HintDocument(strokes=[point(24.0, 64.0, RED)])
    assert (prep.best_guess(doc)[0, :, 16, 6] - red_ab).norm() < MOVED
    # The re-weighted marginals themselves carry the colour (not only the final projection).
    assert (annealed_mean(prep.logits(doc), CENTRES)[0, :, 16, 6] - red_ab).norm() < 2 * MOVED


def test_reach_zero_is_the_paint_only_and_weak_strokes_pull_less():
    prep = prepare(two_regions())
    near = point(60.0, 64.0, RED, reach=0.0)
    f = prep.engine.field(HintDocument(strokes=[near]))
    paint = prep.engine.stroke_paint(near)[0]
    assert torch.equal(f.pull > 0, paint > 0) and torch.allclose(f.pull, paint.clamp(max=1.0))
    full = prep.engine.field(HintDocument(strokes=[point(60.0, 64.0, RED, id="b")])).pull
    half = prep.engine.field(HintDocument(strokes=[point(60.0, 64.0, RED, id="c", strength=0.5)])).pull
    assert torch.all(half <= full + 1e-6) and half[16, 15] < full[16, 15]


def test_the_hinted_target_keeps_a_share_of_the_networks_own_variation():
    # One flat region (uniform L*); the network shades it from green-ish to purple-ish across x.
    # A far-reaching red dab: between the hints the target is the hint's colour plus
    # `detail` times the network's own variation around what the propagation makes of it.
    L = np.full((H * SCALE, W * SCALE), 55.0)
    xs = torch.linspace(-1.0, 1.0, W)
    logits = torch.cat(
        [network_logits((-10.0 + 12.0 * float(x), -30.0), h=H, w=1) for x in xs], dim=3
    )  # (1, Q, H, W): the network's a runs from -22 to +2 across the image
    prep = prepare(L, logits)
    doc = HintDocument(strokes=[point(W * SCALE / 2, H * SCALE / 2, RED)])
    on = prep.engine.field(doc)
    mean = torch.einsum("qhw,qc->chw", torch.softmax(logits[0], 0), CENTRES.float())
    own = mean[0, H // 2, -4] - mean[0, H // 2, 3]  # the network's spread of a across the row
    got = on.target[0, H // 2, -4] - on.target[0, H // 2, 3]
    detail = prep.engine.params.detail
    assert 0.0 < detail < 1.0
    assert abs(float(got) - detail * float(own)) < 0.25 * detail * abs(float(own))
    prep.engine.params = replace(prep.engine.params, detail=0.0)
    prep.engine._field_key = None  # a new parameter: the cached field is stale
    flat = prep.engine.field(doc).target
    assert abs(float(flat[0, H // 2, -4] - flat[0, H // 2, 3])) < 0.1 * abs(float(own))


def test_a_weak_pull_gives_the_hint_a_smaller_share_of_the_drawn_marginals():
    # Paint only (reach 0) with a soft edge: the pull is the paint, so it takes every value
    # between 0 and 1 on the edge. The network puts ~0 mass near red, so the red mass of the
    # re-weighted marginals is the hint's share: pull^MIX_POWER (times the 99 % of q_t within
    # 3 sigma of the target).
    prep = prepare(two_regions())
    doc = HintDocument(
        strokes=[Stroke(points=[(60.0, 64.0)], radius=24.0, color=RED, hardness=0.0, reach=0.0)]
    )
    pull = prep.engine.field(doc).pull
    probs = torch.softmax(prep.logits(doc)[0], 0)  # (Q, h, w)
    red = torch.tensor(target_ab(RED, 35.0))
    share = probs[(CENTRES - red).norm(dim=1) < 3 * HINT_SIGMA].sum(0)
    edge = (pull > 0.05) & (pull < 0.95)
    assert edge.sum() >= 10
    want = pull[edge] ** MIX_POWER
    assert (share[edge] - want).abs().max() < 0.03
    weak = (pull > 0.05) & (pull < 0.3)
    assert weak.any() and torch.all(share[weak] < 0.5 * pull[weak])  # far below a linear share


def test_paint_mask_geometry():
    m = paint_mask(torch.tensor([[5.5, 5.5], [15.5, 5.5]]), 2.0, 1.0, (12, 20))
    assert m[5, 10] == 1.0 and m[5, 3] == pytest.approx(0.5) and m[5, 1] == 0 and m[9, 10] == 0
    soft = paint_mask(torch.tensor([[5.5, 5.5], [15.5, 5.5]]), 2.0, 0.0, (12, 20))
    assert soft[6, 10] < m[6, 10]
    # A point hint smaller than a pixel still marks its pixel.
    tiny = paint_mask(torch.tensor([[3.2, 4.9]]), 0.1, 1.0, (8, 8))
    assert tiny[4, 3] > 0.5 and tiny.sum() < 4
    assert paint_mask(torch.tensor([[-50.0, -50.0]]), 2.0, 1.0, (8, 8)).sum() == 0


def test_target_colour_is_taken_at_the_painted_lightness():
    # Saturated red at L* 30: same hue, chroma reduced into the gamut.
    a, b = target_ab((1.0, 0.0, 0.0), 30.0)
    lab_red = rgb_to_lab(np.array([1.0, 0.0, 0.0], dtype=np.float32))
    assert abs(np.arctan2(b, a) - np.arctan2(lab_red[2], lab_red[1])) < 1e-3
    assert np.hypot(a, b) < np.hypot(lab_red[1], lab_red[2])
    lin = lab_to_linear_rgb(np.array([30.0, a, b], dtype=np.float32))
    assert np.all(lin > -2e-3) and np.all(lin < 1.002)
    # At its own lightness and well inside the gamut: unchanged.
    mid = rgb_to_lab(np.array([0.5, 0.45, 0.4], dtype=np.float32))
    assert np.allclose(target_ab((0.5, 0.45, 0.4), float(mid[0])), mid[1:], atol=1e-3)


def test_engine_incremental_equals_from_scratch():
    logits, L = network_logits(), prepare(two_regions()).L_work
    eng = HintEngine(logits, CENTRES, L, IMAGE)
    doc = HintDocument(palette=[(0.2, 0.6, 0.2)], palette_strength=0.3)
    strokes = [
        point(40.0, 48.0, RED, id="s1"),
        Stroke(points=[(100.0, 20.0)], radius=10.0, color=(0.1, 0.7, 0.2), strength=0.6, id="s2"),
        Stroke(points=[(10.0, 80.0), (60.0, 90.0), (70.0, 60.0)], radius=4.0, color=(0.9, 0.8, 0.1), id="s3"),
    ]

    def same() -> bool:
        return torch.allclose(eng.apply(doc), apply_hints(logits, CENTRES, doc, L, IMAGE), atol=1e-4)

    for s in strokes:
        doc.add(s)
        assert same()
    # Editing one stroke in place (colour, reach, then geometry) is picked up.
    doc.strokes[1].color = (0.2, 0.2, 0.9)
    assert same()
    doc.strokes[1].reach = 2.0
    assert same()
    doc.strokes[2].points.append((90.0, 60.0))
    assert same()
    doc.remove("s1")
    assert same()


def test_removing_strokes_restores_the_logits():
    logits, L = network_logits(), prepare(two_regions()).L_work
    eng = HintEngine(logits, CENTRES, L, IMAGE)
    doc = HintDocument()
    assert torch.equal(eng.apply(doc), logits)
    doc.add(point(40.0, 48.0, RED, id="x"))
    hinted = eng.apply(doc)
    assert not torch.allclose(hinted, logits)
    doc.remove("x")
    assert torch.equal(eng.apply(doc), logits)
    with pytest.raises(KeyError):
        doc.remove("x")


def test_palette_mildly_favours_its_colours():
    green = (0.2, 0.7, 0.3)
    g_ab = torch.tensor(rgb_to_lab(np.array(green, dtype=np.float32))[1:])
    doc = HintDocument(palette=[green], palette_strength=0.5)
    L = prepare(two_regions()).L_work
    logits = network_logits(confidence=40.0)  # broad prediction: green keeps some mass
    before = annealed_mean(logits, CENTRES)[0, :, 5, 5]
    after = annealed_mean(apply_hints(logits, CENTRES, doc, L, IMAGE), CENTRES)[0, :, 5, 5]
    assert (after - g_ab).norm() < (before - g_ab).norm() - 1.0
    # A confident prediction is not overridden: a palette is a preference, not a hint.
    logits = network_logits(confidence=12.0)
    before = annealed_mean(logits, CENTRES)[0, :, 5, 5]
    after = annealed_mean(apply_hints(logits, CENTRES, doc, L, IMAGE), CENTRES)[0, :, 5, 5]
    assert (after - before).norm() < 1.0


def test_document_saturation_reaches_sampler_settings():
    st = HintDocument(saturation=0.5).sampler_settings(SamplerSettings(saturation=1.2))
    assert st.saturation == pytest.approx(0.6) and st.n == SamplerSettings().n


def test_json_round_trip(tmp_path):
    doc = HintDocument(saturation=1.3, palette=[(0.1, 0.2, 0.3)], palette_strength=0.7)
    doc.add(point(40.0, 48.0, RED, id="a", hardness=0.9, strength=0.4, reach=2.5))
    doc.add(Stroke(points=[(1.0, 2.0)], radius=3.0, color=(0.0, 1.0, 0.5), ab=(12.0, -7.5), id="b"))
    path = tmp_path / "hints.json"
    doc.to_json(path)
    data = json.loads(path.read_text())
    assert data["version"] == FORMAT_VERSION == 2 and data["strokes"][0]["reach"] == 2.5
    assert "spread" not in data["strokes"][0]
    back = HintDocument.from_json(path)
    assert back == doc
    copy = doc.copy()
    copy.strokes[0].points.append((0.0, 0.0))
    assert copy != doc


def test_hand_written_files_take_the_defaults_and_the_current_version(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text('{"strokes": [{"points": [[10, 20], [30, 40]], "radius": 12, "color": [0.8, 0.1, 0.1]}]}')
    doc = HintDocument.from_json(path)
    s = doc.strokes[0]
    defaults = Stroke(points=[(0.0, 0.0)], radius=1.0, color=(0.0, 0.0, 0.0))
    assert (
        (s.strength, s.hardness, s.reach, s.ab)
        == (
            defaults.strength,
            defaults.hardness,
            defaults.reach,
            None,
        )
        == (1.0, 0.5, 1.0, None)
    )
    assert s.id and (doc.saturation, doc.palette, doc.palette_strength) == (1.0, [], 0.5)
    # No "version": read as the current format, so "reach" is understood...
    d = json.loads(path.read_text())
    d["strokes"][0]["reach"] = 3.0
    assert HintDocument.from_dict(d).strokes[0].reach == 3.0
    # ...and saved with it.
    doc.to_json(path)
    assert json.loads(path.read_text())["version"] == FORMAT_VERSION


def test_version_1_files_call_reach_spread():
    d = {"version": 1, "strokes": [{"points": [[1, 2]], "radius": 3, "color": [0, 0, 1], "spread": 2.0}]}
    assert HintDocument.from_dict(d).strokes[0].reach == 2.0
    d["strokes"][0]["reach"] = 0.5  # both given: the current name wins
    assert HintDocument.from_dict(d).strokes[0].reach == 0.5


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(version=3),
        lambda d: d.update(version=True),
        lambda d: d["strokes"][0].update(radius=-1),
        lambda d: d["strokes"][0].update(color=[1.0, 0.0]),
        lambda d: d["strokes"][0].update(points=[]),
        lambda d: d["strokes"][0].update(strength="high"),
        lambda d: d["strokes"][0].update(reach=-0.5),
        lambda d: d["strokes"][0].pop("points"),
        lambda d: d["strokes"].append(dict(d["strokes"][0])),  # duplicate id
        lambda d: d.update(palette=[[2.0, 0.0, 0.0]]),
        lambda d: d.update(saturation=float("nan")),
    ],
)
def test_malformed_json_raises_value_error(mutate):
    d = HintDocument(strokes=[point(40.0, 48.0, RED, id="a")]).to_dict()
    mutate(d)
    with pytest.raises(ValueError):
        HintDocument.from_dict(d)


def test_not_json_raises_value_error(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ValueError):
        HintDocument.from_json(p)
    with pytest.raises(ValueError):
        HintDocument.from_dict([1, 2])


def test_suggest_colors_returns_distinct_modes():
    logits = torch.full((1, Q, 4, 4), -30.0)
    modes = {(40.0, 40.0): 0.0, (-40.0, 20.0): np.log(0.5), (0.0, -50.0): np.log(0.25)}
    for ab, lp in modes.items():
        k = int((CENTRES - torch.tensor(ab)).norm(dim=1).argmin())
        logits[0, k, 1, 2] = lp
        logits[0, k + 1, 1, 2] = lp - 1.0  # a neighbour bin: same suggestion, not a new one
    sugg = suggest_colors(logits, CENTRES, 60.0, x=2, y=1, k=3)
    assert len(sugg) == 3
    probs = [p for _, p in sugg]
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1.0, abs=1e-4)
    assert probs[0] == pytest.approx(1 / 1.75, abs=0.01)
    labs = [rgb_to_lab(np.array(rgb, dtype=np.float32)) for rgb, _ in sugg]
    assert all(abs(lab[0] - 60.0) < 3.0 for lab in labs)
    assert np.hypot(labs[0][1] - 40, labs[0][2] - 40) < 10
    for i in range(3):
        for j in range(i):
            assert np.hypot(*(labs[i][1:] - labs[j][1:])) > 15
    with pytest.raises(ValueError):
        suggest_colors(logits, CENTRES, 60.0, x=4, y=0)
