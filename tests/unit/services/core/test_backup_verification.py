"""Restore checks the backup before it touches the database.

Each hostile backup below is refused with exit 2 and a one-line message, and the live
database file keeps every byte: a foreign SQLite file, a backup with an added trigger, view or
column, an unknown revision, a truncated file, a file changed after its checksum was written, a
backup without a checksum; and any restore while an app server has the database open. The
attacker in these cases can rewrite ``FILE.sha256`` too, so the schema checks must hold on their
own.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.commands.cli import main as annotate_main
from annotate.db.engine import init_db
from annotate.db.models import LLMModel
from annotate.services.core.backup import backup_database, checksum_file, restore_database
from annotate.services.core.errors import Conflict, InputError


def _add(engine, name: str) -> None:
    with Session(engine) as session:
        session.add(LLMModel(name=name))
        session.commit()


def _names(url: str) -> list[str]:
    engine = init_db(url)
    try:
        with Session(engine) as session:
            return sorted(m.name for m in session.exec(select(LLMModel)))
    finally:
        engine.dispose()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reseal(backup: Path) -> None:
    """Write a fresh FILE.sha256, as an attacker who changed the file would."""
    checksum_file(backup).write_text(f"{_digest(backup)}  {backup.name}\n", encoding="ascii")


@pytest.fixture()
def live(tmp_path: Path) -> tuple[str, Path, Path]:
    """A live database holding one row, and a genuine backup of it taken before a second row."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = init_db(url)
    _add(engine, "in-the-backup")
    backup = backup_database(url, tmp_path / "good.backup")
    _add(engine, "written-later")
    engine.dispose()
    return url, tmp_path / "live.db", backup


def _refused(url: str, live_db: Path, backup: Path, capsys, *extra: str) -> str:
    """Run the CLI restore; assert exit 2, no change to the live file; return stderr."""
    before = _digest(live_db)
    assert annotate_main(["--db", url, "restore", str(backup), "--yes", *extra]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert _digest(live_db) == before
    return err


def test_a_genuine_backup_carries_a_checksum_and_restores(live, capsys):
    url, _db, backup = live
    # sha256sum's layout: "<64 hex>  <name>"
    assert checksum_file(backup).read_text() == f"{_digest(backup)}  good.backup\n"
    assert annotate_main(["--db", url, "restore", str(backup), "--yes"]) == 0
    assert _names(url) == ["in-the-backup"]


def test_empty_foreign_sqlite_file(live, tmp_path, capsys):
    url, db, _backup = live
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE notes (x)").connection.close()
    err = _refused(url, db, foreign, capsys)
    assert "no checksum file" in err
    _reseal(foreign)
    assert "not an annotate database" in _refused(url, db, foreign, capsys)
    assert _names(url) == ["in-the-backup", "written-later"]


def test_added_trigger_is_refused(live, capsys):
    url, db, backup = live
    with sqlite3.connect(backup) as conn:
        conn.execute('CREATE TRIGGER promote AFTER INSERT ON llmmodel BEGIN UPDATE "user" SET role = \'admin\'; END')
    conn.close()
    assert "does not match its checksum" in _refused(url, db, backup, capsys)
    _reseal(backup)
    assert "unexpected trigger 'promote'" in _refused(url, db, backup, capsys)


@pytest.mark.parametrize(("change", "expected"), [
    ("CREATE VIEW everyone AS SELECT * FROM llmmodel", "unexpected view 'everyone'"),
    ("ALTER TABLE llmmodel ADD COLUMN backdoor TEXT", "table 'llmmodel' differs"),
    ("CREATE INDEX ix_extra ON llmmodel (name)", "unexpected index 'ix_extra'"),
    ("UPDATE alembic_version SET version_num = 'ffffffffffff'", "unknown database revision ffffffffffff"),
])
def test_other_schema_changes_are_refused(live, capsys, change, expected):
    url, db, backup = live
    with sqlite3.connect(backup) as conn:
        conn.execute(change)
    conn.close()
    _reseal(backup)
    assert expected in _refused(url, db, backup, capsys)


def test_trigger_with_a_reserved_name_written_into_the_schema(live, capsys):
    # CREATE refuses names starting with sqlite_, but a hand-edited schema loads them all the same
    url, db, backup = live
    with sqlite3.connect(backup) as conn:
        conn.execute("PRAGMA writable_schema=ON")
        conn.execute("INSERT INTO sqlite_master VALUES ('trigger', 'sqlite_promote', 'llmmodel', 0, "
                     "'CREATE TRIGGER sqlite_promote AFTER INSERT ON llmmodel BEGIN "
                     "UPDATE \"user\" SET role = ''admin''; END')")
    conn.close()
    _reseal(backup)
    assert "unexpected trigger 'sqlite_promote'" in _refused(url, db, backup, capsys)


def test_truncated_file_is_a_clear_message(live, capsys):
    url, db, backup = live
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])
    assert "does not match its checksum" in _refused(url, db, backup, capsys)
    _reseal(backup)
    err = _refused(url, db, backup, capsys)
    assert "good.backup" in err and ("damaged" in err or "truncated" in err)
    with pytest.raises(InputError):
        restore_database(url, backup)


