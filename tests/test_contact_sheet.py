"""Contact sheets and the skin measures of `eval --compare`, on images made here or shipped by packages."""

from __future__ import annotations

import math

import numpy as np
import torch

from polychrome.core.color import rgb_to_lab
from polychrome.core.contact_sheet import age_print, load_rows, render, render_results
from polychrome.core.models import build_model
from polychrome.core.sampler import SamplerSettings
from polychrome.core.skin import Face, face_warmth_contrast, skin_fraction


def test_aged_print_is_sepia_faded_and_keeps_the_picture() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, 32:] = 255
    img[:, :32] = (0, 0, 0)
    aged = age_print(img, seed=1)
    lab = rgb_to_lab(aged.astype(np.float32) / 255)
    # Faded: paper white (L 100) comes out near 12 + 0.78 * 100 = 90 on average (grain is zero-mean).
    assert 86 < lab[:, 32:, 0].mean() < 94
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))
    assert np.median(hue) > 45 and np.median(np.hypot(lab[..., 1], lab[..., 2])) > 8  # sepia
    assert 9 < lab[:, :32, 0].mean() < 16  # no deep black (L 0 -> about 12)
    assert np.array_equal(aged, age_print(img, seed=1))


def test_sheet_has_a_row_per_photo_and_a_column_per_model() -> None:
    torch.manual_seed(0)
    rows = load_rows(["skimage:camera", "aged:skimage:chelsea"], short_side=64)
    assert rows[0].truth is None and rows[1].truth is not None and rows[1].shown is not None
    assert "aged" in rows[1].label
    model = build_model("polychrome-small").eval()
    sheet = render(rows, {"a": model, "b": model}, cell=80)
    assert sheet.size == (4 * 80, 18 + 2 * (80 + 18))


def test_results_sheet_shows_the_grids_results_best_guess_first() -> None:
    torch.manual_seed(0)
    rows = load_rows(["skimage:chelsea"], short_side=48)
    model = build_model("polychrome-small").eval()
    sheet = render_results(rows, model, SamplerSettings(n=3, iterations=5), cell=60)
    assert sheet.size == (5 * 60, 18 + (60 + 18))
    px = np.asarray(sheet).astype(int)
    tiles = [px[18 + 18 + 5 : 18 + 18 + 30, j * 60 + 5 : j * 60 + 40] for j in range(5)]
    gray = tiles[1]
    assert np.abs(gray - gray.mean(-1, keepdims=True)).max() <= 2  # the input is gray
    for t in tiles[2:]:  # every result is coloured, unlike the input
        assert np.abs(t - t.mean(-1, keepdims=True)).mean() > 1


def _faces_image(face_ab: tuple[float, float], bg_ab: tuple[float, float]) -> np.ndarray:
    ab = np.zeros((2, 100, 100), np.float32)
    ab[0], ab[1] = bg_ab
    ab[0, 30:70, 30:70], ab[1, 30:70, 30:70] = face_ab
    return ab


def test_skin_fraction_and_warmth() -> None:
    face = [Face(30, 30, 40, 40)]
    skin = _faces_image((14.0, 18.0), (-20.0, 5.0))  # warm skin on a green background
    green_face = _faces_image((-15.0, 10.0), (-20.0, 5.0))
    warm_everywhere = _faces_image((14.0, 18.0), (14.0, 18.0))
    assert skin_fraction(skin, face) == 1.0 and skin_fraction(green_face, face) == 0.0
    assert face_warmth_contrast(skin, face) > 15
    assert abs(face_warmth_contrast(warm_everywhere, face)) < 1e-4  # a cast is not skin
    assert math.isnan(skin_fraction(skin, [])) and math.isnan(face_warmth_contrast(skin, []))
