"""Training on a tiny synthetic folder: skips, loss, checkpoints and resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from polychrome.core.dataset import load_folder
from polychrome.core.train import TrainConfig, rebalanced_ce, train


def _make_folder(root: Path, rng: np.random.Generator) -> Path:
    root.mkdir()
    for i in range(4):
        img = np.zeros((140, 170, 3), np.uint8)
        img[:70] = (60, 120, 220)  # sky-ish top
        img[70:] = (40, 150, 50)  # foliage-ish bottom
        img = np.clip(img + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / f"c{i}.png")
    Image.fromarray(np.full((150, 150, 3), 128, np.uint8)).save(root / "gray.png")
    Image.fromarray(np.full((60, 90, 3), (200, 10, 10), np.uint8)).save(root / "tiny.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


def test_folder_skips_are_counted(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = _make_folder(tmp_path / "data", rng)
    data = load_folder(folder, short_side=128, use_cache=False)
    assert len(data) == 4
    assert data.skipped == {"gray": 1, "tiny": 1, "unreadable": 1}


def test_loss_is_zero_gradient_at_the_target() -> None:
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [20.0, 0.0], [0.0, 20.0]])
    ab = torch.zeros(1, 2, 8, 8)
    good = torch.full((1, 6, 2, 2), -10.0)
    good[:, 0] = 10.0
    bad = torch.full((1, 6, 2, 2), -10.0)
    bad[:, 5] = 10.0
    assert rebalanced_ce(good, ab, centres, None) < rebalanced_ce(bad, ab, centres, None)


@pytest.mark.slow
def test_train_checkpoint_resume(tmp_path: Path, rng: np.random.Generator, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = _make_folder(tmp_path / "data", rng)
    cfg = TrainConfig(
        train_dir=str(folder),
        val_dir=str(folder),
        out_dir=str(tmp_path / "run"),
        steps=24,
        batch_size=4,
        crop=64,
        cache_short_side=128,
        lr=3e-3,
        warmup=2,
        checkpoint_every=12,
        val_every=12,
        val_short_side=128,
        device="cpu",
    )
    weights = train(cfg)
    hist = json.loads((tmp_path / "run" / "history.json").read_text())
    assert weights.is_file() and hist[-1]["step"] == 24
    assert hist[-1]["val_loss"] < hist[0]["val_loss"]  # learns sky-over-foliage
    cfg.steps = 30
    train(cfg)  # resumes at 24, not from scratch
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 30


@pytest.mark.slow
def test_torchrun_two_processes_cpu(tmp_path: Path, rng: np.random.Generator) -> None:
    """The same command under torchrun (2 ranks, gloo on CPU) trains and writes one model."""
    import os
    import subprocess
    import sys

    folder = _make_folder(tmp_path / "data", rng)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "polychrome.core.cli", "train", str(folder), "--out", str(tmp_path / "run"),
        "--steps", "4", "--batch-size", "4", "--crop", "64", "--checkpoint-every", "2", "--device", "cpu",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 4
    assert (tmp_path / "run" / "polychrome-small.safetensors").is_file()
