"""`polychrome weights`: list model weights, download or import the official Zhang et al. ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models.registry import ModelInfo

OFFICIAL_NAMES = ("eccv16", "siggraph17")  # kept here so `--help` needs no torch import


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="list, download or import model weights")
    wsub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)

    ls = wsub.add_parser("list", help="list the models with weights on this machine")
    ls.set_defaults(func=run_list)

    dl = wsub.add_parser(
        "download", help="download the official Zhang et al. weights (needs the network once)"
    )
    dl.add_argument("name", choices=OFFICIAL_NAMES)
    dl.add_argument(
        "--dest", type=Path, default=None, help="folder for the converted weights (default: user cache)"
    )
    dl.add_argument("--no-progress", action="store_true", help="no progress bar")
    dl.set_defaults(func=run_download)

    im = wsub.add_parser("import", help="verify and convert an official .pth downloaded elsewhere")
    im.add_argument("name", choices=OFFICIAL_NAMES)
    im.add_argument("file", type=Path, help="the .pth file, e.g. colorization_release_v2-9b330a0b.pth")
    im.add_argument(
        "--dest", type=Path, default=None, help="folder for the converted weights (default: user cache)"
    )
    im.add_argument(
        "--allow-unofficial",
        action="store_true",
        help="accept a file with the official layout but another hash (e.g. your own fine-tuning)",
    )
    im.set_defaults(func=run_import)

    pk = wsub.add_parser("pack", help="copy weights from a training run into a models folder, for shipping")
    pk.add_argument(
        "weights", type=Path, help="NAME.safetensors written by `polychrome train` (card beside it)"
    )
    pk.add_argument("--dest", type=Path, required=True, help="folder to write into (e.g. models/)")
    pk.add_argument("--name", default=None, help="model name (default: the file's stem)")
    pk.add_argument("--fp16", action="store_true", help="store float tensors as float16 (half the size)")
    pk.add_argument("--prior", type=Path, default=None, help="the run's prior.npy, kept in the card")
    pk.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="best-guess (annealed-mean) temperature chosen on dev, kept in the card",
    )
    pk.add_argument(
        "--rebalance-lambda",
        type=float,
        default=None,
        help="best guess from the marginals corrected by class rebalancing with this lambda (needs --prior)",
    )
    pk.add_argument(
        "--chroma",
        choices=("mean", "expected"),
        default=None,
        help="best guess: the annealed mean's chroma, or the marginals' expected chroma at its hue",
    )
    pk.add_argument(
        "--gain",
        type=float,
        default=None,
        help="best guess: chroma gain on the chosen point estimate (chosen on dev by `eval --compare`)",
    )
    pk.set_defaults(func=run_pack)


def _fail(message: str) -> int:
    # One line, no traceback: these are user-facing conditions, not bugs.
    print(f"polychrome weights: error: {' '.join(message.split())}", file=sys.stderr)
    return 1


def _message(e: BaseException) -> str:
    # KeyError's str() wraps its message in quotes.
    return str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)


def _num_bins(info: ModelInfo) -> str:
    from ..models import registry

    if "bin_centres" in info.card:
        return str(len(info.card["bin_centres"]))
    try:
        import torch

        with torch.device("meta"):
            return str(registry.build_model(info.arch).num_bins)
    except (KeyError, ValueError, RuntimeError):
        return "?"


def run_list(args: argparse.Namespace) -> int:
    from ..models import registry

    models = registry.available_models()
    shipped = registry.shipped_models_dir().resolve()
    rows = [("NAME", "SOURCE", "ARCH", "Q", "PATH")]
    for name, info in models.items():
        if info.weights.resolve().parent == shipped:
            source = "shipped"
        else:
            source = str(info.card.get("source", "downloaded"))
            if info.card.get("official") is False:
                source += " (unofficial)"
        rows.append((name, source, info.arch, _num_bins(info), str(info.weights)))
    if len(rows) == 1:
        print("No model weights on this machine.")
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    missing = [n for n in OFFICIAL_NAMES if n not in models]
    if missing:
        print(
            f"Not on this machine: {', '.join(missing)} (get them with `polychrome weights download NAME`)."
        )
    return 0


def run_download(args: argparse.Namespace) -> int:
    from ..models.download import DownloadError, WeightsError, download_official

    try:
        path = download_official(args.name, args.dest, progress=not args.no_progress)
    except (DownloadError, WeightsError, OSError) as e:
        return _fail(_message(e))
    print(f"{args.name}: {path}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ..models.download import WeightsError, import_official

    try:
        path = import_official(args.name, args.file, args.dest, allow_unofficial=args.allow_unofficial)
    except (WeightsError, OSError, KeyError) as e:
        return _fail(_message(e))
    print(f"{args.name}: {path}")
    return 0


def run_pack(args: argparse.Namespace) -> int:
    import numpy as np

    from ..models.registry import pack_model

    updates: dict = {}
    try:
        if args.prior is not None:
            updates["bin_prior"] = np.round(np.load(args.prior, allow_pickle=False), 8).tolist()
        rule: dict = {}
        if args.temperature is not None:
            if not args.temperature > 0:
                return _fail("--temperature must be positive")
            rule["temperature"] = args.temperature
        if args.rebalance_lambda is not None:
            if not 0 <= args.rebalance_lambda <= 1:
                return _fail("--rebalance-lambda must be in [0, 1]")
            if "bin_prior" not in updates:
                return _fail("--rebalance-lambda needs the training prior: pass --prior RUN/prior.npy")
            rule["rebalance_lambda"] = args.rebalance_lambda
        if args.chroma is not None:
            rule["chroma"] = args.chroma
        if args.gain is not None:
            if not args.gain > 0:
                return _fail("--gain must be positive")
            rule["gain"] = args.gain
        if rule:
            updates["best_guess"] = rule
        dest = pack_model(args.weights, args.dest, args.name, args.fp16, updates)
    except (OSError, ValueError, RuntimeError) as e:
        return _fail(_message(e))
    print(f"packed {dest} ({dest.stat().st_size / 2**20:.1f} MiB)")
    return 0
