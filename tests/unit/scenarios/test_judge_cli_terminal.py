"""`metaeval judge` and `grid` as real processes: Ctrl-C and the progress display.

- SIGINT while calls are in flight: one line ("interrupted; rerun the same command to resume"), no
  traceback, exit status 130; the same command run again finishes and asks the server only for what
  was not answered before.
- On a terminal (a pseudo-terminal here) progress is a live tqdm bar; with stderr redirected it is
  the periodic log line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

REPO = Path(__file__).resolve().parents[3]
FIX = REPO / "tests" / "fixtures"
TASKS = 60  # 4 queries x 3 models x 5 dynamic criteria (the fixture files), each one call
pytestmark = pytest.mark.slow


@pytest.fixture()
def server() -> Iterator[FakeJudgeServer]:
    srv = FakeJudgeServer(latency=0.3).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _command(kind: str, base_url: str, out: Path) -> list[str]:
    common = ["--queries", str(FIX / "judge_queries.jsonl"), "--responses", str(FIX / "judge_responses.jsonl"),
              "--judge", f"j=openai-compatible:{base_url}@fake", "--output", str(out), "--concurrency", "2"]
    if kind == "judge":
        return [sys.executable, "-m", "metaeval.cli", "judge", "--method", "dynamic", *common]
    return [sys.executable, "-m", "metaeval.cli", "grid", "--votes", str(FIX / "judge_votes.jsonl"),
            "--methods", "dynamic", *common]


@pytest.mark.parametrize("kind", ["judge", "grid"])
def test_ctrl_c_prints_one_line_exits_130_and_the_rerun_resumes(kind: str, server: FakeJudgeServer,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(_command(kind, server.base_url, out), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while server.requests < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None and server.requests >= 4, "the run never got going"
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[-1] == "metaeval: interrupted; rerun the same command to resume", stderr
    assert sum("interrupted" in line for line in lines) == 1
    first_run = server.requests

    again = subprocess.run(_command(kind, server.base_url, out), cwd=REPO, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    asked_again = server.requests - first_run
    assert asked_again < TASKS, "the rerun asked for every task again: nothing was resumed"
    long_file = out / ("j__dynamic.long.jsonl" if kind == "judge" else "scores/j__dynamic.long.jsonl")
    assert len(long_file.read_text().splitlines()) == TASKS


def _read_all(fd: int, proc: subprocess.Popen, timeout: float) -> bytes:
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks)


def test_progress_is_a_live_bar_on_a_terminal_and_log_lines_otherwise(server: FakeJudgeServer,
                                                                      tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 160, 0, 0))  # 160 columns, as a window has
    proc = subprocess.Popen(_command("judge", server.base_url, tmp_path / "tty"), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        shown = _read_all(master, proc, 300).decode("utf-8", errors="replace")
        proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 0, shown
    # tqdm: "j/dynamic:  50%|█████     | 30/60 [00:05<00:05, 5.9task/s, calls 30 ...]", redrawn with \r
    assert "j/dynamic:" in shown and "%|" in shown and f"{TASKS}/{TASKS} [" in shown, shown[-2000:]
    assert "\r" in shown and "task/s" in shown
    assert "INFO metaeval.judges.progress" not in shown

    piped = subprocess.run(_command("judge", server.base_url, tmp_path / "piped"), cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    logged = [line for line in piped.stderr.splitlines() if line.startswith("INFO metaeval.judges.progress:")]
    assert logged and logged[-1].startswith(f"INFO metaeval.judges.progress: j/dynamic {TASKS}/{TASKS} [100.0%]")
    assert "%|" not in piped.stderr and "\r" not in piped.stderr
