"""Training a marginal model (Zhang et al. 2016 loss) on a folder of colour photos.

Loss: multinomial cross-entropy between the predicted distribution
``(B, Q, h, w)`` and soft-encoded ground truth at 1/4 resolution, either plain
(calibrated marginals, what the sampler needs) or class-rebalanced (Zhang et al.).
Several training folders can be mixed with sampling weights.
Works on CPU, on CUDA with mixed precision, and under ``torchrun`` (one process
per GPU, DistributedDataParallel) without code changes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from .bins import ab_histogram, nearest_bin, rebalance_weights, smooth_over_ab, soft_encode
from .color import rgb_to_lab_torch
from .dataset import CropSampler, ImageFolderCache, load_folder
from .models.base import MarginalModel
from .models.registry import build_model, pick_device, save_model

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    train_dir: str | list[str]
    val_dir: str | None = None
    out_dir: str = "runs/polychrome-small"
    arch: str = "polychrome-small"
    steps: int = 10000
    batch_size: int = 32
    crop: int = 128
    cache_short_side: int = 192
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 200
    lam: float = 0.5
    loss: str = "rebalanced"  # or "plain": soft-encoded CE without class weights
    mix: list[float] | None = None  # sampling weight of each training folder
    encoder_lr_mult: float = 0.1  # pretrained encoders learn slower than the new decoder
    freeze_stem: bool = True  # pretrained stride-2/4 layers stay fixed (generic edges; saves backward)
    pretrained: bool = True  # initialise a pretrained-capable encoder from its weights package
    checkpoint_every: int = 250
    val_every: int = 1000
    val_images: int = 98
    val_short_side: int = 256
    seed: int = 0
    device: str = "auto"
    max_minutes: float | None = None  # stop (and checkpoint) after this wall time


def compute_prior(data: ImageFolderCache, centres: np.ndarray, sigma: float = 5.0) -> np.ndarray:
    """Empirical bin distribution ``(Q,)`` over a folder, smoothed over the ab plane."""
    counts = np.zeros(len(centres), dtype=np.float64)
    for img in data.images:
        # Every 6th pixel: the prior is smoothed over ab anyway, and a nearest-bin search
        # over all Q bins at full cache size took 20 min for 8k images on 2 cores.
        t = torch.from_numpy(img[::6, ::6].copy()).permute(2, 0, 1).float().div(255.0)[None]
        counts += ab_histogram(rgb_to_lab_torch(t)[:, 1:], centres)
    return smooth_over_ab(counts / counts.sum(), centres, sigma)


def rebalanced_ce(
    logits: torch.Tensor, ab: torch.Tensor, centres: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """Loss for logits ``(B, Q, h, w)`` against full-res ab ``(B, 2, H, W)``."""
    target_ab = F.adaptive_avg_pool2d(ab, (logits.shape[-2], logits.shape[-1]))
    z = soft_encode(target_ab, centres)
    logp = F.log_softmax(logits.float(), dim=1)
    ce = -(z * logp).sum(1)  # (B, h, w)
    if weights is not None:
        ce = ce * weights[nearest_bin(target_ab, centres)]
    return ce.mean()


@torch.no_grad()
def validation_loss(
    model: MarginalModel, data: ImageFolderCache, short_side: int, limit: int, weights: torch.Tensor | None
) -> float:
    """Mean rebalanced loss over whole validation images (no crops), in eval mode."""
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    total, n = 0.0, 0
    for img in data.images[:limit]:
        t = torch.from_numpy(img).permute(2, 0, 1).float().div(255.0)[None]
        h, w = t.shape[-2:]
        s = short_side / min(h, w)
        t = F.interpolate(t, size=(round(h * s), round(w * s)), mode="bilinear", antialias=True)
        lab = rgb_to_lab_torch(t.clamp(0, 1)).to(dev)
        logits = model(lab[:, :1])
        total += float(rebalanced_ce(logits, lab[:, 1:], model.centres, weights))
        n += 1
    model.train(was_training)
    return total / max(n, 1)


def _lr_at(step: int, cfg: TrainConfig, wall_s: float = 0.0) -> float:
    """Warm-up, then cosine to 2 % over whichever ends first: the steps or ``max_minutes``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    p = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    if cfg.max_minutes:
        # A shared or slow machine still ends its run annealed, not at full learning rate.
        p = max(p, wall_s / (cfg.max_minutes * 60))
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def train_dirs(cfg: TrainConfig) -> list[str]:
    return [cfg.train_dir] if isinstance(cfg.train_dir, str) else list(cfg.train_dir)


