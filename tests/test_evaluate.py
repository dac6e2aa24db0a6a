"""`polychrome eval` end to end on a tiny folder, with a random-init model injected."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from polychrome.core import eval_hints as H
from polychrome.core import evaluate as E
from polychrome.core.color import rgb_to_lab
from polychrome.core.models import build_model
from polychrome.desktop.cli import main


def _write_photos(folder: Path, rng: np.random.Generator, count: int = 3) -> None:
    """Colour images with flat coloured shapes on a shaded background (so regions exist)."""
    folder.mkdir()
    for i in range(count):
        h, w = 72 + 8 * i, 96
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([60 + x, 90 + 0 * x, 140 + y // 2], -1).astype(np.float32)
        img[10:40, 10:50] = rng.uniform(0, 255, 3)
        img[45:, 55:] = rng.uniform(0, 255, 3)
        img += rng.normal(0, 2, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"img{i}.png")
    (folder / "notes.txt").write_text("not an image")


@pytest.fixture
def photos(tmp_path: Path, rng: np.random.Generator) -> Path:
    _write_photos(tmp_path / "photos", rng)
    return tmp_path / "photos"


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("polychrome-small").eval()


def test_simulated_hints_are_reproducible_and_inside(rng):
    gt = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    lab = rgb_to_lab(gt / 255.0)
    a = H.simulate_hints(lab, 20, 6, np.random.default_rng(7))
    b = H.simulate_hints(lab, 20, 6, np.random.default_rng(7))
    assert a == b
    for h in a:
        assert 0 <= h.y <= 24 and 0 <= h.x <= 34
        np.testing.assert_allclose(h.lab, lab[h.y : h.y + 6, h.x : h.x + 6].reshape(-1, 3).mean(0), atol=1e-3)
    mask, ab = H.levin_hint_maps(a[:1], (30, 40))
    assert mask.sum() == 36 and np.allclose(ab[:, mask], np.array(a[0].lab[1:])[:, None])
    strokes = H.hint_strokes(a[:2], 3.0)
    assert len(strokes) == 2 and strokes[0].points[0] == (a[0].x + 3.0, a[0].y + 3.0)


def test_evaluate_all_metrics_finite(photos, model):
    cfg = E.EvalConfig(size=64, n=3, hints=(0, 2), seed=1, hint_reaches=(1.0, 2.0))
    res = E.evaluate(model, photos, cfg, progress=False)
    assert res.images == ["img0.png", "img1.png", "img2.png"]
    for row in res.per_image:
        for key, v in row.items():
            assert math.isfinite(v), key
    # Gray is gray; with no hints both hint curves start at their baselines.
    assert res.mean("gray/colourfulness") < 1.0
    assert res.mean("hints/polychrome-r1/0") == pytest.approx(res.mean("best/psnr"))
    assert res.mean("hints/polychrome-r2/0") == pytest.approx(res.mean("best/psnr"))
    assert res.mean("hints/polychrome-r2/2") > 0
    assert res.mean("hints/levin/0") == pytest.approx(res.mean("gray/psnr"))
    for stage in ("network", "sampler", "upsample", "hints", "levin", "independent"):
        assert res.timings_ms[stage] > 0
    # Same config, same numbers (fixed seeds).
    again = E.evaluate(model, photos, replace(cfg, limit=1), progress=False)
    assert again.per_image[0] == pytest.approx(res.per_image[0])


def test_eval_cli_writes_tables(photos, model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("polychrome.core.models.load_model", lambda name, device: model)
    out = tmp_path / "docs" / "RESULTS.md"
    out.parent.mkdir()
    out.write_text("# Results\n\nhand-written intro\n")
    args = [
        "eval",
        str(photos),
        "--size",
        "64",
        "--n",
        "3",
        "--hints",
        "0,2",
        "--hint-reach",
        "1,2",
        "--limit",
        "2",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    table = capsys.readouterr().out
    for col in (
        "PSNR (dB)",
        "SSIM",
        "AuC",
        "Colourfulness ratio",
        "Coherence (ab)",
        "Best-of-3 PSNR",
        "Diversity (ab)",
        "Gray (ab = 0)",
        "Independent per-pixel sampling",
        "Levin et al. 2004",
        "Polychrome + hints, reach 1",
        "Polychrome + hints, reach 2",
        "Δ reach 1",
        "| Method | 0 | 2 |",
        "Recolour one object",
        "Network",
        "Sampler",
        "Upsample",
        "Command: `polychrome eval",
    ):
        assert col in table, col
    body = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith("| Method")]
    for ln in body:
        cells = [c.strip() for c in ln.strip("|").split("|")[1:]]
        assert all(c and c not in ("nan", "–") for c in cells), ln
    text = out.read_text()
    assert text.startswith("# Results\n\nhand-written intro") and "<!-- eval:begin -->" in text
    # A second run replaces the section in place.
    assert main(args) == 0
    assert out.read_text().count("<!-- eval:begin -->") == 1


def test_eval_cli_errors(tmp_path, model, monkeypatch, capsys):
    monkeypatch.setattr("polychrome.core.models.load_model", lambda name, device: model)
    (tmp_path / "empty").mkdir()
    assert main(["eval", str(tmp_path / "empty")]) == 2
    assert main(["eval", str(tmp_path / "missing")]) == 2
    assert main(["eval", str(tmp_path), "--n", "1"]) == 2
    with pytest.raises(SystemExit):
        main(["eval", str(tmp_path), "--hints", "1,x"])
    with pytest.raises(SystemExit):
        main(["eval", str(tmp_path), "--hint-reach", "-1"])


def test_write_section(tmp_path):
    p = tmp_path / "r.md"
    E.write_section(p, "bench", "| a |\n")
    E.write_section(p, "eval", "| b |\n")
    E.write_section(p, "bench", "| c |\n")
    text = p.read_text()
    assert "| a |" not in text and "| b |" in text and text.index("| c |") < text.index("| b |")
