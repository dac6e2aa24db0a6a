"""`polychrome sheet`: a contact sheet comparing models' best guesses on chosen photos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import add_threads_option, apply_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sheet",
        help="contact sheet: ground truth | input | each model's best guess, one row per photo",
        description="PHOTO is a file, skimage:NAME (a photo scikit-image ships, e.g. skimage:camera) or "
        "aged:PHOTO (made to look like an old sepia print with grain before it is converted to gray).",
    )
    p.add_argument("photos", nargs="+", help="photos (see above)")
    p.add_argument("--models", default=None, help="comma-separated model names (default: the default model)")
    p.add_argument("--out", type=Path, required=True, help="output image (.jpg or .png)")
    p.add_argument("--size", type=int, default=256, help="short side the photos are colourised at")
    p.add_argument("--cell", type=int, default=200, help="tile size in the sheet (px)")
    p.add_argument(
        "--results",
        type=int,
        default=0,
        metavar="N",
        help="instead of best guesses: the first model's N results, as the editor's grid shows them",
    )
    p.add_argument("--seed", type=int, default=0, help="with --results: the sampler's seed")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    add_threads_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..contact_sheet import load_rows, render, render_results
    from ..models import DEFAULT_MODEL, ModelNotFoundError, load_model

    apply_threads(args)
    names = [n.strip() for n in (args.models or DEFAULT_MODEL).split(",") if n.strip()]
    try:
        models = {n: load_model(n, args.device) for n in names}
        rows = load_rows(args.photos, args.size)
    except (ModelNotFoundError, RuntimeError, OSError, AttributeError) as e:
        print(f"polychrome sheet: {e}", file=sys.stderr)
        return 2
    if args.results > 0:
        from ..sampler import SamplerSettings

        settings = SamplerSettings(n=args.results, seed=args.seed)
        sheet = render_results(rows, next(iter(models.values())), settings, args.cell)
    else:
        sheet = render(rows, models, args.cell)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    sheet.save(tmp, format="JPEG" if args.out.suffix.lower() in (".jpg", ".jpeg") else "PNG", quality=90)
    tmp.replace(args.out)
    print(f"written to {args.out}")
    return 0
