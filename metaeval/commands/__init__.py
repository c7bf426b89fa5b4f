"""Subcommands of the ``metaeval`` CLI, one module per group, each with ``register(subparsers)``."""
