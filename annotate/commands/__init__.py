"""Subcommands of the ``annotate`` CLI, one module per group, each with ``register(subparsers)``."""


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2.

    Defined here (not in ``cli.py``) so that ``python -m annotate.cli`` and the console
    script share one class.
    """
