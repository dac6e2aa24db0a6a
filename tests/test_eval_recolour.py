"""The recolour probe (core/eval_recolour.py): the stroke it paints and what it measures."""

from __future__ import annotations

import math

import numpy as np
import torch

from polychrome.core import metrics as M
from polychrome.core.bins import gamut_bins
from polychrome.core.color import lab_to_rgb, rgb_to_lab
from polychrome.core.eval_recolour import recolour_probe, recolour_stroke, takes_hue
from polychrome.core.models.base import Marginals
from polychrome.core.prepared import PreparedImage
from polychrome.core.sampler import SamplerSettings

CENTRES = torch.from_numpy(gamut_bins())
H, W = 128, 192  # full resolution; the marginals are at a quarter of it


def test_takes_hue_needs_the_hue_and_some_chroma():
    ab = np.array([[[[30.0, 0.0], [0.0, 30.0], [3.0, 0.0], [25.0, 12.0]]]])  # (1, 1, 4, 2)
    assert takes_hue(ab, 0.0)[0, 0].tolist() == [True, False, False, True]  # 25.6 degrees is within 30


def test_the_stroke_sits_inside_the_object_in_the_opposite_hue():
    lab = np.zeros((H, W, 3), np.float32)
    lab[..., 0] = 50.0
    inside = np.zeros((H, W), bool)
    inside[20:100, 30:90] = True
    lab[inside, 1:] = (40.0, 20.0)
    stroke, hue = recolour_stroke(lab, inside)
    x, y = stroke.points[0]
    assert 30 + stroke.radius <= x <= 90 - stroke.radius and 20 + stroke.radius <= y <= 100 - stroke.radius
    opposite = math.degrees(math.atan2(20.0, 40.0)) + 180.0
    assert abs((hue - opposite + 180.0) % 360.0 - 180.0) < 10.0
    assert abs((hue - math.degrees(math.atan2(20.0, 40.0)) + 180.0) % 360.0 - 180.0) > 150.0


def test_one_stroke_on_a_separate_object_fills_it_and_leaks_little():
    # A red object (dark, left third) on a light gray-blue ground; the "network" predicts the
    # ground's colour everywhere with little confidence, so only the hint can recolour the object.
    lab = np.zeros((H, W, 3), np.float32)
    lab[..., 0] = 75.0
    lab[..., 1:] = (-5.0, -15.0)
    inside = np.zeros((H, W), bool)
    inside[:, : W // 3] = True
    lab[inside] = (40.0, 45.0, 30.0)
    gt = M.to_uint8(lab_to_rgb(lab))
    gt_lab = rgb_to_lab(gt.astype(np.float32) / 255.0)
    objects = inside.astype(np.int64)  # 0 = the object (a third of the image), 1 = the ground
    objects[~inside] = -1
    lg = -((CENTRES - torch.tensor([-5.0, -15.0])) ** 2).sum(1) / (2 * 15.0**2)
    logits = lg.view(1, -1, 1, 1).expand(1, -1, H // 4, W // 4).contiguous()
    prep = PreparedImage.from_marginals(Marginals(logits, CENTRES), gt_lab[..., 0])
    st = SamplerSettings(n=4, seed=1, iterations=20)
    best = M.to_uint8(prep.compose(prep.best_guess()))
    drawn = [M.to_uint8(prep.compose(a)) for a in prep.sample(st).ab[1:]]
    r = recolour_probe(prep, gt_lab, objects, st, best, drawn, np.random.default_rng(0))
    # The edge between the object and the ground is a 35 L* step: the hint stays on its side.
    assert r["recolour/best/fill"] > 0.9 and r["recolour/samples/fill"] > 0.9, r
    assert r["recolour/best/leak"] < 0.05 and r["recolour/samples/leak"] < 0.05, r


def test_no_object_of_the_probe_size_gives_no_figures():
    gt_lab = np.zeros((H, W, 3), np.float32)
    gt_lab[..., 0] = 50.0
    logits = torch.zeros(1, CENTRES.shape[0], H // 4, W // 4)
    prep = PreparedImage.from_marginals(Marginals(logits, CENTRES), gt_lab[..., 0])
    objects = np.zeros((H, W), np.int64)  # one object covering everything: too big
    best = np.zeros((H, W, 3), np.uint8)
    rng = np.random.default_rng(0)
    assert recolour_probe(prep, gt_lab, objects, SamplerSettings(n=2), best, [best], rng) == {}
