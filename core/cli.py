"""The Qt-free subcommands of ``polychrome`` (colorize, train, weights, eval, bench, sheet).

Each subcommand lives in ``core/commands/<name>.py`` with a ``register(sub)``
function that adds its parser and sets ``func``. The ``polychrome`` command
itself (which also opens the desktop editor) is :mod:`polychrome.desktop.cli`;
it builds on this module, never the other way round. ``python -m
polychrome.core.cli COMMAND ...`` runs a subcommand without loading Qt.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMANDS = ["colorize", "train", "weights", "eval", "bench", "sheet"]


def build_parser(description: str = "Colourise grayscale photographs.") -> argparse.ArgumentParser:
    """The ``polychrome`` parser with the core subcommands; returns it with ``subparsers`` attached."""
    parser = argparse.ArgumentParser(prog="polychrome", description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"polychrome.core.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"polychrome.core.commands.{name}":
                raise
            continue  # a command not built yet in this checkout
        module.register(sub)
    parser.set_defaults(subparsers=sub)
    return parser


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
