"""Subcommands of the ``metaeval`` CLI, one module per group, each with ``register(subparsers)``."""


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2.

    Defined here (not in ``cli.py``) so that ``python -m metaeval.cli`` and the console
    script share one class.
    """
