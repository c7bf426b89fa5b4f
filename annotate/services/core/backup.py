"""Backups of the annotate database: SQLite's online backup API, or pg_dump/pg_restore.

A SQLite backup is a consistent copy taken while the app keeps running (readers and
writers are not stopped). A PostgreSQL backup is a custom-format ``pg_dump`` archive;
the password travels to the tools through the ``PGPASSWORD`` environment variable of the
child process only, never on the command line or in logs.

Example:
    >>> # backup_database("sqlite:///var/annotate.db", Path("annotate.backup"))
    >>> # restore_database("sqlite:///var/annotate.db", Path("annotate.backup"))
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from annotate.services.core.errors import InputError, ServiceError
from metaeval.private_files import private_dir, private_file

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise ServiceError("cannot back up an in-memory SQLite database")
    return Path(url.database)


def _pg_env_and_args(url: URL) -> tuple[dict[str, str], list[str]]:
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    if url.username:
        args += ["-U", url.username]
    return env, args


def _run_pg_tool(tool: str, args: list[str], env: dict[str, str]) -> None:
    exe = shutil.which(tool)
    if exe is None:
        raise ServiceError(f"{tool} not found on PATH (install the PostgreSQL client tools)")
    proc = subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ServiceError(f"{tool} failed (exit {proc.returncode}): {proc.stderr.strip()[:500]}")


def backup_database(url: str, destination: Path) -> Path:
    """Write a consistent backup of the database at ``url`` to ``destination``.

    The file is written next to the destination first and renamed into place, so a
    crash never leaves a half-written backup under the final name.
    """
    parsed = make_url(url)
    destination = Path(destination)
    private_dir(destination.parent)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # 0600 before any byte is written (pg_dump keeps the mode)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        source_path = _sqlite_path(parsed)
        if not source_path.is_file():
            raise ServiceError(f"{source_path}: no such database file")
        with sqlite3.connect(source_path) as src, sqlite3.connect(partial) as dst:
            src.backup(dst)
        dst.close()
        src.close()
    elif backend == "postgresql":
        env, args = _pg_env_and_args(parsed)
        _run_pg_tool("pg_dump", [*args, "-Fc", "--no-owner", "-f", str(partial), parsed.database or ""], env)
    else:
        raise ServiceError(f"backup is not supported for {backend} databases")
    os.replace(partial, destination)
    log.info("backup written to %s", destination)
    return destination


def restore_database(url: str, source: Path) -> None:
    """Replace the contents of the database at ``url`` with the backup in ``source``.

    The backup's format is checked first (a SQLite file for SQLite, a ``pg_dump`` custom
    archive for PostgreSQL); anything else is refused before the database is touched.
    """
    parsed = make_url(url)
    source = Path(source)
    if not source.is_file():
        raise InputError("no such backup file", path=str(source))
    head = source.read_bytes()[:16]
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise InputError("not a SQLite backup (bad header)", path=str(source), line=None, field=None)
        target = _sqlite_path(parsed)
        private_file(target)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            # SQLite cannot change the page size of a WAL database, and a backup copies the
            # source's page size: a backup made with other pages (an older version's 4 KiB)
            # is restored with the target in rollback-journal mode, then WAL again.
            wal = dst.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
            resize = wal and (src.execute("PRAGMA page_size").fetchone()[0]
                              != dst.execute("PRAGMA page_size").fetchone()[0])
            if resize:
                dst.execute("PRAGMA journal_mode=DELETE")
            src.backup(dst)
            if resize:
                dst.execute("PRAGMA journal_mode=WAL")
        dst.close()
        src.close()
    elif backend == "postgresql":
        if not head.startswith(PGDUMP_MAGIC):
            raise InputError("not a pg_dump custom-format archive (bad header)", path=str(source))
        env, args = _pg_env_and_args(parsed)
        _run_pg_tool(
            "pg_restore",
            [*args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "-d", parsed.database or "", str(source)],
            env,
        )
    else:
        raise ServiceError(f"restore is not supported for {backend} databases")
    log.info("database restored from %s", source)