def load_training_mix(cfg: TrainConfig) -> tuple[ImageFolderCache, np.ndarray, list[dict]]:
    """Every training folder in one cache, per-image sampling probabilities ``(N,)``
    that give each folder its ``mix`` share, and per-folder counts for the card."""
    dirs = train_dirs(cfg)
    mix = list(cfg.mix) if cfg.mix else [1.0] * len(dirs)
    if len(mix) != len(dirs) or min(mix) < 0 or sum(mix) <= 0:
        raise ValueError(f"--mix needs one non-negative weight per training folder ({len(dirs)}), got {mix}")
    images: list[np.ndarray] = []
    names: list[str] = []
    probs: list[np.ndarray] = []
    skipped = {"tiny": 0, "gray": 0, "unreadable": 0}
    parts = []
    for d, w in zip(dirs, mix, strict=True):
        data = load_folder(Path(d), cfg.cache_short_side)
        images += data.images
        names += data.names
        probs.append(np.full(len(data), w / sum(mix) / max(1, len(data))))
        for k, v in data.skipped.items():
            skipped[k] = skipped.get(k, 0) + v
        parts.append({"folder": Path(d).name, "images": len(data), "share": round(w / sum(mix), 4)})
    p = np.concatenate(probs)
    return ImageFolderCache(images, names, skipped), p / p.sum(), parts


def _param_groups(model: MarginalModel, cfg: TrainConfig) -> list[dict]:
    """Decoder at ``lr``; a pretrained ``encoder.*`` at ``lr × encoder_lr_mult``."""
    enc: list[torch.nn.Parameter] = []
    rest: list[torch.nn.Parameter] = []
    frozen = (
        "encoder._conv_stem",
        "encoder._bn0",
        "encoder._blocks.0.",
        "encoder._blocks.1.",
        "encoder._blocks.2.",
    )
    for n, prm in model.named_parameters():
        if cfg.freeze_stem and hasattr(model, "init_pretrained") and n.startswith(frozen):
            prm.requires_grad_(False)
            continue
        (enc if n.startswith("encoder.") else rest).append(prm)
    groups = [{"params": rest, "lr_mult": 1.0}]
    if enc:
        groups.append({"params": enc, "lr_mult": cfg.encoder_lr_mult})
    return groups


def _card(
    cfg: TrainConfig,
    step: int,
    data: ImageFolderCache,
    history: list[dict],
    wall_before: float,
    t_start: float,
    parts: list[dict] | None = None,
    pretrained_encoder: bool = False,
    prior: np.ndarray | None = None,
) -> dict:
    """The training part of a model card: what a reader needs to reproduce the weights."""
    vals = [h for h in history if "val_loss" in h]
    loss = (
        "plain soft-encoded cross-entropy (5 neighbours, sigma 5)"
        if cfg.loss == "plain"
        else f"class-rebalanced soft cross-entropy (lambda {cfg.lam:g}, 5 neighbours, sigma 5)"
    )
    return {
        "arch": cfg.arch,
        "steps": step,
        "images_seen": step * cfg.batch_size,
        "train_dir": ", ".join(Path(d).name for d in train_dirs(cfg)),
        "train_mix": parts,
        "train_images": len(data),
        "skipped_images": data.skipped,
        "batch_size": cfg.batch_size,
        "crop": cfg.crop,
        "optimizer": f"AdamW lr {cfg.lr:g} (warm-up {cfg.warmup}, cosine), weight decay {cfg.weight_decay:g}"
        + (f"; pretrained encoder at {cfg.encoder_lr_mult:g}x" if pretrained_encoder else ""),
        "loss": loss,
        "wall_time_s": round(wall_before + time.time() - t_start, 1),
        "val_dir": Path(cfg.val_dir).name if cfg.val_dir else None,
        "val_loss": vals[-1]["val_loss"] if vals else None,
        "val_loss_step": vals[-1]["step"] if vals else None,
        # The smoothed training prior (Q,): rebalancing of these marginals can be studied without retraining.
        "bin_prior": None if prior is None else np.round(prior, 8).tolist(),
    }


def _dist_info() -> tuple[int, int, int]:
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        return int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"]), int(os.environ["WORLD_SIZE"])
    return 0, 0, 1


