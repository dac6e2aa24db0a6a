"""PolyNet and the model registry: shapes, aspect ratio, safetensors round trip."""

from __future__ import annotations

import json

import pytest
import torch

from polychrome.core.bins import gamut_bins
from polychrome.core.models import (
    ModelNotFoundError,
    available_models,
    build_model,
    load_model,
    registry,
    save_model,
)
from polychrome.core.models.polynet import PolyNet


@pytest.mark.parametrize("hw", [(64, 64), (61, 97), (20, 13)])
def test_output_is_quarter_resolution_any_aspect(hw: tuple[int, int]) -> None:
    m = PolyNet().eval()
    with torch.inference_mode():
        out = m(torch.rand(2, 1, *hw) * 100)
    assert out.shape == (2, 261, -(-hw[0] // 4), -(-hw[1] // 4))
    assert torch.isfinite(out).all()


def test_bad_input_shape_is_explained() -> None:
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        PolyNet()(torch.rand(1, 3, 32, 32))


def test_centres_come_from_the_model() -> None:
    m = PolyNet()
    assert torch.equal(m.centres, torch.from_numpy(gamut_bins()))
    assert "centres" not in m.state_dict()  # architecture, not weights


def test_safetensors_round_trip(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(registry, "user_models_dir", lambda: tmp_path)
    m = build_model("polychrome-small").eval()
    save_model(m, tmp_path / "mine.safetensors", {"arch": "polychrome-small", "steps": 3})
    card = json.loads((tmp_path / "mine.json").read_text())
    assert card["steps"] == 3 and len(card["bin_centres"]) == 261
    assert "mine" in available_models()
    loaded = load_model("mine", device="cpu")
    x = torch.rand(1, 1, 32, 48) * 100
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), m(x))


def test_missing_model_message(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(registry, "user_models_dir", lambda: tmp_path)
    with pytest.raises(ModelNotFoundError, match="weights download eccv16"):
        load_model("eccv16", device="cpu")


def test_shipped_model_is_present_and_loads() -> None:
    models = available_models()
    assert "polychrome-small" in models, "the shipped model must be in models/"
    m = load_model("polychrome-small", device="cpu")
    assert m.num_bins == 261
