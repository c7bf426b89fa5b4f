"""A first-come, first-served gate for SQLite transactions within one process.

SQLite lets one writer in at a time, and the engine starts every transaction with
``BEGIN IMMEDIATE``. Waiters poll with a growing sleep (up to 100 ms), so under heavy
contention a newcomer polling every millisecond keeps beating a thread that has waited
long: with 50 busy annotator threads some waited past the 30 s busy timeout
("database is locked"). Threads that pass through this gate take turns in arrival order
(a ticket lock), so within a process nobody starves. Between processes, the thread at the
head of each process's queue then waits on an exclusive ``flock`` of a file beside the
database (``<db>.gate``): a blocked waiter is woken when the lock is released instead of
sleeping 100 ms at a time, so every process gets an even chance at each turn.
PostgreSQL and in-memory SQLite sessions pass straight through.

Before queueing, an open transaction of the session is committed: holding SQLite's write
lock while waiting for the gate would block the thread that holds the gate.

Example:
    >>> gate = TicketLock()
    >>> with gate:
    ...     pass
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the in-process gate only
    fcntl = None  # type: ignore[assignment]


class TicketLock:
    """A mutex that admits threads in the order they asked (FIFO)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0
        self._serving = 0

    def __enter__(self) -> TicketLock:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


_GATES: dict[str, TicketLock] = {}
_GATES_LOCK = threading.Lock()
_FILES: dict[tuple[int, str], int] = {}


def _gate_file(database: str | None) -> int | None:
    """This process's descriptor of ``<database>.gate`` (opened per process: a descriptor
    inherited through ``fork`` would share its lock with the parent)."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = (os.getpid(), database)
    with _GATES_LOCK:
        fd = _FILES.get(key)
        if fd is None:
            fd = _FILES[key] = os.open(f"{database}.gate", os.O_RDWR | os.O_CREAT, 0o600)
        return fd


def _gate_for(key: str) -> TicketLock:
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = TicketLock()
        return gate


@contextmanager
def sqlite_turn(session: Session) -> Iterator[None]:
    """Wait for this process's turn on the session's SQLite database (no-op elsewhere).

    The caller must end its transaction (commit or roll back) before leaving the block.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    if session.in_transaction():
        session.commit()
    url = bind.engine.url  # a Connection's engine, or the Engine itself
    with _gate_for(str(url)):
        fd = _gate_file(url.database)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
