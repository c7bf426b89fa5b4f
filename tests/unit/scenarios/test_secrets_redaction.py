"""No API key in anything metaeval writes, even when the provider echoes it back.

A loopback server answers every chat call with 401 and a body that repeats the key and the whole
Authorization header (as some providers and proxies do). ``metaeval judge`` and ``metaeval grid`` run
against it as real processes with verbose logging; the key must appear in no output file (failures,
score files, grid.json, the cache), not on stdout or stderr, and the failure must still say 401.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from metaeval.judges.engine import _describe
from metaeval.redact import MASK, redact, register_secret

REPO = Path(__file__).resolve().parents[3]
FIX = REPO / "tests" / "fixtures"
KEY = "sk-live-7f3a9c1e5b2d4f6a8c0e1g3i5k7m9o1q"


class _EchoKey(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {token}. You sent "
                                                f"'Authorization: {auth}' and x-api-key: {token}",
                                     "type": "invalid_request_error", "code": "invalid_api_key"}})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


class _EchoServer(ThreadingHTTPServer):
    # the judge opens several connections at once; the default listen queue (5) drops some of them
    request_queue_size = 128


@pytest.fixture()
def echo_server() -> Iterator[str]:
    server = _EchoServer(("127.0.0.1", 0), _EchoKey)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _metaeval(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MY_JUDGE_KEY": KEY}
    return subprocess.run([sys.executable, "-m", "metaeval.cli", "-v", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=240)


def _assert_no_key(folder: Path, proc: subprocess.CompletedProcess[str]) -> list[Path]:
    assert KEY not in proc.stdout and KEY not in proc.stderr, "the key reached stdout/stderr"
    assert KEY[8:24] not in proc.stderr, "part of the key reached stderr"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, "nothing was written"
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and KEY[8:24].encode() not in data, f"the key is in {path}"
    return files


ENGINE = ["--api-key-env", "MY_JUDGE_KEY", "--max-attempts", "1", "--max-invalid", "1", "--no-progress"]


def test_judge_failures_log_and_output_hold_no_key(echo_server: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _metaeval(["judge", "--method", "dynamic", "--judge", f"j=openai-compatible:{echo_server}@m",
                      "--queries", str(FIX / "judge_queries.jsonl"), "--responses",
                      str(FIX / "judge_responses.jsonl"), "--output", str(out), *ENGINE])
    assert proc.returncode == 0, proc.stderr
    _assert_no_key(out, proc)
    failures = [json.loads(line) for line in (out / "j__dynamic.failures.jsonl").read_text().splitlines()]
    assert failures, "every call failed with 401, so every task is a failure"
    assert all("401" in row["error"] and MASK in row["error"] for row in failures), failures[0]


def test_grid_json_and_verdicts_hold_no_key(echo_server: str, tmp_path: Path) -> None:
    out = tmp_path / "grid"
    proc = _metaeval(["grid", "--votes", str(FIX / "judge_votes.jsonl"), "--queries",
                      str(FIX / "judge_queries.jsonl"), "--responses", str(FIX / "judge_responses.jsonl"),
                      "--judge", f"j=openai-compatible:{echo_server}@m", "--methods", "dynamic", "--pairwise",
                      "--output", str(out), *ENGINE])
    assert proc.returncode == 0, proc.stderr
    files = _assert_no_key(out, proc)
    assert out / "grid.json" in files
    text = (out / "scores" / "j__pairwise.failures.jsonl").read_text()
    assert "401" in text and MASK in text


def test_exception_text_is_redacted_before_it_is_cut() -> None:
    """A key that straddles the 300-character cut of an error description is still masked whole."""
    register_secret(KEY)
    error = RuntimeError("x" * 290 + KEY + " tail")
    assert KEY[:10] not in _describe(error)
    assert redact(f"Authorization: Bearer {KEY}") == f"Authorization: Bearer {MASK}"
    assert redact("Authorization: Bearer unregistered-token-123") == f"Authorization: {MASK}"


def test_an_unexpected_traceback_is_redacted() -> None:
    """A bug that raises with the key in its message: the traceback metaeval prints masks it."""
    code = ("import os; from metaeval.redact import install_excepthook; install_excepthook(); "
            "from metaeval.judges.base import read_key; key = read_key('MY_JUDGE_KEY', required=True); "
            "raise RuntimeError('boom with ' + key)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "MY_JUDGE_KEY": KEY}, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and f"boom with {MASK}" in proc.stderr
    assert KEY not in proc.stderr
