"""The Zhang et al. re-implementations: official layout, normalisation, bins, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from polychrome.core.bins import annealed_mean, expected_ab
from polychrome.core.models.registry import build_model
from polychrome.core.models.zhang import (
    ECCV16_LOGIT_SCALE,
    ECCV16Net,
    SIGGRAPH17Net,
    siggraph17_grid,
)

# Written out from the released files (richzhang/colorization, colorizers/*.py),
# independently of the model code, so a layout slip can't hide behind itself.
ECCV16_OFFICIAL = {
    "model1.0.weight": (64, 1, 3, 3),
    "model1.2.weight": (64, 64, 3, 3),
    "model1.4.running_var": (64,),
    "model3.4.weight": (256, 256, 3, 3),
    "model3.6.weight": (256,),
    "model5.0.weight": (512, 512, 3, 3),
    "model7.6.running_mean": (512,),
    "model8.0.weight": (512, 256, 4, 4),  # ConvTranspose2d(512, 256): (in, out, k, k)
    "model8.4.bias": (256,),
    "model8.6.weight": (313, 256, 1, 1),
    "model8.6.bias": (313,),
    "model_out.weight": (2, 313, 1, 1),
}
SIGGRAPH17_OFFICIAL = {
    "model1.0.weight": (64, 4, 3, 3),
    "model1.4.weight": (64,),
    "model4.6.running_var": (512,),
    "model8up.0.weight": (512, 256, 4, 4),
    "model3short8.0.weight": (256, 256, 3, 3),
    "model8.1.weight": (256, 256, 3, 3),
    "model8.5.running_mean": (256,),
    "model9up.0.weight": (256, 128, 4, 4),
    "model2short9.0.weight": (128, 128, 3, 3),
    "model9.1.weight": (128, 128, 3, 3),
    "model9.3.weight": (128,),
    "model10up.0.weight": (128, 128, 4, 4),
    "model1short10.0.weight": (128, 64, 3, 3),
    "model10.1.weight": (128, 128, 3, 3),
    "model_class.0.weight": (529, 256, 1, 1),
    "model_class.0.bias": (529,),
    "model_out.0.weight": (2, 128, 1, 1),
    "model_out.0.bias": (2,),
}


@pytest.fixture(scope="module")
def eccv16() -> ECCV16Net:
    torch.manual_seed(0)
    return ECCV16Net().eval()


@pytest.fixture(scope="module")
def siggraph17() -> SIGGRAPH17Net:
    torch.manual_seed(0)
    return SIGGRAPH17Net().eval()


def _L(h: int = 32, w: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 1, h, w, generator=g) * 100.0


def _input_of(module: torch.nn.Module, fn) -> torch.Tensor:
    """Run ``fn`` and return what ``module`` received as input."""
    seen: list[torch.Tensor] = []
    handle = module.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    try:
        with torch.no_grad():
            fn()
    finally:
        handle.remove()
    return seen[0]


def test_registered_by_name():
    assert isinstance(build_model("eccv16"), ECCV16Net)
    assert isinstance(build_model("siggraph17"), SIGGRAPH17Net)


def test_eccv16_official_keys_and_shapes(eccv16):
    sd = eccv16.state_dict()
    for key, shape in ECCV16_OFFICIAL.items():
        assert tuple(sd[key].shape) == shape, key
    # 23 convs (weight + bias), 7 BatchNorms (5 entries each), model_out without bias.
    assert len(sd) == 23 * 2 + 7 * 5 + 1
    assert "model_out.bias" not in sd
    assert "centres" not in sd  # derived from model_out, never stored twice
    assert 31e6 < sum(p.numel() for p in eccv16.parameters()) < 33e6


def test_siggraph17_official_keys_and_shapes(siggraph17):
    sd = siggraph17.state_dict()
    for key, shape in SIGGRAPH17_OFFICIAL.items():
        assert tuple(sd[key].shape) == shape, key
    # 31 convs (weight + bias), 9 BatchNorms (model1..model9).
    assert len(sd) == 31 * 2 + 9 * 5
    assert "centres" not in sd


def test_eccv16_forward_shape_and_input_normalisation(eccv16):
    L = _L(32, 40)
    with torch.no_grad():
        out = eccv16(L)
    assert out.shape == (1, 313, 8, 10)
    assert torch.isfinite(out).all()
    x = _input_of(eccv16.model1, lambda: eccv16(L))
    torch.testing.assert_close(x, (L - 50.0) / 100.0)


def test_eccv16_odd_sizes_keep_a_quarter_resolution(eccv16):
    with torch.no_grad():
        assert eccv16(_L(30, 37)).shape == (1, 313, 8, 10)
        assert eccv16(_L(9, 17)).shape == (1, 313, 3, 5)


def test_eccv16_logits_are_raw_conv8_divided_by_2606(eccv16):
    L = _L()
    with torch.no_grad():
        raw = eccv16.logits_from_l(L)
        torch.testing.assert_close(eccv16(L), raw / 2.606)
    assert ECCV16_LOGIT_SCALE == pytest.approx(2.606)


def test_eccv16_centres_follow_model_out_on_load():
    torch.manual_seed(1)
    src = ECCV16Net()
    centres = siggraph17_grid()[100:413]  # any 313 distinct ab points
    sd = src.state_dict()
    sd["model_out.weight"] = torch.from_numpy(centres.T / 110.0)[:, :, None, None].float()
    model = ECCV16Net.from_state_dict(sd)
    np.testing.assert_allclose(model.centres.numpy(), centres, atol=1e-4)
    assert not model.training
    # Given centres are written into model_out, so the pair never disagrees.
    built = ECCV16Net(centres=centres)
    torch.testing.assert_close(built.model_out.weight, sd["model_out.weight"])
    with pytest.raises(ValueError, match="313"):
        ECCV16Net(centres=np.zeros((261, 2), dtype=np.float32))


def test_eccv16_annealed_mean_reproduces_the_official_point_estimate(eccv16):
    # The release computes 110 * model_out(softmax(conv8)); with our logits (conv8 / 2.606)
    # and the recovered centres that is the annealed mean at T = 1 / 2.606.
    L = _L(24, 32, seed=3)
    with torch.no_grad():
        official = eccv16.official_ab(L)
        ours = annealed_mean(eccv16(L), eccv16.centres, T=1.0 / ECCV16_LOGIT_SCALE)
        plain = expected_ab(torch.softmax(eccv16.logits_from_l(L), 1), eccv16.centres)
    torch.testing.assert_close(ours, official, atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(plain, official, atol=1e-3, rtol=1e-4)


def test_siggraph17_grid_order_matches_encode_ab_ind():
    grid = siggraph17_grid()
    assert grid.shape == (529, 2) and grid.dtype == np.float32
    rng = np.random.default_rng(0)
    ab = rng.integers(-11, 12, size=(50, 2)) * 10.0
    # The authors' encoding: q = round((a + 110) / 10) * 23 + round((b + 110) / 10).
    q = np.round((ab[:, 0] + 110) / 10).astype(int) * 23 + np.round((ab[:, 1] + 110) / 10).astype(int)
    np.testing.assert_array_equal(grid[q], ab)
    np.testing.assert_array_equal(
        grid[[0, 1, 23, 528]], [[-110, -110], [-110, -100], [-100, -110], [110, 110]]
    )


def test_siggraph17_centres_are_fixed(siggraph17):
    np.testing.assert_array_equal(siggraph17.centres.numpy(), siggraph17_grid())
    SIGGRAPH17Net(centres=siggraph17_grid())  # the card's copy round-trips
    with pytest.raises(ValueError, match="fixed"):
        SIGGRAPH17Net(centres=siggraph17_grid()[::-1].copy())


def test_siggraph17_forward_regression_and_input_normalisation(siggraph17):
    L = _L(32, 40)
    with torch.no_grad():
        logits = siggraph17(L)
        ab = siggraph17.regress_ab(L)
    assert logits.shape == (1, 529, 8, 10)
    assert ab.shape == (1, 2, 32, 40)
    assert ab.abs().max() <= 110.0  # tanh * 110
    hints = torch.zeros(1, 2, 32, 40)
    hints[:, 0, 10:14, 10:14], hints[:, 1, 10:14, 10:14] = 55.0, -22.0
    mask = torch.zeros(1, 1, 32, 40)
    mask[:, :, 10:14, 10:14] = 1.0
    hinted: list[torch.Tensor] = []
    x = _input_of(siggraph17.model1, lambda: hinted.append(siggraph17.logits(L, hints, mask)))
    torch.testing.assert_close(x[:, :1], (L - 50.0) / 100.0)
    torch.testing.assert_close(x[:, 1:3], hints / 110.0)
    torch.testing.assert_close(x[:, 3:], mask + siggraph17.mask_offset)
    # A hint changes the answer; no hints given == zero hints and an empty mask.
    assert not torch.allclose(hinted[0], logits)
    with torch.no_grad():
        torch.testing.assert_close(
            siggraph17.logits(L, torch.zeros_like(hints), torch.zeros_like(mask)), logits
        )
        assert not torch.allclose(siggraph17.regress_ab(L, hints, mask), ab)


def test_siggraph17_pads_hints_with_no_hint(siggraph17):
    L = _L(30, 37)
    with torch.no_grad():
        assert siggraph17(L).shape == (1, 529, 8, 10)
        assert siggraph17.regress_ab(L).shape == (1, 2, 30, 37)
    x = _input_of(siggraph17.model1, lambda: siggraph17(L))
    assert x.shape == (1, 4, 32, 40)
    assert (x[:, 1:3, 30:, :] == 0).all() and (x[:, 1:3, :, 37:] == 0).all()
    assert (x[:, 3:, 30:, :] == siggraph17.mask_offset).all()


def test_siggraph17_rejects_mismatched_hints(siggraph17):
    with pytest.raises(ValueError, match="hints"):
        siggraph17.logits(_L(), torch.zeros(1, 2, 16, 16), torch.zeros(1, 1, 32, 32))


def test_siggraph17_mask_convention_is_the_release_demos():
    # colorizers/siggraph17.py (the code that names the released file) feeds the 0/1 mask
    # unshifted; the centred variant (mask - 0.5) belongs to colorization-pytorch's own
    # training runs. Changing this must be a deliberate decision, hence the pin.
    assert SIGGRAPH17Net.mask_offset == 0.0
