"""The ``metaeval`` command line.

Each group of subcommands lives in its own module under :mod:`metaeval.commands` and
exposes ``register(subparsers)``; this module only assembles them and dispatches.
Every subcommand stores its handler as ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from types import ModuleType

import metaeval.commands as commands_pkg
from metaeval import resources
from metaeval.about import DOCS_EPILOG, package_version
from metaeval.commands import CliError
from metaeval.private_files import PRIVATE_UMASK
from metaeval.redact import install_excepthook, install_log_redaction, redact

log = logging.getLogger("metaeval")

__all__ = ["CliError", "build_parser", "main", "register_subcommands"]


def register_subcommands(subparsers: argparse._SubParsersAction, package: ModuleType) -> None:
    """Call ``register(subparsers)`` of every module of ``package`` that has one, by module name.

    Example:
        >>> subparsers = argparse.ArgumentParser().add_subparsers(dest="command")
        >>> register_subcommands(subparsers, commands_pkg)
        >>> "agreement" in subparsers.choices
        True
    """
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metaeval", epilog=DOCS_EPILOG,
                                     description="Judge writing with criteria methods and compare judges with people")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register_subcommands(subparsers, commands_pkg)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    install_excepthook()
    resources.tune_allocators()  # freed memory goes back to the system (large vote files)
    previous = os.umask(PRIVATE_UMASK)  # outputs, caches and logs it writes are the owner's only
    command = " ".join(filter(None, (args.command, getattr(args, f"{args.command}_command", None))))
    try:
        # every input file is sized before any is read: one line naming what to lower, exit 2
        resources.check_command_inputs(args, command=command)
        return int(args.func(args) or 0)
    except CliError as exc:
        return _error(str(exc))
    except MemoryError:  # past metaeval.resources' estimate: still one line, not a traceback
        return _error("out of memory; lower --bootstrap or use a smaller input")
    except RecursionError:
        return _error("an input is nested too deeply to read")
    except (ValueError, OSError, UnicodeError, OverflowError, KeyError, TypeError) as exc:
        # bad input no reader caught by name: still one line (the traceback with --verbose)
        log.debug("%s failed", command, exc_info=args.verbose)
        return _error(f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc))
    finally:
        os.umask(previous)


def _error(message: str) -> int:
    """Print ``metaeval: error: MESSAGE`` on one line (secrets redacted); the exit status 2."""
    text = " ".join(redact(message).split())
    print(f"metaeval: error: {text[:2000]}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
