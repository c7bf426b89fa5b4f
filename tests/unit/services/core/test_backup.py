"""Backup and restore on SQLite (always) and PostgreSQL (when ANNOTATE_TEST_PG_URL is set)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.commands.cli import main as annotate_main
from annotate.db.engine import init_db
from annotate.db.models import LLMModel
from annotate.services.core.backup import backup_database, restore_database
from annotate.services.core.errors import InputError


def _names(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(m.name for m in session.exec(select(LLMModel)))


def _add(engine, name: str) -> None:
    with Session(engine) as session:
        session.add(LLMModel(name=name))
        session.commit()


def test_sqlite_backup_then_restore_brings_back_the_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = init_db(url)
    _add(engine, "model-one")
    backup = backup_database(url, tmp_path / "b" / "copy.backup")
    _add(engine, "model-two")  # written after the backup: must disappear on restore
    engine.dispose()

    assert annotate_main(["--db", url, "restore", str(backup), "--yes"]) == 0
    engine = init_db(url)
    assert _names(engine) == ["model-one"]
    with sqlite3.connect(tmp_path / "live.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not (tmp_path / "b" / "copy.backup.partial").exists()


def test_restore_of_a_backup_with_other_pages_into_a_wal_database(tmp_path: Path) -> None:
    # Databases made before 32 KiB pages have SQLite's default 4 KiB pages; SQLite refuses to
    # change a WAL database's page size, so a plain backup-API copy into the live file fails.
    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("PRAGMA page_size=4096")
        conn.execute("VACUUM")
    old = init_db(old_url)
    _add(old, "from-the-old-version")
    old.dispose()
    with sqlite3.connect(tmp_path / "old.db") as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    backup = backup_database(old_url, tmp_path / "old.backup")

    url = f"sqlite:///{tmp_path / 'live.db'}"
    live = init_db(url)
    _add(live, "written-later")
    live.dispose()
    with sqlite3.connect(tmp_path / "live.db") as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 32768  # new files: 32 KiB pages
    restore_database(url, backup)
    with sqlite3.connect(tmp_path / "live.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _names(init_db(url)) == ["from-the-old-version"]


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = init_db(url)
    _add(engine, "kept")
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    with pytest.raises(InputError, match="notes.txt"):
        restore_database(url, bogus)
    assert _names(engine) == ["kept"]


def test_restore_needs_confirmation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    init_db(url).dispose()
    backup = backup_database(url, tmp_path / "copy.backup")
    assert annotate_main(["--db", url, "restore", str(backup)]) == 2
    assert "--yes" in capsys.readouterr().err


@pytest.mark.postgres
def test_postgres_backup_then_restore(pg_url: str, tmp_path: Path) -> None:
    url = pg_url
    engine = init_db(url)
    _add(engine, "pg-backup-one")
    backup = backup_database(url, tmp_path / "pg.dump")
    _add(engine, "pg-backup-two")
    engine.dispose()
    restore_database(url, backup)
    engine = init_db(url)
    assert [n for n in _names(engine) if n.startswith("pg-backup-")] == ["pg-backup-one"]
    engine.dispose()
