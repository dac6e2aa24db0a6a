"""Subcommands of ``polychrome``; each module has ``register(sub)`` and sets ``func``."""

from __future__ import annotations

import argparse


def add_threads_option(p: argparse.ArgumentParser) -> None:
    """``--threads N``: torch's CPU thread count (default: torch's choice, one per core)."""
    p.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice, one per core)"
    )


def apply_threads(args: argparse.Namespace) -> None:
    """Set torch's CPU threads when ``--threads`` was given (at least 1)."""
    if args.threads is not None:
        import torch

        torch.set_num_threads(max(1, args.threads))