def train(cfg: TrainConfig, resume: bool = True) -> Path:
    """Train (or resume) and return the path of the final safetensors weights."""
    rank, local_rank, world = _dist_info()
    if world > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        device = torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    else:
        device = pick_device(cfg.device)
    is_main = rank == 0
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed + rank)

    t0 = time.time()
    data, probs, parts = load_training_mix(cfg)
    if is_main:
        log.info(
            "training images: %d usable, skipped %d near-grayscale, %d tiny (<%d px), %d unreadable (%.0fs)",
            len(data),
            data.skipped["gray"],
            data.skipped["tiny"],
            128,
            data.skipped["unreadable"],
            time.time() - t0,
        )
    val = (
        load_folder(Path(cfg.val_dir), max(cfg.val_short_side, cfg.cache_short_side)) if cfg.val_dir else None
    )

    model = build_model(cfg.arch)
    pretrained_encoder = cfg.pretrained and hasattr(model, "init_pretrained")
    if pretrained_encoder and not (resume and (out / "checkpoint.pt").is_file()):
        model.init_pretrained()  # type: ignore[operator]
    model = model.to(device)
    if device.type == "cpu":
        # Depthwise convolutions run markedly faster channels-last on CPU.
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
    centres_np = model.centres.cpu().numpy()
    prior_path = out / "prior.npy"
    if prior_path.is_file():
        prior = np.load(prior_path)
    else:
        prior = compute_prior(data, centres_np)
        if is_main:
            np.save(prior_path, prior)
    if cfg.loss not in ("plain", "rebalanced"):
        raise ValueError(f"loss must be 'plain' or 'rebalanced', got {cfg.loss!r}")
    weights = None
    if cfg.loss == "rebalanced":
        weights = torch.as_tensor(rebalance_weights(prior, cfg.lam), device=device)

    opt = torch.optim.AdamW(_param_groups(model, cfg), lr=cfg.lr, weight_decay=cfg.weight_decay)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    step = 0
    wall_before = 0.0  # training wall time of earlier runs resumed from
    ckpt = out / "checkpoint.pt"
    history: list[dict] = []
    if resume and ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        step = int(state["step"])
        wall_before = float(state.get("wall_s", 0.0))
        hist_path = out / "history.json"
        history = json.loads(hist_path.read_text()) if hist_path.is_file() else []
        if is_main:
            log.info("resumed from %s at step %d", ckpt, step)

    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[local_rank] if device.type == "cuda" else None
        )
    sampler = CropSampler(data, cfg.crop, seed=cfg.seed * 1000 + rank + step, probs=probs)
    per_rank_batch = max(1, cfg.batch_size // world)

    def save_checkpoint() -> None:
        if not is_main:
            return
        tmp = ckpt.with_suffix(".tmp")
        wall = wall_before + time.time() - t_start
        torch.save(
            {"model": model.state_dict(), "optim": opt.state_dict(), "step": step, "wall_s": wall}, tmp
        )
        tmp.replace(ckpt)
        (out / "history.json").write_text(json.dumps(history, indent=1))
        (out / "config.json").write_text(json.dumps(asdict(cfg), indent=1))

    model.train()
    bar = tqdm(total=cfg.steps, initial=step, disable=not is_main, dynamic_ncols=True, mininterval=5)
    t_start, imgs, ema = time.time(), 0, None
    while step < cfg.steps:
        L, ab = sampler.sample(per_rank_batch)
        L, ab = L.to(device, non_blocking=True), ab.to(device, non_blocking=True)
        lr_now = _lr_at(step, cfg, wall_before + time.time() - t_start)
        for g in opt.param_groups:
            g["lr"] = lr_now * g.get("lr_mult", 1.0)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
            logits = net(L)
        loss = rebalanced_ce(logits, ab, model.centres, weights)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        step += 1
        imgs += per_rank_batch * world
        lv = float(loss.detach())
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        rate = imgs / max(1e-6, time.time() - t_start)
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.3f}", img_s=f"{rate:.1f}")
        if is_main and step % 50 == 0:
            log.info("step %d loss %.4f lr %.2e %.1f img/s", step, ema, lr_now, rate)
        entry: dict = {}
        if val is not None and is_main and (step % cfg.val_every == 0 or step == cfg.steps):
            entry["val_loss"] = validation_loss(model, val, cfg.val_short_side, cfg.val_images, weights)
            log.info("step %d val_loss %.4f", step, entry["val_loss"])
        if entry or step % cfg.checkpoint_every == 0:
            history.append(
                {
                    "step": step,
                    "train_loss": ema,
                    "wall_s": round(wall_before + time.time() - t_start, 1),
                    **entry,
                }
            )
        # Total wall time over every resumed run, the clock the learning-rate schedule anneals by:
        # resuming with a larger --max-minutes continues the same schedule (a warm restart).
        out_of_time = (
            cfg.max_minutes is not None and (wall_before + time.time() - t_start) > cfg.max_minutes * 60
        )
        if world > 1 and cfg.max_minutes is not None:
            # Every rank must stop at the same step, or the others hang in the next all-reduce.
            flag = torch.tensor([float(out_of_time)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or out_of_time:
            save_checkpoint()
            if is_main:
                save_model(
                    model,
                    out / f"{cfg.arch}.safetensors",
                    _card(cfg, step, data, history, wall_before, t_start, parts, pretrained_encoder, prior),
                )
        if out_of_time:
            log.info("stopping at step %d: --max-minutes reached", step)
            break
    bar.close()
    if world > 1:
        dist.destroy_process_group()
    return out / f"{cfg.arch}.safetensors"
