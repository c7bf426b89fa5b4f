"""`annotate serve` as a real process: SIGTERM frees the port, a taken port is a clean error.

Ports are free ones chosen by the kernel; every process started here is stopped by its own id.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.app_server import free_port, kill_hard, start_server

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _session_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_the_server_and_frees_the_port(tmp_path: Path) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'serve.db'}", tmp_path / "serve.log",
                          health_path="/_stcore/health")
    try:
        os.kill(server.process.pid, signal.SIGTERM)  # the pid `annotate serve` was started as, only
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (not _port_free(server.port) or _session_alive(server.process.pid)):
            time.sleep(0.2)
        assert _port_free(server.port), f"port {server.port} still taken after SIGTERM:\n{server.log_tail()}"
        assert not _session_alive(server.process.pid), "a process of `annotate serve` outlived SIGTERM"
    finally:
        if _session_alive(server.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            kill_hard(server)


def test_a_taken_port_is_one_line_and_exit_2_before_serving(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        proc = subprocess.run([sys.executable, "-m", "annotate.commands.cli", "--db",
                               f"sqlite:///{tmp_path / 'x.db'}", "serve", "--port", str(port),
                               "--address", "127.0.0.1"], capture_output=True, text=True, cwd=REPO,
                              timeout=120, start_new_session=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "serving" not in proc.stdout
    assert proc.stderr.strip() == (f"annotate: error: 127.0.0.1:{port} is already in use (is another server "
                                   "running?); stop that server or choose another --port"), proc.stderr
