"""`polychrome colorize`: full-resolution colourisations of one or more files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..formats import EXPORT_KEYS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "colorize",
        aliases=["colourise"],
        help="colourise grayscale photos (best guess, or -n diverse samples)",
        description="Writes the annealed-mean colourisation of every input at full resolution; with -n N, "
        "N diverse samples per input (sample 0 is the best guess).",
    )
    p.add_argument("inputs", nargs="+", type=Path, help="image files")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--model", default=None, help="model name (default: the shipped polychrome-lite0)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--format", dest="fmt", default="png", choices=EXPORT_KEYS)
    p.add_argument("--quality", type=int, default=92, help="JPEG quality (1-100)")
    p.add_argument("-n", type=int, default=1, help="number of results per input (default 1: best guess)")
    p.add_argument("--seed", type=int, default=0, help="random seed for -n > 1 (same seed, same results)")
    p.add_argument("--diversity", type=float, default=1.0, help="0 = draws in order .. 1 = farthest apart")
    p.add_argument(
        "--temperature", type=float, default=None, help="sampling temperature (default: sampler's)"
    )
    p.add_argument("--hints", type=Path, default=None, help="hint document (JSON) to apply to every input")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..colorize import ColorizeOptions, Colorizer
    from ..models import DEFAULT_MODEL, ModelNotFoundError

    if args.n < 1:
        print("polychrome colorize: -n must be at least 1", file=sys.stderr)
        return 2
    if not 1 <= args.quality <= 100:
        print("polychrome colorize: --quality must be between 1 and 100", file=sys.stderr)
        return 2
    try:
        colorizer = Colorizer.from_name(args.model or DEFAULT_MODEL, args.device)
        options = ColorizeOptions(
            n=args.n,
            seed=args.seed,
            diversity=args.diversity,
            temperature=args.temperature,
            fmt=args.fmt,
            quality=args.quality,
            overwrite=args.overwrite,
        )
        if args.hints is not None:
            options.hints = Colorizer.read_hints(args.hints)
    except json.JSONDecodeError as e:
        print(f"polychrome colorize: {args.hints}: not valid JSON ({e})", file=sys.stderr)
        return 2
    except (ModelNotFoundError, RuntimeError, ValueError, OSError) as e:
        print(f"polychrome colorize: {e}", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    failures = 0
    bar = tqdm(args.inputs, unit="file", disable=len(args.inputs) < 2, file=sys.stderr)
    for path in bar:
        bar.set_description(path.name)
        try:
            result = colorizer.colorize_file(path, args.output, options)
        except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch
            failures += 1
            tqdm.write(f"FAILED {path}: {e}", file=sys.stderr)
            continue
        for notice in result.notices:
            tqdm.write(f"note: {path.name}: {notice}", file=sys.stderr)
        for out in result.outputs:
            tqdm.write(str(out))
    if failures:
        print(f"{failures} of {len(args.inputs)} file(s) failed", file=sys.stderr)
        return 1
    return 0
