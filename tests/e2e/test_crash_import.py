"""kill -9 of ``annotate import queries`` on the real WritingBench file: all or nothing.

The import runs as a subprocess and is SIGKILLed at several moments of its write
transaction: when its write-ahead log has grown past 1, 4, 8 and 12 MB (the whole import
writes well over 20 MB, so each kill lands mid-transaction, however fast the machine). After each kill the SQLite file passes ``PRAGMA integrity_check``
and holds either none of the 1,000 queries or all of them (with their checklists and
instruction versions): an import is one transaction.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from annotate.db.engine import init_db

pytestmark = [pytest.mark.slow, pytest.mark.shared]
N_QUERIES = 1000  # benchmark_all.jsonl (WritingBench paper, section 3)


def _counts(db_path) -> tuple[int, int]:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        queries = conn.execute("SELECT count(*) FROM query").fetchone()[0]
        versions = conn.execute("SELECT count(*) FROM instructionversion").fetchone()[0]
        return queries, versions
    finally:
        conn.close()


def test_kill9_import_leaves_all_or_nothing(tmp_path, shared_data_dir):
    source = shared_data_dir / "benchmark_all.jsonl"
    killed_mid_run = 0
    for k, wal_bytes in enumerate((1, 4, 8, 12)):
        db_path = tmp_path / f"import{k}.db"
        init_db(f"sqlite:///{db_path}").dispose()
        proc = subprocess.Popen([sys.executable, "-m", "annotate.commands.cli", "--db", f"sqlite:///{db_path}",
                                 "import", "queries", str(source)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, env=dict(os.environ))
        wal = db_path.with_name(db_path.name + "-wal")
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size >= wal_bytes * 1_000_000:
                os.killpg(proc.pid, signal.SIGKILL)
                killed_mid_run += 1
                break
            time.sleep(0.002)
        proc.wait(timeout=120)
        queries, versions = _counts(db_path)
        assert (queries, versions) in {(0, 0), (N_QUERIES, N_QUERIES)}, (wal_bytes, queries, versions)
    assert killed_mid_run >= 3, "the import finished before its log reached the kill sizes"
