"""kill -9 of a ``metaeval judge`` run, 5 times, against a loopback OpenAI-compatible server.

The judge runs as a subprocess with the fake server answering slowly; each run is
SIGKILLed once some completions have been cached. Afterwards the completion cache passes
``PRAGMA integrity_check``, no output file is half-written (every line is whole JSON), and
a final uninterrupted run completes with every score equal to the ``EXPECT_SCORE`` marker
in the response (set by hand in tests/fixtures/judge_responses.jsonl), reusing the cache
(fewer new requests than calls).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KILLS = 5


def _cached(cache: Path) -> int:
    if not cache.is_file():
        return 0
    try:
        conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM completions").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _outputs_whole(out: Path) -> None:
    for path in out.rglob("*.jsonl"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                json.loads(line)
            except ValueError:
                pytest.fail(f"{path}:{n} is not whole JSON")


def test_kill9_judge_run_then_resume(tmp_path):
    server = FakeJudgeServer(latency=0.15).start()
    out = tmp_path / "judgments"
    cache = out / "cache.sqlite"
    cmd = [sys.executable, "-m", "metaeval.cli", "judge", "--method", "static-global",
           "--judge", f"fake=openai-compatible:{server.base_url}@fake-judge",
           "--queries", str(FIXTURES / "judge_queries.jsonl"),
           "--responses", str(FIXTURES / "judge_responses.jsonl"),
           "--static-global", str(FIXTURES / "judge_static_global.json"),
           "--output", str(out), "--no-progress", "--concurrency", "2"]
    env = dict(os.environ, OPENAI_API_KEY="sk-test-not-a-real-key")
    try:
        for k in range(KILLS):
            before = _cached(cache)
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None and _cached(cache) < before + 2:
                time.sleep(0.05)
            assert proc.poll() is None, f"run {k} finished before it could be killed"
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            conn = sqlite3.connect(cache)
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            conn.close()
            _outputs_whole(out)
        cached = _cached(cache)
        requests_before = server.stats()["requests"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        server.shutdown()
    _outputs_whole(out)
    expected = {}
    for line in (FIXTURES / "judge_responses.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        expected[(row["index"], row["model"])] = int(re.search(r"EXPECT_SCORE=(\d+)", row["response"]).group(1))
    rows = [json.loads(x) for p in out.glob("*.long.jsonl") for x in p.read_text().splitlines()]
    criteria = json.loads((FIXTURES / "judge_static_global.json").read_text())["en"]
    assert len(rows) == len(expected) * len(criteria)
    assert all(r["score"] == expected[(r["index"], r["model"])] for r in rows)
    # the killed runs' completions were reused, not asked again
    assert cached >= 2 * KILLS
    assert server.stats()["requests"] - requests_before <= len(rows) - cached
