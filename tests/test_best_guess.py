"""A model's best-guess rule (temperature, optional rebalancing correction) travels in its card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from polychrome.core.bins import annealed_mean, gamut_bins, point_estimate
from polychrome.core.models import build_model, save_model
from polychrome.core.models.base import BestGuess
from polychrome.core.models.registry import load_weights_file
from polychrome.core.pipeline import best_guess_ab, predict_marginals


def _prior(centres: np.ndarray) -> np.ndarray:
    # A training prior dominated by the near-gray bins, as photographs are.
    chroma = np.hypot(centres[:, 0], centres[:, 1])
    p = np.exp(-chroma / 8.0)
    return p / p.sum()


def test_default_rule_is_the_annealed_mean() -> None:
    torch.manual_seed(0)
    logits, centres = torch.randn(1, 261, 4, 5), torch.as_tensor(gamut_bins())
    assert torch.allclose(BestGuess().ab(logits, centres), annealed_mean(logits, centres, 0.38))
    assert BestGuess.from_card({}) == BestGuess()


def test_expected_chroma_keeps_the_hue_and_undoes_the_hedge() -> None:
    centres = torch.tensor([[0.0, 0.0], [40.0, 0.0], [0.0, 40.0], [-40.0, 0.0]])
    # Half red (a+), half yellow-ish (b+): the mean is a duller orange at 45 degrees.
    logits = torch.log(torch.tensor([1e-6, 0.5, 0.5, 1e-6]))[None, :, None, None]
    mean = point_estimate(logits, centres, 1.0)[0, :, 0, 0]
    full = point_estimate(logits, centres, 1.0, "expected")[0, :, 0, 0]
    assert torch.allclose(mean, torch.tensor([20.0, 20.0]), atol=1e-3)
    assert abs(float(full.norm()) - 40.0) < 1e-2  # E|c| = 40, not |E c| = 28.3
    assert abs(float(torch.atan2(full[1], full[0])) - float(torch.atan2(mean[1], mean[0]))) < 1e-5
    # Sure marginals are unchanged; a gray mean stays gray.
    sure = torch.log(torch.tensor([1e-9, 1.0, 1e-9, 1e-9]))[None, :, None, None]
    assert torch.allclose(
        point_estimate(sure, centres, 1.0, "expected"), point_estimate(sure, centres, 1.0), atol=1e-3
    )
    gray = torch.log(torch.tensor([1.0, 1e-9, 1e-9, 1e-9]))[None, :, None, None]
    assert point_estimate(gray, centres, 1.0, "expected").norm() < 1e-3
    rule = BestGuess.from_card({"best_guess": {"temperature": 1.0, "chroma": "expected"}})
    assert rule.chroma == "expected" and torch.allclose(rule.ab(logits, centres)[0, :, 0, 0], full)
    with pytest.raises(ValueError, match="chroma"):
        BestGuess.from_card({"best_guess": {"chroma": "vivid"}})


def test_chroma_gain_scales_the_best_guess_and_travels_in_the_card() -> None:
    torch.manual_seed(1)
    logits, centres = torch.randn(1, 261, 3, 4), torch.as_tensor(gamut_bins())
    mean = point_estimate(logits, centres, 1.0)
    doubled = point_estimate(logits, centres, 1.0, gain=2.0)
    torch.testing.assert_close(doubled, 2.0 * mean)  # hue kept, chroma doubled
    rule = BestGuess.from_card({"best_guess": {"temperature": 1.0, "gain": 2.0}})
    assert rule.gain == 2.0 and torch.allclose(rule.ab(logits, centres), doubled)
    # The gain applies after the chroma rule.
    ex = point_estimate(logits, centres, 1.0, "expected")
    torch.testing.assert_close(point_estimate(logits, centres, 1.0, "expected", 1.5), 1.5 * ex)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="gain"):
            BestGuess.from_card({"best_guess": {"gain": bad}})
    with pytest.raises(ValueError, match="gain"):
        point_estimate(logits, centres, 1.0, gain=0.0)


def test_rebalancing_correction_makes_a_hedging_model_more_colourful() -> None:
    centres = gamut_bins()
    prior = _prior(centres)
    # Marginals of a model that leans to red but hedges towards the gray-heavy prior.
    red = (centres[:, 0] > 20) & (np.abs(centres[:, 1]) < 20)
    p = prior * np.where(red, 3.0, 1.0)
    logits = torch.log(torch.as_tensor(p / p.sum(), dtype=torch.float32))[None, :, None, None]
    card = {"bin_prior": prior.tolist(), "best_guess": {"temperature": 0.5, "rebalance_lambda": 0.5}}
    rule = BestGuess.from_card(card)
    assert rule.temperature == 0.5 and rule.rebalance_lambda == 0.5
    plain = BestGuess(0.5).ab(logits, torch.as_tensor(centres))[0, :, 0, 0]
    corrected = rule.ab(logits, torch.as_tensor(centres))[0, :, 0, 0]
    # The correction divides out most of the gray-heavy prior: the red lean becomes a clearly
    # redder best guess (a* up by more than 5 units), not a different hue.
    assert corrected[0] > plain[0] + 5.0 and corrected[0] > 0 and plain[0] > 0
    # Without a prior in the card the correction cannot be built and is left out, not guessed.
    assert BestGuess.from_card({"best_guess": {"rebalance_lambda": 0.5}}).log_weights is None


def test_loaded_model_carries_its_rule_into_the_pipeline(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("polychrome-small")
    path = tmp_path / "m.safetensors"
    save_model(model, path, {"best_guess": {"temperature": 0.9}})
    card = json.loads(path.with_suffix(".json").read_text())
    loaded = load_weights_file(path, "polychrome-small", card)
    assert loaded.best_guess.temperature == 0.9
    L = np.linspace(0, 100, 64 * 48, dtype=np.float32).reshape(48, 64)
    marg = predict_marginals(loaded, L)
    assert marg.best_guess.temperature == 0.9
    assert torch.allclose(best_guess_ab(marg), annealed_mean(marg.logits, marg.centres, 0.9))
    assert torch.allclose(best_guess_ab(marg, 0.38), annealed_mean(marg.logits, marg.centres, 0.38))
