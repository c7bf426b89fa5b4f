"""Kill -9 in the middle of a judge run, resume, and compare with an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metaeval.cli import main
from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

ROOT = Path(__file__).resolve().parents[3]
FIX = ROOT / "tests" / "fixtures"
N_TASKS = 60  # 12 responses x 5 dynamic criteria


def _cli(server: FakeJudgeServer, out: Path) -> list[str]:
    return [sys.executable, "-m", "metaeval.cli", "judge", "--method", "dynamic",
            "--judge", f"openai-compatible:{server.base_url}@fake", "--queries", str(FIX / "judge_queries.jsonl"),
            "--responses", str(FIX / "judge_responses.jsonl"), "--output", str(out), "--concurrency", "4",
            "--no-progress"]


def _wait(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _cache_rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0


def _outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.jsonl"))}


@pytest.mark.slow
def test_kill_nine_then_resume_matches_uninterrupted_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = FakeJudgeServer(latency=0.05).start()
    try:
        out = tmp_path / "resumed"
        proc = subprocess.Popen(_cli(server, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait(lambda: sum(server.stats()["delivered"].values()) >= 20, 60, "20 answers")
        server.hold()  # calls now in flight stay in flight
        _wait(lambda: server.stats()["held"] >= 1, 10, "a held call")
        _wait(lambda: server.stats()["answering"] == 0, 10, "answers already under way to go out")
        delivered = sum(server.stats()["delivered"].values())
        # Kill-safety means every answer received is already committed; give the client a moment.
        _wait(lambda: _cache_rows(out / "cache.sqlite") >= delivered, 10, "answers to reach the cache")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        server.release(drop=True)  # the killed client's in-flight calls are never answered
        assert not (out / "fake__dynamic.long.jsonl").exists()  # nothing half-written
        assert 20 <= delivered < N_TASKS

        assert main(_cli(server, out)[3:]) == 0  # resume in-process (same command line)
        stats = server.stats()
        assert len(stats["delivered"]) == N_TASKS
        assert max(stats["delivered"].values()) == 1  # zero repeated calls
    finally:
        server.shutdown()
        server.server_close()

    reference_server = FakeJudgeServer(latency=0.0).start()
    try:
        ref = tmp_path / "reference"
        assert main(_cli(reference_server, ref)[3:]) == 0
    finally:
        reference_server.shutdown()
        reference_server.server_close()

    resumed, reference = _outputs(out), _outputs(ref)
    assert set(resumed) == {"fake__dynamic.long.jsonl", "fake__dynamic.failures.jsonl",
                            "wb/demo-alpha__fake__dynamic.jsonl", "wb/demo-beta__fake__dynamic.jsonl",
                            "wb/demo-gamma__fake__dynamic.jsonl"}
    assert resumed == reference
    assert resumed["fake__dynamic.long.jsonl"].count(b"\n") == N_TASKS
