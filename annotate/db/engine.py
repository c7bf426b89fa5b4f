"""Database engine: URL resolution, SQLite pragmas, sessions and Alembic migrations.

The URL comes from, in order: an explicit argument, the ``ANNOTATE_DB_URL`` environment
variable, or the default SQLite file ``var/annotate.db`` under the current directory.
Any SQLAlchemy URL works, e.g. ``postgresql+psycopg://user@host/dbname``.

Example:
    >>> engine = make_engine("sqlite:///:memory:")
    >>> upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     pass
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from metaeval.private_files import private_file

log = logging.getLogger(__name__)

DEFAULT_SQLITE_PATH = Path("var") / "annotate.db"
ENV_VAR = "ANNOTATE_DB_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def resolve_url(url: str | None = None) -> str:
    """Return the database URL: ``url``, else ``$ANNOTATE_DB_URL``, else the default SQLite file."""
    if url:
        return url
    env = os.environ.get(ENV_VAR)
    if env:
        return env
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


SQLITE_PAGE_SIZE = 32768


def _set_sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Autocommit at the driver level so that SQLAlchemy's BEGIN (below) is the only one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 32 KiB pages for a new file (a no-op once the file has tables, or in WAL mode): the
    # queries, materials and responses are long texts, which fill fewer overflow pages.
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")  # an in-memory database answers "memory"
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "annotate_read_only"
"""Connection execution option: this transaction only reads (see :func:`read_transaction`)."""


def _begin_sqlite(conn: Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock at the start of every transaction, so two
    # writers never deadlock upgrading a read lock (SQLite's "database is locked").
    # A transaction that only reads needs no write lock: a plain (deferred) BEGIN reads a
    # WAL snapshot while a writer works, instead of queueing behind every writer.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def make_engine(url: str | None = None, *, echo: bool = False, pool_size: int | None = None,
                max_overflow: int | None = None, pre_ping: bool = True) -> Engine:
    """Create an engine for ``url`` (see :func:`resolve_url`), with SQLite set up for safety.

    SQLite gets WAL journaling, 32 KiB pages (new files), foreign keys, a 30 s busy timeout
    and ``BEGIN IMMEDIATE`` transactions (plain ``BEGIN`` for :func:`read_transaction`);
    the parent directory of a SQLite file is created if missing. ``pool_size`` and
    ``max_overflow`` size the connection pool of a server database (SQLAlchemy's defaults,
    5 and 10, when not given; ignored for SQLite). ``pre_ping`` tests each pooled
    connection with a round trip before handing it out (so a database restart costs no
    failed request); a caller that retries on a lost connection itself (the HTTP API) can
    save that round trip.
    """
    resolved = resolve_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if database in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            private_file(database)  # 0600 (SQLite gives -wal and -shm the same mode), folders 0700
        engine = create_engine(resolved, echo=echo, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    pool: dict = {}
    if pool_size is not None:
        pool["pool_size"] = pool_size
    if max_overflow is not None:
        pool["max_overflow"] = max_overflow
    return create_engine(resolved, echo=echo, pool_pre_ping=pre_ping, **pool)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the packaged migrations, bound to ``engine``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (default: every head) in place."""
    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revisions(engine: Engine) -> set[str]:
    """The Alembic revisions the database is at (empty for a new database)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    """The head revisions of the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def init_db(url: str | None = None) -> Engine:
    """Create (or upgrade) the database at ``url`` and return its engine."""
    engine = make_engine(url)
    upgrade(engine)
    log.info("database ready at %s", engine.url.render_as_string(hide_password=True))
    return engine


@contextmanager
def read_transaction(session: Session) -> Iterator[None]:
    """Run a block that only reads in one transaction, committed (so ended) on exit.

    On SQLite a transaction begun here is a plain ``BEGIN`` (a snapshot read that neither
    takes nor waits for the write lock) instead of ``BEGIN IMMEDIATE``; the block must not
    write. A transaction the session already has open is used as it is.

    Example:
        >>> engine = make_engine("sqlite:///:memory:")
        >>> with session_scope(engine) as s, read_transaction(s):
        ...     s.connection().exec_driver_sql("SELECT 1").scalar()
        1
    """
    if not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})
    with transaction(session):
        yield


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """Run a block in the session's transaction: committed when the block ends, rolled back
    when it raises (the error goes on). The one way services end a transaction that writes.

    Example:
        >>> engine = make_engine("sqlite:///:memory:")
        >>> with session_scope(engine) as s:
        ...     with transaction(s):
        ...         _ = s.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)")
        ...     try:
        ...         with transaction(s):
        ...             _ = s.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
        ...             raise ValueError("refused")
        ...     except ValueError:
        ...         pass
        ...     s.connection().exec_driver_sql("SELECT count(*) FROM t").scalar()
        0
    """
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that is closed on exit; services own their commits."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
