"""Subcommands of the ``annotate`` CLI, one module per group, each with ``register(subparsers)``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2.

    Defined here (not in ``cli.py``) so that ``python -m annotate.commands.cli`` and the console
    script share one class.
    """


@contextmanager
def command_session(engine: Engine, *, errors: tuple[type[BaseException], ...] | None = None,
                    prefix: str = "") -> Iterator[Session]:
    """A session for one subcommand: ``errors`` become :class:`CliError`, the engine is disposed.

    Args:
        engine: the command's engine; it is disposed when the block ends, however it ends.
        errors: exception types turned into a one-line :class:`CliError` (default: the
            services' :class:`~annotate.services.core.errors.ServiceError`); ``()`` converts none.
        prefix: written before the message, e.g. the file name (``"FILE: message"``).

    Example:
        >>> from annotate.db.engine import make_engine
        >>> from annotate.services.core.errors import NotFound
        >>> try:
        ...     with command_session(make_engine("sqlite://"), prefix="x.jsonl") as session:
        ...         raise NotFound("no study named 'pilot'")
        ... except CliError as exc:
        ...     print(exc)
        x.jsonl: no study named 'pilot'
    """
    from annotate.db.engine import session_scope
    from annotate.services.core.errors import ServiceError

    caught = (ServiceError,) if errors is None else errors
    try:
        with session_scope(engine) as session:
            yield session
    except caught as exc:
        raise CliError(f"{prefix}: {exc}" if prefix else str(exc)) from exc
    finally:
        engine.dispose()
