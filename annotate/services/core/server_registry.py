"""Which app servers have a SQLite database open, so that a restore never runs under one.

A server registers by holding a *shared* ``flock`` on ``<database>.servers`` for as long as it
runs (``annotate serve`` takes it just before it becomes the Streamlit process; the descriptor
survives the ``exec``, and the kernel drops the lock when the process ends, however it ends).
``annotate restore`` takes the same lock *exclusively* without waiting: when any server holds it
the restore is refused, and while the restore holds it a server that starts waits until the
restore is done. PostgreSQL has no such file; :mod:`annotate.services.core.backup` looks at
``pg_stat_activity`` there instead.

Example:
    >>> # in the server process, once:      register_server("sqlite:////srv/annotate.db")
    >>> # in the restore:                   with servers_stopped("sqlite:////srv/annotate.db"): ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from annotate.services.core.errors import Conflict

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no registry, restores are not guarded
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".servers"
_HELD: dict[str, int] = {}


def registry_file(url: str) -> Path | None:
    """``<database>.servers`` for a SQLite file URL; ``None`` for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return None
    db = Path(parsed.database).resolve()
    return db.with_name(db.name + SUFFIX)


def register_server(url: str) -> None:
    """Mark this process (and whatever it ``exec``\\ s into) as a server of ``url``'s database.

    Idempotent; waits while a restore of that database is running. No-op for PostgreSQL.
    """
    path = registry_file(url)
    if path is None or fcntl is None or str(path) in _HELD:
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    os.set_inheritable(fd, True)  # kept across exec: the server process holds it
    _HELD[str(path)] = fd


@contextmanager
def servers_stopped(url: str) -> Iterator[None]:
    """Hold the database's registry exclusively for the block; refuse while a server runs.

    Raises:
        Conflict: an app server has the database open.
    """
    path = registry_file(url)
    if path is None or fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("an app server has this database open; stop it (annotate serve) and "
                           "run the restore again") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
