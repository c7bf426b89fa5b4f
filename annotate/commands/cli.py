"""The ``annotate`` command line.

Each group of subcommands lives in its own module under :mod:`annotate.commands` and
exposes ``register(subparsers)``; this module only assembles them and dispatches.
Every subcommand stores its handler as ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import annotate.commands as commands_pkg
from annotate.commands import CliError
from metaeval.about import DOCS_EPILOG, package_version
from metaeval.cli import register_subcommands
from metaeval.private_files import PRIVATE_UMASK

log = logging.getLogger("annotate")

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="annotate", description="WritingBench-style human studies",
                                     epilog=DOCS_EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: $ANNOTATE_DB_URL or sqlite:///var/annotate.db)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register_subcommands(subparsers, commands_pkg)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    previous = os.umask(PRIVATE_UMASK)  # databases, backups, exports, keys: the owner's only
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"annotate: error: {exc}", file=sys.stderr)
        return 2
    finally:
        os.umask(previous)


if __name__ == "__main__":
    sys.exit(main())
