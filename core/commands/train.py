"""`polychrome train`: train a marginal model on a folder of colour photos."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import add_threads_option, apply_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a marginal model on a folder of colour photos")
    p.add_argument("train_dir", type=Path, help="folder of colour photographs")
    p.add_argument("--val", dest="val_dir", type=Path, help="validation folder (e.g. ../shared/data/dev)")
    p.add_argument("--arch", default="polychrome-small", help="architecture name (default polychrome-small)")
    p.add_argument("--out", dest="out_dir", type=Path, default=Path("runs/polychrome-small"))
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
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
        train_dir=str(args.train_dir),
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
