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

import hashlib
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from annotate.services.core.errors import Conflict, InputError, ServiceError
from annotate.services.core.server_registry import servers_stopped
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
    _write_checksum(destination)
    log.info("backup written to %s (checksum in %s)", destination, checksum_file(destination).name)
    return destination


# --------------------------------------------------------------------------- checksums
CHECKSUM_SUFFIX = ".sha256"
_CHUNK = 1 << 20


def checksum_file(backup: Path) -> Path:
    """The checksum written beside a backup: ``FILE.sha256`` (``sha256sum -c`` reads it)."""
    return backup.with_name(backup.name + CHECKSUM_SUFFIX)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_checksum(backup: Path) -> Path:
    target = checksum_file(backup)
    partial = target.with_name(target.name + ".partial")
    private_file(partial)
    partial.write_text(f"{_sha256(backup)}  {backup.name}\n", encoding="ascii")
    os.replace(partial, target)
    return target


def _expected_checksum(source: Path) -> str | None:
    """The digest named by ``source``'s checksum file, ``None`` when there is none."""
    sidecar = checksum_file(source)
    if not sidecar.is_file():
        return None
    first = sidecar.read_text(encoding="ascii", errors="replace").split()
    if not first or not re.fullmatch(r"[0-9a-f]{64}", first[0]):
        raise InputError("the checksum file is not a SHA-256 line", path=str(sidecar))
    return first[0]


def _copy_checked(source: Path, copy: Path, *, require_checksum: bool) -> None:
    """Copy ``source`` to ``copy`` (private) and check the copy against ``FILE.sha256``.

    The checks and the restore then read the copy: the backup cannot change in between.
    """
    expected = _expected_checksum(source)
    if expected is None and require_checksum:
        raise InputError(f"no checksum file {checksum_file(source).name} beside the backup; restore only "
                         "backups written by `annotate backup` (--no-checksum skips this check)",
                         path=str(source))
    private_file(copy)
    digest = hashlib.sha256()
    with source.open("rb") as src, copy.open("wb") as dst:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            dst.write(chunk)
    if expected is not None and digest.hexdigest() != expected:
        raise InputError("the file does not match its checksum (damaged, truncated or changed since "
                         "the backup was written)", path=str(source))


