"""Files the tools create that hold data or secrets are the owner's only (0600, folders 0700).

The commands run as real processes under the common umask 022 (which today gives 0644 files), so
the modes come from the tools, not from the test's environment. Also: `.ci/run` never prints the
test database's password.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from annotate.db.engine import make_engine
from tests.fixtures.judge_fake_openai_server import FakeJudgeServer
from tests.fixtures.writingbench_samples import sample_records, write_jsonl

REPO = Path(__file__).resolve().parents[3]
FIX = REPO / "tests" / "fixtures"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(*args: str) -> None:
    def umask_022() -> None:
        os.umask(0o022)

    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, timeout=300,
                          preexec_fn=umask_022, env={**os.environ, "ANNOTATE_API_SECRET": ""})
    assert proc.returncode == 0, proc.stderr


def test_database_backup_export_are_0600_and_their_folders_0700(tmp_path: Path) -> None:
    db = tmp_path / "new" / "data" / "annotate.db"
    url = f"sqlite:///{db}"
    _run("annotate.commands.cli", "--db", url, "init")
    _run("annotate.commands.cli", "--db", url, "import", "queries", str(write_jsonl(tmp_path / "q.jsonl",
                                                                                   sample_records())))
    _run("annotate.commands.cli", "--db", url, "backup", str(tmp_path / "backups" / "b1" / "annotate.bak"))
    _run("annotate.commands.cli", "--db", url, "export", "queries", str(tmp_path / "out" / "q.jsonl"))
    assert _mode(db) == 0o600
    assert _mode(db.parent) == 0o700 and _mode(db.parent.parent) == 0o700
    assert _mode(tmp_path / "backups" / "b1" / "annotate.bak") == 0o600
    assert _mode(tmp_path / "backups" / "b1") == 0o700 and _mode(tmp_path / "backups") == 0o700
    assert _mode(tmp_path / "out" / "q.jsonl") == 0o600 and _mode(tmp_path / "out") == 0o700


def test_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    """While a connection writes, SQLite's -wal and -shm exist; they take the database file's mode."""
    previous = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'w.db'}")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            conn.commit()
            wal, shm = tmp_path / "db" / "w.db-wal", tmp_path / "db" / "w.db-shm"
            assert wal.is_file() and shm.is_file()
            assert (_mode(tmp_path / "db" / "w.db"), _mode(wal), _mode(shm)) == (0o600, 0o600, 0o600)
        engine.dispose()
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "db") == 0o700


def test_metaeval_outputs_and_cache_are_0600(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "r1"
    server = FakeJudgeServer().start()
    try:
        _run("metaeval.cli", "judge", "--method", "dynamic", "--judge",
             f"j=openai-compatible:{server.base_url}@fake", "--queries", str(FIX / "judge_queries.jsonl"),
             "--responses", str(FIX / "judge_responses.jsonl"), "--output", str(out), "--no-progress")
    finally:
        server.shutdown()
        server.server_close()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert out / "cache.sqlite" in files and out / "j__dynamic.long.jsonl" in files
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    folders = [out, out.parent, *(p for p in out.rglob("*") if p.is_dir())]
    assert {str(p): _mode(p) for p in folders} == {str(p): 0o700 for p in folders}


def test_sqlite_cache_created_by_a_library_call_is_0600(tmp_path: Path) -> None:
    from metaeval.judges.cache import JudgeCache

    previous = os.umask(0o022)
    try:
        cache = JudgeCache(tmp_path / "c" / "cache.sqlite")
        cache.close()
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "c" / "cache.sqlite") == 0o600
    with sqlite3.connect(tmp_path / "c" / "cache.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_ci_prints_the_database_url_without_its_password() -> None:
    url = "postgresql+psycopg://annotate_test:s3cr3t-Pa55@127.0.0.1:54329/annotate_test"
    shown = subprocess.run(["bash", "-c", f'source .ci/url_without_password.sh; url_without_password "{url}"'],
                           capture_output=True, text=True, cwd=REPO, check=True).stdout.strip()
    assert shown == "postgresql+psycopg://annotate_test:***@127.0.0.1:54329/annotate_test"
    ci = (REPO / ".ci" / "run").read_text()
    assert "url_without_password \"$url\"" in ci
    echoed = [line for line in ci.splitlines() if line.strip().startswith("echo") and "url" in line]
    assert echoed and all("url_without_password" in line for line in echoed), echoed
