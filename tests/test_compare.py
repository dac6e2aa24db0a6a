"""`eval --compare`: several models, gray and the loss variants in one table, on photos made here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from polychrome.core.compare import CompareConfig, chosen_rule, compare, format_markdown
from polychrome.core.models import build_model


def _photos(root: Path) -> Path:
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        img = np.zeros((64, 80, 3), np.uint8)
        img[:32] = (70, 130, 220)
        img[32:] = (60, 150 - 30 * i, 50)
        Image.fromarray(np.clip(img + rng.integers(-8, 8, img.shape), 0, 255).astype(np.uint8)).save(
            root / f"p{i}.png"
        )
    return root


def test_compare_table_with_rebalancing_variants(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("polychrome-small").eval()
    prior = np.full(model.num_bins, 1.0 / model.num_bins)
    prior[:10] *= 20
    card = {"bin_prior": (prior / prior.sum()).tolist()}
    cfg = CompareConfig(size=64, n=2, temperatures=(0.38, 1.0), lams=(0.5,), gains=(2.0,))
    res = compare({"m": (model, card)}, _photos(tmp_path / "d"), cfg, progress=False)
    assert set(res["entries"]) == {
        "m",
        "m + rebalancing λ=0.5",
        "m, expected chroma",
        "m + rebalancing λ=0.5, expected chroma",
        "m, chroma gain 2",
    }
    assert res["images"] == 2
    e = res["entries"]["m"]
    assert len(e.by_t[0.38]["psnr"]) == 2 and np.isfinite(e.mean("ce")) and 0 <= e.ece() <= 1
    assert e.mean("network_ms") > 0 and np.isfinite(e.mean("best_of_n"))
    label, lam, t, chroma, gain = chosen_rule(res, "m", cfg)
    assert label in res["entries"] and t in cfg.temperatures and lam in (None, 0.5)
    assert chroma in ("mean", "expected") and res["variants"][label].chroma == chroma
    assert gain in (1.0, 2.0) and res["variants"][label].gain == gain
    # A chroma gain reads the same marginals and doubles the annealed mean's ab: more colourful.
    g2 = res["entries"]["m, chroma gain 2"]
    assert "ce" not in g2.scalars and "best_of_n" not in g2.scalars
    assert g2.mean("colourfulness", 1.0) >= e.mean("colourfulness", 1.0)
    # The expected-chroma rules read the same marginals: no second CE, and never greyer.
    ex = res["entries"]["m, expected chroma"]
    assert "ce" not in ex.scalars and ex.mean("colourfulness", 1.0) >= e.mean("colourfulness", 1.0) - 1e-6
    md = format_markdown(res, cfg, "polychrome eval d --compare m")
    assert "| Gray (ab = 0) |" in md and "| m + rebalancing λ=0.5 |" in md and "Best-guess rule" in md
    assert "| m, chroma gain 2 |" in md and f"gain {gain:g}" in md


def test_ece_of_a_perfectly_confident_right_model_is_zero() -> None:
    from polychrome.core.compare import Entry, _accumulate_calibration

    centres = torch.tensor([[0.0, 0.0], [30.0, 0.0]])
    gt_ab = np.zeros((2, 8, 8), np.float32)
    gt_ab[0, :, 4:] = 30.0
    logits = torch.full((1, 2, 2, 2), -50.0)
    logits[0, 0, :, 0], logits[0, 1, :, 1] = 50.0, 50.0  # left gray, right red: right everywhere
    e = Entry("x")
    _accumulate_calibration(e, logits, centres, gt_ab, 10)
    assert e.ece() < 1e-6
    wrong = logits.flip(1)  # confidently wrong everywhere: confidence 1, accuracy 0
    e2 = Entry("y")
    _accumulate_calibration(e2, wrong, centres, gt_ab, 10)
    assert e2.ece() > 0.99