def test_backup_without_checksum_needs_the_flag(live, capsys):
    url, db, backup = live
    checksum_file(backup).unlink()
    assert "--no-checksum" in _refused(url, db, backup, capsys)
    assert annotate_main(["--db", url, "restore", str(backup), "--yes", "--no-checksum"]) == 0
    assert _names(url) == ["in-the-backup"]


SERVER = textwrap.dedent("""
    import os, sys
    from annotate.services.core.server_registry import register_server
    register_server(sys.argv[1])
    print("registered", flush=True)
    os.execv("/bin/sleep", ["sleep", "60"])  # like `annotate serve`: the lock survives the exec
""")


def test_refused_while_an_app_server_has_the_database_open(live, capsys):
    url, db, backup = live
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[4]))
    server = subprocess.Popen([sys.executable, "-c", SERVER, url], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "registered"
        time.sleep(0.2)  # the exec
        assert "an app server has this database open" in _refused(url, db, backup, capsys)
        with pytest.raises(Conflict):
            restore_database(url, backup)
    finally:
        server.kill()
        server.wait()
    assert annotate_main(["--db", url, "restore", str(backup), "--yes"]) == 0  # the server is gone
    assert _names(url) == ["in-the-backup"]


# --------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
def test_postgres_archive_with_a_trigger_is_refused(pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    engine = init_db(pg_url)
    _add(engine, "pg-kept")
    with engine.begin() as conn:
        conn.execute(text("CREATE FUNCTION promote() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$ BEGIN UPDATE \"user\" SET role = 'admin'; RETURN NEW; END $$"))
        conn.execute(text("CREATE TRIGGER promote AFTER INSERT ON llmmodel FOR EACH ROW EXECUTE FUNCTION promote()"))
    backup = backup_database(pg_url, tmp_path / "pg.dump")
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER promote ON llmmodel"))
        conn.execute(text("DROP FUNCTION promote()"))
    _add(engine, "pg-after")
    engine.dispose()
    with pytest.raises(InputError, match="FUNCTION|TRIGGER"):
        restore_database(pg_url, backup)
    assert [n for n in _names(pg_url) if n.startswith("pg-")] == ["pg-after", "pg-kept"]


@pytest.mark.postgres
def test_postgres_restore_refused_while_another_session_is_open(pg_url: str, tmp_path: Path) -> None:
    engine = init_db(pg_url)
    _add(engine, "pg-one")
    backup = backup_database(pg_url, tmp_path / "pg.dump")
    with engine.connect(), pytest.raises(Conflict, match="other session"):  # an app server's connection
        restore_database(pg_url, backup)
    engine.dispose()
    restore_database(pg_url, backup)


def test_refused_under_a_real_annotate_serve(live, tmp_path, capsys):
    """`annotate serve` registers before it becomes the Streamlit process; restore refuses."""
    from tests.fixtures.app_server import start_server, stop

    url, db, backup = live
    server = start_server(url, tmp_path / "serve.log", secret="s" * 40)
    try:
        assert "an app server has this database open" in _refused(url, db, backup, capsys)
    finally:
        stop(server)
    assert annotate_main(["--db", url, "restore", str(backup), "--yes"]) == 0
    assert _names(url) == ["in-the-backup"]
