"""`polychrome train`: train a marginal model on a folder of colour photos."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import add_threads_option, apply_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a marginal model on a folder of colour photos")
    p.add_argument("train_dir", type=Path, nargs="+", help="folder(s) of colour photographs")
    p.add_argument(
        "--mix",
        type=float,
        nargs="+",
        default=None,
        help="sampling weight of each training folder, in order (default: equal per image)",
    )
    p.add_argument("--val", dest="val_dir", type=Path, help="validation folder (e.g. ../shared/data/dev)")
    p.add_argument("--arch", default="polychrome-small", help="architecture name (default polychrome-small)")
    p.add_argument("--out", dest="out_dir", type=Path, default=Path("runs/polychrome-small"))
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--cache-short-side", type=int, default=192, help="short side images are decoded at")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up steps")
    p.add_argument(
        "--loss",
        choices=["plain", "rebalanced"],
        default="rebalanced",
        help="plain soft-encoded CE (calibrated marginals) or class-rebalanced CE (Zhang et al.)",
    )
    p.add_argument("--lam", type=float, default=0.5, help="rebalancing lambda (with --loss rebalanced)")
    p.add_argument("--encoder-lr-mult", type=float, default=0.1, help="pretrained encoder's LR factor")
    p.add_argument(
        "--no-pretrained",
        action="store_true",
        help="start a pretrained-capable encoder from random weights (no weights package needed)",
    )
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--max-minutes", type=float, default=None, help="stop cleanly after this much wall time")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--seed", type=int, default=0)
    add_threads_option(p)
    p.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    apply_threads(args)
    from ..train import TrainConfig, train

    cfg = TrainConfig(
        train_dir=[str(d) for d in args.train_dir],
        mix=args.mix,
        cache_short_side=args.cache_short_side,
        warmup=args.warmup,
        loss=args.loss,
        lam=args.lam,
        encoder_lr_mult=args.encoder_lr_mult,
        pretrained=not args.no_pretrained,
        val_dir=str(args.val_dir) if args.val_dir else None,
        out_dir=str(args.out_dir),
        arch=args.arch,
        steps=args.steps,
        batch_size=args.batch_size,
        crop=args.crop,
        lr=args.lr,
        val_every=args.val_every,
        checkpoint_every=args.checkpoint_every,
        max_minutes=args.max_minutes,
        device=args.device,
        seed=args.seed,
    )
    path = train(cfg, resume=not args.no_resume)
    print(f"weights: {path}")
    return 0
