"""`polychrome bench`: latency and memory of the pipeline stages, with same-run baselines."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import add_threads_option, apply_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="time the pipeline stages (network, sampler, hints, 12 MP export)",
        description="Times the network, the sampler, a hint refresh and a 12 MP upsample + compose + export "
        "on a synthetic image, each next to a simple baseline measured in the same run; prints a markdown "
        "table. --device auto runs on CPU and, when available, on CUDA.",
    )
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    add_threads_option(p)
    p.add_argument("--model", default=None, help="model name (default: the shipped polychrome-lite0)")
    p.add_argument(
        "--repeats", type=int, default=5, help="timed calls per stage, after one warm-up (default 5)"
    )
    p.add_argument("--format", dest="fmt", default="png", choices=["png", "jpg", "tif"], help="export format")
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repeat (a smoke test, not a measurement)"
    )
    p.add_argument("--out", type=Path, default=None, help="markdown file to write the table into")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..benchmark import BenchConfig, run_benchmark
    from ..evaluate import write_section
    from ..models import DEFAULT_MODEL, ModelNotFoundError, build_model, load_model
    from ..models.registry import ARCHITECTURES

    if args.repeats < 1:
        print("polychrome bench: --repeats must be at least 1", file=sys.stderr)
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("polychrome bench: CUDA was requested but no CUDA device is available", file=sys.stderr)
        return 2
    apply_threads(args)
    name = args.model or DEFAULT_MODEL
    notes = []
    try:
        model = load_model(name, "cpu")
    except ModelNotFoundError as e:
        if name not in ARCHITECTURES:
            print(f"polychrome bench: {e}", file=sys.stderr)
            return 2
        # Timing does not depend on the weights' values, only on the architecture.
        model = build_model(name).eval()
        notes.append(
            f"no weights for {name!r} on this machine: timed with random weights (same architecture)"
        )
    devices = [torch.device(args.device)] if args.device != "auto" else [torch.device("cpu")]
    if args.device == "auto" and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    cfg = BenchConfig.quick() if args.quick else BenchConfig()
    cfg.repeats = 1 if args.quick else args.repeats
    cfg.export_fmt = args.fmt
    res = run_benchmark(model, devices, cfg)
    res.notes = notes + res.notes
    cmd = (
        f"polychrome bench --device {args.device} --model {name} --repeats {cfg.repeats} --format {args.fmt}"
    )
    cmd += (f" --threads {args.threads}" if args.threads else "") + (" --quick" if args.quick else "")
    table = f"Command: `{cmd}` · model `{name}`\n\n" + res.to_markdown()
    print(table)
    if args.out is not None:
        write_section(args.out, "bench", table)
        print(f"written to {args.out}", file=sys.stderr)
    return 0
