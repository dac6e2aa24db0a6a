"""The ``polychrome`` command: the core subcommands, plus the desktop editor.

``polychrome`` opens the editor; ``polychrome PHOTO`` and ``polychrome open PHOTO``
open a photo (or a ``.polychrome`` session) in it; ``polychrome COMMAND ...`` runs
a subcommand of :mod:`polychrome.core.cli`. Qt is imported only when the editor opens,
so the subcommands run without it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from polychrome.core.cli import build_parser as build_core_parser
from polychrome.core.cli import setup_logging

GLOBAL_FLAGS = {"-v", "--verbose"}


def build_parser() -> argparse.ArgumentParser:
    parser = build_core_parser(
        "Colourise grayscale photographs. With no command, opens the desktop editor; "
        "with a photo or session (polychrome PHOTO), opens it in the editor."
    )
    sub = parser.get_default("subparsers")
    op = sub.add_parser(
        "open", help="open a photo or a saved session in the desktop editor (also: polychrome PHOTO)"
    )
    op.add_argument(
        "paths", nargs="+", metavar="PATH", help="photo or .polychrome session (the first is opened)"
    )
    op.set_defaults(func=_open)
    bench = sub.choices["bench"]
    bench.add_argument(
        "--gui",
        action="store_true",
        help="instead: the editor's responsiveness, driving the real window offscreen (largest GUI-thread "
        "gap while a 24 MP photo opens and resamples; stroke release to refreshed views on 12 MP)",
    )
    bench.add_argument(
        "--photo", type=Path, default=None, help="with --gui: the photo to scale up (default: a dev photo)"
    )
    core_bench = bench.get_default("func")
    bench.set_defaults(func=lambda args: _bench_gui(args) if args.gui else core_bench(args))
    return parser


def _bench_gui(args: argparse.Namespace) -> int:
    from polychrome.core.commands import apply_threads
    from polychrome.desktop.bench_gui import run

    apply_threads(args)
    return run(source=args.photo, model=args.model, repeats=args.repeats)


def with_implicit_open(argv: list[str], commands: set[str]) -> list[str]:
    """``polychrome PHOTO ...`` -> ``polychrome open PHOTO ...``, as every desktop editor opens the
    files it is given. An argument that names a command stays a command; one that looks like
    neither a command nor a file (no suffix, does not exist) is left to argparse, which lists the
    commands (a mistyped command is not opened as a photo)."""
    for i, arg in enumerate(argv):
        if arg in GLOBAL_FLAGS:
            continue
        if arg.startswith("-") or arg in commands:
            return argv
        p = Path(arg)
        if p.suffix or p.exists():
            return [*argv[:i], "open", *argv[i:]]
        return argv
    return argv


def _open(args: argparse.Namespace) -> int:
    from polychrome.desktop.app import run_app

    return run_app(list(args.paths))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    commands = set(parser.get_default("subparsers").choices)
    args = parser.parse_args(with_implicit_open(list(sys.argv[1:] if argv is None else argv), commands))
    setup_logging(args.verbose)
    if args.command is None:
        from polychrome.desktop.app import run_app

        return run_app()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
