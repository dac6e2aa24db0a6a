"""The ``polychrome`` command. Plain ``polychrome`` opens the desktop editor.

Each subcommand lives in ``core/commands/<name>.py`` with a ``register(sub)``
function that adds its parser and sets ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMANDS = ["colorize", "train", "weights", "eval", "bench", "sheet"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polychrome",
        description="Colourise grayscale photographs. With no command, opens the desktop editor.",
    )
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
    op = sub.add_parser("open", help="open a photo or a saved session in the desktop editor")
    op.add_argument("path", help="photo or .polychrome session")
    op.set_defaults(func=_open)
    return parser


def _open(args: argparse.Namespace) -> int:
    from polychrome.desktop.app import run_app

    return run_app([args.path])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    if args.command is None:
        from polychrome.desktop.app import run_app

        return run_app()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
