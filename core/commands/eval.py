"""`polychrome eval`: the evaluation protocol (DESIGN.md section 5) on a folder of colour photos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import add_threads_option, apply_threads


def _int_list(text: str) -> tuple[int, ...]:
    try:
        vals = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from e
    if any(v < 0 for v in vals):
        raise argparse.ArgumentTypeError("hint counts must be non-negative")
    return vals


def _float_list(text: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from e
    if not vals or any(not v >= 0 for v in vals):
        raise argparse.ArgumentTypeError("reaches must be non-negative numbers")
    return vals


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="measure colourisation quality on a folder of colour photos",
        description="Converts every colour photo in DIR to L, colourises it and compares with the original: "
        "PSNR/SSIM/AuC/colourfulness of the best guess, best-of-N/diversity/coherence of N samples, "
        "PSNR vs. simulated hints, baselines (gray, independent sampling, Levin et al. 2004) and "
        "time per stage. Prints a markdown table and writes it to --out.",
    )
    p.add_argument("dir", type=Path, help="folder of colour photographs (ground truth)")
    p.add_argument("--model", default=None, help="model name (default: the shipped polychrome-lite0)")
    p.add_argument(
        "--limit", type=int, default=None, help="evaluate only the first K images (sorted by name)"
    )
    p.add_argument("--size", type=int, default=256, help="short side of GT and network input (default 256)")
    p.add_argument("--n", type=int, default=8, help="samples per image (default 8)")
    p.add_argument(
        "--hints", type=_int_list, default=(0, 1, 2, 5, 10, 20, 50), help="hint counts, e.g. 0,1,2,5"
    )
    p.add_argument(
        "--hint-reach",
        type=_float_list,
        default=(1.0,),
        help="Reach of Polychrome's simulated strokes, as the editor's Reach slider / 100 (1 = the "
        "default brush, fills the object; 0 = the paint only); one curve per value, e.g. 1,2 (default 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for sampler and simulated hints (default 0)")
    p.add_argument(
        "--compare",
        default=None,
        metavar="MODEL,MODEL",
        help="instead of the full protocol, compare these models (and gray) in one table: quality with the "
        "annealed-mean temperature chosen on DIR, cross-entropy, calibration, best-of-N, network time, skin "
        "on faces; written to the 'q1' section of --out",
    )
    p.add_argument("--out", type=Path, default=None, help="markdown file to write the tables into")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    add_threads_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    from ..evaluate import EvalConfig, evaluate, write_section
    from ..models import DEFAULT_MODEL, ModelNotFoundError, load_model

    if args.n < 2 or args.size < 16 or (args.limit is not None and args.limit < 1):
        print("polychrome eval: need --n >= 2, --size >= 16, --limit >= 1", file=sys.stderr)
        return 2
    apply_threads(args)
    if args.compare:
        return _run_compare(args)
    name = args.model or DEFAULT_MODEL
    try:
        model = load_model(name, args.device)
    except (ModelNotFoundError, RuntimeError) as e:
        print(f"polychrome eval: {e}", file=sys.stderr)
        return 2
    cfg = EvalConfig(
        size=args.size,
        n=args.n,
        hints=args.hints,
        limit=args.limit,
        seed=args.seed,
        hint_reaches=args.hint_reach,
    )
    try:
        res = evaluate(model, args.dir, cfg, model_name=name)
    except FileNotFoundError as e:
        print(f"polychrome eval: {e}", file=sys.stderr)
        return 2
    res.command = (
        f"polychrome eval {args.dir} --model {name} --size {args.size} --n {args.n} "
        f"--hints {','.join(str(k) for k in args.hints)} "
        f"--hint-reach {','.join(f'{v:g}' for v in args.hint_reach)} "
        f"--seed {args.seed} --device {args.device}"
        + (f" --limit {args.limit}" if args.limit else "")
        + (f" --threads {args.threads}" if args.threads else "")
    )
    table = res.to_markdown()
    print(table)
    if args.out is not None:
        write_section(args.out, "eval", table)
        print(f"written to {args.out}", file=sys.stderr)
    return 0


def _run_compare(args: argparse.Namespace) -> int:
    from ..compare import CompareConfig, compare, format_markdown
    from ..evaluate import write_section
    from ..models import ModelNotFoundError, available_models, load_model

    names = [n.strip() for n in args.compare.split(",") if n.strip()]
    infos = available_models()
    try:
        models = {n: (load_model(n, args.device), infos[n].card if n in infos else {}) for n in names}
    except (ModelNotFoundError, RuntimeError) as e:
        print(f"polychrome eval: {e}", file=sys.stderr)
        return 2
    cfg = CompareConfig(size=args.size, n=args.n, limit=args.limit, seed=args.seed)
    try:
        res = compare(models, args.dir, cfg)
    except FileNotFoundError as e:
        print(f"polychrome eval: {e}", file=sys.stderr)
        return 2
    command = (
        f"polychrome eval {args.dir} --compare {','.join(names)} --size {args.size} --n {args.n} "
        f"--seed {args.seed} --device {args.device}"
        + (f" --limit {args.limit}" if args.limit else "")
        + (f" --threads {args.threads}" if args.threads else "")
    )
    table = format_markdown(res, cfg, command)
    print(table)
    if args.out is not None:
        write_section(args.out, "q1", table)
        print(f"written to {args.out}", file=sys.stderr)
    return 0