# --------------------------------------------------------------------------- what the migrations create
def known_revisions() -> set[str]:
    """Every revision of the packaged migrations."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from annotate.db.engine import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}


Schema = dict[tuple[str, str], tuple]
SQLITE_INTERNAL_TABLES = frozenset({"sqlite_sequence", "sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4"})


def sqlite_schema(conn: sqlite3.Connection) -> Schema:
    """Tables (columns, indexes, foreign keys), indexes, views and triggers of a SQLite file.

    SQLite's own tables (``sqlite_sequence``, ``sqlite_stat1`` ...) and the automatic indexes of
    UNIQUE/PRIMARY KEY constraints (part of their table's entry) are left out; any other object
    whose name starts with ``sqlite_`` (only a hand-edited schema can hold one) is kept, and so
    reported as unexpected.
    """
    schema: Schema = {}
    objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    for kind, name, table, sql in objects:
        if (kind == "table" and name in SQLITE_INTERNAL_TABLES) or (
                kind == "index" and name.startswith("sqlite_autoindex_") and sql is None):
            continue
        if kind == "table":
            columns = tuple((c[1], str(c[2]).upper(), c[3], c[4], c[5], c[6])
                            for c in conn.execute("SELECT * FROM pragma_table_xinfo(?)", (name,)))
            indexes = tuple(sorted(
                (i[1], i[2], i[3], i[4],
                 tuple(c[2] for c in conn.execute("SELECT * FROM pragma_index_info(?)", (i[1],))))
                for i in conn.execute("SELECT * FROM pragma_index_list(?)", (name,))))
            keys = tuple(sorted(tuple(str(v) for v in k[2:7])
                                for k in conn.execute("SELECT * FROM pragma_foreign_key_list(?)", (name,))))
            schema[(kind, name)] = (columns, indexes, keys)
        else:  # index (its columns are in its table's entry), view, trigger
            schema[(kind, name)] = (table,)
    return schema


_REFERENCE: dict[str, Schema] = {}


def reference_schema(revision: str) -> Schema:
    """The SQLite schema the migrations create up to ``revision`` (built once per process)."""
    if revision not in _REFERENCE:
        from annotate.db.engine import make_engine, upgrade

        with tempfile.TemporaryDirectory(prefix="annotate-reference-") as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'reference.db'}")
            try:
                upgrade(engine, revision)
            finally:
                engine.dispose()
            with closing(sqlite3.connect(Path(tmp) / "reference.db")) as conn:
                _REFERENCE[revision] = sqlite_schema(conn)
    return _REFERENCE[revision]


def schema_differences(found: Schema, expected: Schema) -> list[str]:
    """What ``found`` has that ``expected`` lacks, or the other way round, in words."""
    notes = [f"unexpected {kind} {name!r}" for kind, name in sorted(set(found) - set(expected))]
    notes += [f"missing {kind} {name!r}" for kind, name in sorted(set(expected) - set(found))]
    notes += [f"{kind} {name!r} differs (columns, indexes or keys)"
              for kind, name in sorted(set(found) & set(expected)) if found[(kind, name)] != expected[(kind, name)]]
    return notes


def verify_sqlite_backup(path: Path, *, shown_as: Path | None = None) -> str:
    """Check a SQLite backup file; return its Alembic revision.

    Checks, in order: the SQLite header, ``PRAGMA integrity_check``, foreign keys, one known
    revision in ``alembic_version``, and that tables, columns, indexes, foreign keys, views and
    triggers equal what the migrations create for that revision.

    Raises:
        InputError: naming the file and the first check that failed.
    """
    where = str(shown_as or path)
    with path.open("rb") as fh:
        if not fh.read(16).startswith(SQLITE_MAGIC):
            raise InputError("not a SQLite backup (bad header)", path=where)
    try:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA trusted_schema=OFF")
            conn.execute("PRAGMA query_only=ON")
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
            if problems != ["ok"]:
                raise InputError("the SQLite file is damaged: " + "; ".join(map(str, problems)), path=where)
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                            ).fetchone() is None:
                raise InputError("not an annotate database (no alembic_version table)", path=where)
            revisions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
            if len(revisions) != 1 or revisions[0] not in known_revisions():
                raise InputError(f"unknown database revision {', '.join(map(str, revisions)) or 'none'} "
                                 "(made by another version of annotate?)", path=where)
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise InputError("rows refer to rows that do not exist (foreign_key_check)", path=where)
            found = sqlite_schema(conn)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"the SQLite file cannot be read ({exc}); is it truncated or damaged?",
                         path=where) from None
    differences = schema_differences(found, reference_schema(revisions[0]))
    if differences:
        raise InputError(f"the schema differs from what revision {revisions[0]} creates: "
                         + "; ".join(differences[:5]) + (" ..." if len(differences) > 5 else ""), path=where)
    return str(revisions[0])


# --------------------------------------------------------------------------- restore
def restore_database(url: str, source: Path, *, require_checksum: bool = True) -> None:
    """Replace the contents of the database at ``url`` with the backup in ``source``.

    Nothing is touched until the backup has passed every check: its ``FILE.sha256`` checksum
    (unless ``require_checksum`` is false and there is none), and for SQLite
    :func:`verify_sqlite_backup`, for PostgreSQL :func:`verify_pg_archive`. The restore is refused
    while an app server has the database open (:mod:`annotate.services.core.server_registry`;
    on PostgreSQL: any other session on the database).

    Raises:
        InputError: the file fails a check (the database is unchanged).
        Conflict: an app server has the database open (the database is unchanged).
        ServiceError: the backend cannot be restored, or a PostgreSQL tool failed.
    """
    parsed = make_url(url)
    source = Path(source)
    if not source.is_file():
        raise InputError("no such backup file", path=str(source))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _restore_sqlite(url, source, require_checksum=require_checksum)
    elif backend == "postgresql":
        _restore_pg(parsed, source, require_checksum=require_checksum)
    else:
        raise ServiceError(f"restore is not supported for {backend} databases")
    log.info("database restored from %s", source)


def _restore_sqlite(url: str, source: Path, *, require_checksum: bool) -> None:
    target = _sqlite_path(make_url(url))
    private_dir(target.parent)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=target.parent) as tmp:
        copy = Path(tmp) / "backup.db"
        _copy_checked(source, copy, require_checksum=require_checksum)
        verify_sqlite_backup(copy, shown_as=source)
        with servers_stopped(url):
            private_file(target)
            with closing(sqlite3.connect(copy)) as src, closing(sqlite3.connect(target)) as dst:
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


# --------------------------------------------------------------------------- PostgreSQL
#: Entries of a ``pg_dump`` archive's table of contents that an annotate backup holds. Anything
#: else (TRIGGER, VIEW, FUNCTION, RULE, POLICY, EXTENSION ...) is refused.
PG_ALLOWED = ("TABLE", "TABLE DATA", "SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET", "DEFAULT", "CONSTRAINT",
              "FK CONSTRAINT", "INDEX", "COMMENT", "ACL", "ENCODING", "STDSTRINGS", "SEARCHPATH")
_PG_TYPES = sorted({*PG_ALLOWED, "TRIGGER", "EVENT TRIGGER", "VIEW", "MATERIALIZED VIEW", "FUNCTION", "PROCEDURE",
                    "RULE", "POLICY", "ROW SECURITY", "EXTENSION", "SCHEMA", "TYPE", "DOMAIN", "AGGREGATE",
                    "OPERATOR", "CAST", "SERVER", "FOREIGN TABLE", "PUBLICATION", "SUBSCRIPTION", "DEFAULT ACL",
                    "LARGE OBJECT", "BLOB", "BLOBS", "COLLATION", "CONVERSION", "TEXT SEARCH CONFIGURATION",
                    "TEXT SEARCH DICTIONARY", "STATISTICS", "DATABASE", "DATABASE PROPERTIES"},
                   key=len, reverse=True)
_TOC_LINE = re.compile(r"^\d+; \d+ \d+ (?P<rest>.*)$")


def _pg_tool_output(tool: str, args: list[str]) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise ServiceError(f"{tool} not found on PATH (install the PostgreSQL client tools)")
    proc = subprocess.run([exe, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InputError(f"{tool} cannot read the archive: {proc.stderr.strip()[:300]}", path=args[-1])
    return proc.stdout


def verify_pg_archive(path: Path, *, shown_as: Path | None = None) -> str:
    """Check a ``pg_dump`` custom archive without restoring it; return its Alembic revision.

    Checks: the archive's table of contents holds only tables, their data, sequences,
    defaults, constraints and indexes in schema ``public`` (no trigger, view, function, rule,
    policy, extension ...); the revision in ``alembic_version`` is one of ours; the tables, their
    column names and the named indexes equal what the migrations create for that revision.

    Raises:
        InputError: naming the file and what is wrong.
    """
    where = str(shown_as or path)
    with path.open("rb") as fh:
        if not fh.read(5).startswith(PGDUMP_MAGIC):
            raise InputError("not a pg_dump custom-format archive (bad header)", path=where)
    tables: set[str] = set()
    indexes: set[str] = set()
    for line in _pg_tool_output("pg_restore", ["--list", str(path)]).splitlines():
        m = _TOC_LINE.match(line)
        if not m:
            continue
        rest = m["rest"]
        kind = next((t for t in _PG_TYPES if rest.startswith(t + " ")), rest.split(" ")[0])
        fields = rest[len(kind):].split()
        if kind == "SCHEMA" and fields[1:2] == ["public"]:
            continue  # some pg_dump versions list the public schema itself
        if kind not in PG_ALLOWED:
            raise InputError(f"the archive holds a {kind} ({' '.join(fields[:-1])}); an annotate backup holds "
                             "only tables, sequences, constraints and indexes", path=where)
        if kind in ("TABLE", "INDEX", "SEQUENCE", "CONSTRAINT", "FK CONSTRAINT") and fields[0] != "public":
            raise InputError(f"the archive holds {kind} {' '.join(fields[:-1])} outside schema public", path=where)
        if kind == "TABLE":
            tables.add(fields[1])
        elif kind == "INDEX":
            indexes.add(fields[1])
    data = _pg_tool_output("pg_restore", ["--data-only", "--table=alembic_version", "-f", "-", str(path)])
    copied = re.search(r"^COPY public\.alembic_version \(version_num\) FROM stdin;\n(.*?)^\\\.$", data,
                       re.MULTILINE | re.DOTALL)
    revisions = copied[1].split() if copied else []
    if "alembic_version" not in tables:
        raise InputError("not an annotate database (no alembic_version table)", path=where)
    if len(revisions) != 1 or revisions[0] not in known_revisions():
        raise InputError(f"unknown database revision {', '.join(revisions) or 'none'} "
                         "(made by another version of annotate?)", path=where)
    reference = reference_schema(revisions[0])
    ref_tables = {name for kind, name in reference if kind == "table"}
    ref_indexes = {name for kind, name in reference if kind == "index" and not name.startswith("sqlite_")}
    ddl = _pg_tool_output("pg_restore", ["--schema-only", "-f", "-", str(path)])
    notes = [f"unexpected table {t!r}" for t in sorted(tables - ref_tables)]
    notes += [f"missing table {t!r}" for t in sorted(ref_tables - tables)]
    notes += [f"unexpected index {t!r}" for t in sorted(indexes - ref_indexes)]
    notes += [f"missing index {t!r}" for t in sorted(ref_indexes - indexes)]
    for m in re.finditer(r"^CREATE TABLE public\.(\"?)(?P<name>[^\s\"(]+)\1 \((?P<body>.*?)^\);$", ddl,
                         re.MULTILINE | re.DOTALL):
        name = m["name"]
        if ("table", name) not in reference:
            continue
        columns = {_column_name(part) for part in _top_level_parts(m["body"])
                   if part and not part.startswith("CONSTRAINT ")}
        expected = {c[0] for c in reference[("table", name)][0]}
        if columns != expected:
            notes.append(f"table {name!r} has columns {sorted(columns ^ expected)} that differ")
    if notes:
        raise InputError(f"the schema differs from what revision {revisions[0]} creates: "
                         + "; ".join(notes[:5]) + (" ..." if len(notes) > 5 else ""), path=where)
    return revisions[0]


def _top_level_parts(body: str) -> list[str]:
    """The comma-separated items of a ``CREATE TABLE (...)`` body (commas inside quotes or
    parentheses do not split)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(body):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


def _column_name(item: str) -> str:
    if item.startswith('"'):
        return item[1:item.index('"', 1)]
    return item.split()[0]


def _pg_other_sessions(url: URL) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND pid <> pg_backend_pid()")).scalar_one())
    finally:
        engine.dispose()


def _restore_pg(parsed: URL, source: Path, *, require_checksum: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="annotate-restore-") as tmp:
        copy = Path(tmp) / "backup.dump"
        _copy_checked(source, copy, require_checksum=require_checksum)
        verify_pg_archive(copy, shown_as=source)
        others = _pg_other_sessions(parsed)
        if others:
            raise Conflict(f"{others} other session(s) have this database open (an app server?); stop them and "
                           "run the restore again")
        env, args = _pg_env_and_args(parsed)
        _run_pg_tool(
            "pg_restore",
            [*args, "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
             "-d", parsed.database or "", str(copy)],
            env,
        )
