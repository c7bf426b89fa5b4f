"""Subcommands of the ``annotate`` CLI, one module per group, each with ``register(subparsers)``."""
