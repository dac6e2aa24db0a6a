"""Training the semantic model: several folders with sampling weights, plain loss,
encoder learning-rate factor, frozen stem, and one real optimisation step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from polychrome.core.dataset import CropSampler, ImageFolderCache
from polychrome.core.models import build_model
from polychrome.core.train import TrainConfig, _lr_at, _param_groups, load_training_mix, train


def _folder(root: Path, colour: tuple[int, int, int], n: int) -> Path:
    root.mkdir(parents=True)
    for i in range(n):
        img = np.zeros((150, 180, 3), np.uint8)
        img[:] = colour
        img[:, : 20 + 10 * i] = (240, 240, 240)  # a luminance edge so images differ
        Image.fromarray(img).save(root / f"{root.name}{i}.png")
    return root


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # load_folder caches decoded images in the user cache: keep the tests' out of the real one.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_mix_gives_each_folder_its_share(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", (200, 40, 40), 6)
    b = _folder(tmp_path / "b", (40, 40, 200), 2)
    cfg = TrainConfig(train_dir=[str(a), str(b)], mix=[0.25, 0.75], cache_short_side=128)
    data, probs, parts = load_training_mix(cfg)
    assert len(data) == 8 and probs.shape == (8,)
    assert probs.sum() == pytest.approx(1.0)
    from_b = np.array([n.startswith("b") for n in data.names])
    assert probs[from_b].sum() == pytest.approx(0.75)
    assert [p["share"] for p in parts] == [0.25, 0.75] and [p["images"] for p in parts] == [6, 2]
    # The sampler follows the probabilities: with a fixed seed, 2,000 draws land within
    # 5 standard deviations (sd = sqrt(2000 * 0.75 * 0.25) ≈ 19) of 1,500 from b.
    sampler = CropSampler(data, 64, seed=3, probs=probs)
    draws = [int(sampler.rng.choice(len(data), p=probs)) for _ in range(2000)]
    assert abs(int(from_b[draws].sum()) - 1500) < 5 * 19.4


def test_mix_must_match_the_folders(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", (200, 40, 40), 1)
    with pytest.raises(ValueError, match="one non-negative weight per training folder"):
        load_training_mix(TrainConfig(train_dir=[str(a)], mix=[0.5, 0.5], cache_short_side=128))
    img = np.zeros((130, 130, 3), np.uint8)
    with pytest.raises(ValueError, match="one probability per image"):
        CropSampler(ImageFolderCache([img, img], ["x", "y"]), 64, probs=np.array([0.5, 0.6]))


def test_time_limit_anneals_the_schedule() -> None:
    cfg = TrainConfig(train_dir="x", lr=1e-3, warmup=10, steps=100_000, max_minutes=10)
    assert _lr_at(5, cfg) == pytest.approx(6e-4)  # warm-up
    assert _lr_at(20, cfg, wall_s=0.0) == pytest.approx(1e-3, rel=1e-3)
    assert _lr_at(20, cfg, wall_s=300.0) == pytest.approx(1e-3 * (0.02 + 0.98 * 0.5), rel=1e-6)
    assert _lr_at(20, cfg, wall_s=600.0) == pytest.approx(2e-5)  # annealed when time is up


def test_param_groups_freeze_the_stem_and_slow_the_encoder() -> None:
    net = build_model("polychrome-lite0")
    groups = _param_groups(net, TrainConfig(train_dir="x", encoder_lr_mult=0.1))
    assert [g["lr_mult"] for g in groups] == [1.0, 0.1]
    assert not net.encoder._conv_stem.weight.requires_grad
    assert not net.encoder._blocks[2]._project_conv.weight.requires_grad
    assert net.encoder._blocks[3]._project_conv.weight.requires_grad
    enc_ids = {id(p) for p in groups[1]["params"]}
    assert id(net.encoder._blocks[15]._project_conv.weight) in enc_ids
    assert id(net.head.weight) in {id(p) for p in groups[0]["params"]}


@pytest.mark.slow
def test_one_training_run_of_the_semantic_model(tmp_path: Path) -> None:
    torch.manual_seed(0)
    a = _folder(tmp_path / "a", (200, 40, 40), 2)
    b = _folder(tmp_path / "b", (40, 40, 200), 2)
    cfg = TrainConfig(
        train_dir=[str(a), str(b)],
        mix=[0.5, 0.5],
        out_dir=str(tmp_path / "run"),
        arch="polychrome-lite0",
        steps=2,
        batch_size=2,
        crop=96,
        cache_short_side=128,
        warmup=1,
        loss="plain",
        pretrained=False,
        checkpoint_every=1,
        val_every=1000,
    )
    torch.manual_seed(cfg.seed)  # train() seeds the same way before building the model
    init = build_model("polychrome-lite0").state_dict()
    weights = train(cfg)
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["arch"] == "polychrome-lite0" and card["steps"] == 2
    assert card["loss"].startswith("plain") and [p["share"] for p in card["train_mix"]] == [0.5, 0.5]
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 2 and len(state["optim"]["param_groups"]) == 2
    from safetensors.torch import load_file

    sd = load_file(str(weights))
    assert all(torch.isfinite(v).all() for v in sd.values() if v.is_floating_point())
    # The optimiser moved the decoder and the encoder, and left the frozen stem alone.
    assert not torch.equal(sd["head.weight"], init["head.weight"])
    k = "encoder._blocks.12._expand_conv.weight"
    assert not torch.equal(sd[k], init[k])
    assert torch.equal(sd["encoder._conv_stem.weight"], init["encoder._conv_stem.weight"])
    assert len(card["bin_prior"]) == 261 and abs(sum(card["bin_prior"]) - 1) < 1e-4

    # Packed for shipping as float16 with the chosen temperature: loads and predicts the same
    # up to float16 rounding of the weights (relative 2^-11 per weight; measured 3e-4 of the
    # logits' range here, asserted 1e-2). A wrong or unloaded tensor gives differences of order 1.
    from polychrome.core.cli import main
    from polychrome.core.models.registry import load_weights_file

    dest = tmp_path / "shipped"
    assert (
        main(
            [
                "weights",
                "pack",
                str(weights),
                "--dest",
                str(dest),
                "--name",
                "mine",
                "--fp16",
                "--temperature",
                "0.5",
                "--gain",
                "2",
            ]
        )
        == 0
    )
    packed = json.loads((dest / "mine.json").read_text())
    assert packed["best_guess"] == {"temperature": 0.5, "gain": 2.0} and packed["storage"] == "float16"
    assert (dest / "mine.safetensors").stat().st_size < 0.6 * weights.stat().st_size
    a = load_weights_file(weights, "polychrome-lite0", card)
    b = load_weights_file(dest / "mine.safetensors", "polychrome-lite0", packed)
    x = torch.rand(1, 1, 64, 64) * 100
    with torch.no_grad():
        ya, yb = a(x), b(x)
    assert (ya - yb).abs().max() < 1e-2 * ya.abs().max()
    assert main(["weights", "pack", str(weights), "--dest", str(dest), "--temperature", "0"]) == 1
    assert main(["weights", "pack", str(weights), "--dest", str(dest), "--gain", "-1"]) == 1
