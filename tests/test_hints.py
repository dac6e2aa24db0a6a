"""Colour hints: re-weighting, edge-aware reach, incremental engine, JSON, suggestions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from polychrome.core.bins import annealed_mean, gamut_bins
from polychrome.core.color import lab_to_linear_rgb, rgb_to_lab
from polychrome.core.hints import (
    HintDocument,
    HintEngine,
    Stroke,
    apply_hints,
    geodesic_spread,
    paint_mask,
    suggest_colors,
    target_ab,
)
from polychrome.core.sampler import SamplerSettings

CENTRES = torch.from_numpy(gamut_bins())
Q = CENTRES.shape[0]
H, W = 24, 36  # working resolution
IMAGE = (144, 96)  # full-res (W, H): 4x the working resolution
BLUE = torch.tensor([-10.0, -30.0])


def scene(confidence: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two regions of different L (left dark, right light), both predicted blue."""
    L = torch.full((1, 1, H, W), 30.0)
    L[..., W // 2 :] = 70.0
    logits = (-((CENTRES - BLUE) ** 2).sum(1) / (2 * confidence**2)).view(1, Q, 1, 1).expand(1, Q, H, W)
    return logits.contiguous(), L


def mean_ab(logits: torch.Tensor) -> torch.Tensor:
    return annealed_mean(logits, CENTRES)[0]  # (2, H, W)


def red_stroke(**kw) -> Stroke:
    # Full-res x 40..56 -> working x 10..14, three working pixels from the L edge at x = 18.
    args = dict(points=[(40.0, 48.0), (56.0, 48.0)], radius=6.0, color=(0.85, 0.1, 0.1), spread=2.0)
    args.update(kw)
    return Stroke(**args)


def test_stroke_moves_its_region_and_not_the_other():
    logits, L = scene()
    doc = HintDocument(strokes=[red_stroke()])
    out = apply_hints(logits, CENTRES, doc, L, IMAGE)
    before, after = mean_ab(logits), mean_ab(out)
    target = torch.tensor(HintEngine(logits, CENTRES, L, IMAGE).stroke_target(doc.strokes[0]))
    # Painted pixels and their same-L neighbourhood (up to the edge) take the hint colour...
    for x in (11, 14, 17):
        assert (after[:, 12, x] - target).norm() < 12.0
    # ...the other region, right across the luminance edge, is untouched.
    assert (after[:, :, W // 2 :] - before[:, :, W // 2 :]).norm(dim=0).max() < 0.5
    # Far away in the same region the influence has decayed.
    assert (after[:, 12, 0] - before[:, 12, 0]).norm() < (after[:, 12, 14] - before[:, 12, 14]).norm()


def test_a_colour_with_zero_probability_can_be_imposed():
    logits, L = scene(confidence=3.0)  # red bins get logits around -500
    stroke = red_stroke(ab=(55.0, 45.0), spread=0.0, radius=8.0)
    p_before = torch.softmax(logits[0, :, 12, 12], 0)
    assert p_before[(CENTRES - torch.tensor([55.0, 45.0])).norm(dim=1) < 15].sum() < 1e-30
    out = apply_hints(logits, CENTRES, HintDocument(strokes=[stroke]), L, IMAGE)
    assert (mean_ab(out)[:, 12, 12] - torch.tensor([55.0, 45.0])).norm() < 8.0
    # Half strength still pulls most of the way.
    half = apply_hints(
        logits, CENTRES, HintDocument(strokes=[red_stroke(ab=(55.0, 45.0), strength=0.5)]), L, IMAGE
    )
    assert (mean_ab(half)[:, 12, 12] - torch.tensor([55.0, 45.0])).norm() < 20.0


def test_spread_zero_stays_inside_the_paint_and_spread_reaches_along_the_region():
    logits, L = scene()
    eng = HintEngine(logits, CENTRES, L, IMAGE)
    m0, _ = eng.stroke_mask(red_stroke(spread=0.0, id="a"))
    m2, _ = eng.stroke_mask(red_stroke(spread=2.0, id="b"))
    assert m0[12, 12] > 0.99 and m0[12, 5] == 0 and m0[3, 12] == 0
    assert m2[12, 6] > 0.2 and m2[8, 12] > 0.2  # reaches ~ spread * radius within the dark region
    assert m2[12, 0] == 0 and m2[0, 12] == 0  # and not much further
    assert torch.all(m2[:, W // 2 :] == 0)  # never across the L* edge of 40
    assert torch.all(m2 >= m0)


def test_paint_mask_geometry():
    m = paint_mask(torch.tensor([[5.5, 5.5], [15.5, 5.5]]), 2.0, 1.0, (12, 20))
    assert m[5, 10] == 1.0 and m[5, 3] == pytest.approx(0.5) and m[5, 1] == 0 and m[9, 10] == 0
    soft = paint_mask(torch.tensor([[5.5, 5.5], [15.5, 5.5]]), 2.0, 0.0, (12, 20))
    assert soft[6, 10] < m[6, 10]
    # A point hint smaller than a pixel still marks its pixel.
    tiny = paint_mask(torch.tensor([[3.2, 4.9]]), 0.1, 1.0, (8, 8))
    assert tiny[4, 3] > 0.5 and tiny.sum() < 4
    assert paint_mask(torch.tensor([[-50.0, -50.0]]), 2.0, 1.0, (8, 8)).sum() == 0


def test_geodesic_spread_is_blocked_by_edges():
    L = torch.full((20, 20), 50.0)
    L[:, 10] = 90.0  # a thin bright wall
    paint = torch.zeros(20, 20)
    paint[10, 5] = 1.0
    m = geodesic_spread(paint, L, length=3.0)
    assert m[10, 5] == 1.0 and abs(m[10, 8] - np.exp(-1.0)) < 1e-5  # 3 px along flat L
    assert m[10, 12] == 0.0  # behind the wall (cost 40 + 40)


def test_target_colour_is_taken_at_the_painted_lightness():
    # Saturated red at L* 30: same hue, chroma reduced into the gamut.
    a, b = target_ab((1.0, 0.0, 0.0), 30.0)
    lab_red = rgb_to_lab(np.array([1.0, 0.0, 0.0], dtype=np.float32))
    assert abs(np.arctan2(b, a) - np.arctan2(lab_red[2], lab_red[1])) < 1e-3
    assert np.hypot(a, b) < np.hypot(lab_red[1], lab_red[2])
    lin = lab_to_linear_rgb(np.array([30.0, a, b], dtype=np.float32))
    assert np.all(lin > -2e-3) and np.all(lin < 1.002)
    # In gamut already: unchanged.
    mid = rgb_to_lab(np.array([0.5, 0.45, 0.4], dtype=np.float32))
    assert np.allclose(target_ab((0.5, 0.45, 0.4), float(mid[0])), mid[1:], atol=1e-4)


def test_engine_incremental_equals_from_scratch():
    logits, L = scene()
    eng = HintEngine(logits, CENTRES, L, IMAGE)
    doc = HintDocument(palette=[(0.2, 0.6, 0.2)], palette_strength=0.3)
    strokes = [
        red_stroke(id="s1"),
        Stroke(points=[(100.0, 20.0)], radius=10.0, color=(0.1, 0.7, 0.2), strength=0.6, id="s2"),
        Stroke(points=[(10.0, 80.0), (60.0, 90.0), (70.0, 60.0)], radius=4.0, color=(0.9, 0.8, 0.1), id="s3"),
    ]
    for s in strokes:
        doc.add(s)
        assert torch.allclose(eng.apply(doc), apply_hints(logits, CENTRES, doc, L, IMAGE), atol=1e-5)
    # Editing one stroke in place (colour, then geometry) is picked up.
    doc.strokes[1].color = (0.2, 0.2, 0.9)
    assert torch.allclose(eng.apply(doc), apply_hints(logits, CENTRES, doc, L, IMAGE), atol=1e-5)
    doc.strokes[2].points.append((90.0, 60.0))
    assert torch.allclose(eng.apply(doc), apply_hints(logits, CENTRES, doc, L, IMAGE), atol=1e-5)
    doc.remove("s1")
    assert torch.allclose(eng.apply(doc), apply_hints(logits, CENTRES, doc, L, IMAGE), atol=1e-5)


def test_removing_strokes_restores_the_logits():
    logits, L = scene()
    eng = HintEngine(logits, CENTRES, L, IMAGE)
    doc = HintDocument()
    assert torch.equal(eng.apply(doc), logits)
    doc.add(red_stroke(id="x"))
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
    logits, L = scene(confidence=40.0)  # broad prediction: green keeps some mass
    before, after = mean_ab(logits)[:, 5, 5], mean_ab(apply_hints(logits, CENTRES, doc, L, IMAGE))[:, 5, 5]
    assert (after - g_ab).norm() < (before - g_ab).norm() - 1.0
    # A confident prediction is not overridden: a palette is a preference, not a hint.
    logits, L = scene(confidence=12.0)
    before, after = mean_ab(logits)[:, 5, 5], mean_ab(apply_hints(logits, CENTRES, doc, L, IMAGE))[:, 5, 5]
    assert (after - before).norm() < 1.0


def test_document_saturation_reaches_sampler_settings():
    st = HintDocument(saturation=0.5).sampler_settings(SamplerSettings(saturation=1.2))
    assert st.saturation == pytest.approx(0.6) and st.n == SamplerSettings().n


def test_json_round_trip(tmp_path):
    doc = HintDocument(saturation=1.3, palette=[(0.1, 0.2, 0.3)], palette_strength=0.7)
    doc.add(red_stroke(id="a", hardness=0.9, strength=0.4))
    doc.add(Stroke(points=[(1.0, 2.0)], radius=3.0, color=(0.0, 1.0, 0.5), ab=(12.0, -7.5), id="b"))
    path = tmp_path / "hints.json"
    doc.to_json(path)
    assert json.loads(path.read_text())["version"] == 1
    back = HintDocument.from_json(path)
    assert back == doc
    copy = doc.copy()
    copy.strokes[0].points.append((0.0, 0.0))
    assert copy != doc


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("version"),
        lambda d: d.update(version=2),
        lambda d: d["strokes"][0].update(radius=-1),
        lambda d: d["strokes"][0].update(color=[1.0, 0.0]),
        lambda d: d["strokes"][0].update(points=[]),
        lambda d: d["strokes"][0].update(strength="high"),
        lambda d: d["strokes"][0].pop("points"),
        lambda d: d["strokes"].append(dict(d["strokes"][0])),  # duplicate id
        lambda d: d.update(palette=[[2.0, 0.0, 0.0]]),
        lambda d: d.update(saturation=float("nan")),
    ],
)
def test_malformed_json_raises_value_error(mutate):
    d = HintDocument(strokes=[red_stroke(id="a")]).to_dict()
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
