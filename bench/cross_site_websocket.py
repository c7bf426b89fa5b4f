"""Another user's API latency while hostile pages hammer the app's websocket with a foreign Origin.

Starts ``annotate serve`` on a fresh SQLite file (from ``--repo``, default this checkout), then
for ``--seconds`` each: (1) idle: one client asks ``GET /api/v1/health`` in a loop; (2) the same
while ``--hostile`` clients each open websocket upgrades to ``/_stcore/stream`` with
``Origin: http://evil.example`` as fast as they are answered. Prints, for both phases from the
same run, how many health answers came back and their median and worst latency, plus how
the hostile upgrades were answered. Run it against an older checkout with ``--repo`` to see
the figures before a change.

    python bench/cross_site_websocket.py                        # this checkout
    python bench/cross_site_websocket.py --before /path/to/old  # and an older checkout, same run
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.fixtures.app_server import AppServer, free_port, stop  # noqa: E402


def serve(repo: Path, db_url: str, log_path: Path, timeout: float = 120.0) -> AppServer:
    """``annotate serve`` of the checkout ``repo`` on loopback, once its UI answers."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(repo), PYTHONUNBUFFERED="1")
    env.pop("ANNOTATE_DB_URL", None)
    with log_path.open("a") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "annotate.commands.cli", "--db", db_url, "serve", "--port", str(port),
             "--address", "127.0.0.1"], cwd=repo, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
    server = AppServer(process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"annotate serve exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    raise RuntimeError(f"annotate serve not up:\n{server.log_tail()}")


async def health_loop(port: int, until: float) -> list[float]:
    """Latencies (s) of ``GET /api/v1/health``, one request at a time, each on a new connection."""
    times: list[float] = []
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            writer.write(f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                         .encode())
            await writer.drain()
            await asyncio.wait_for(reader.read(), 30)
            writer.close()
        except (OSError, TimeoutError):
            continue
        times.append(time.perf_counter() - start)
    return times


async def hostile_loop(port: int, until: float, answers: Counter[str]) -> None:
    """Open websocket upgrades with a foreign Origin, one after the other, until ``until``."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Origin: http://evil.example\r\n\r\n").encode()
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            writer.write(request)
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 30)
            answers[line.decode("latin-1").split(" ", 2)[1] if line.count(b" ") >= 1 else "closed"] += 1
            writer.close()
        except (OSError, TimeoutError, IndexError):
            answers["error"] += 1


async def phase(port: int, seconds: float, hostile: int) -> tuple[list[float], Counter[str]]:
    until = time.monotonic() + seconds
    answers: Counter[str] = Counter()
    results = await asyncio.gather(health_loop(port, until),
                                   *(hostile_loop(port, until, answers) for _ in range(hostile)))
    return results[0], answers


def describe(name: str, times: list[float], seconds: float) -> str:
    if not times:
        return f"{name:<26} 0 answers in {seconds:.0f} s"
    return (f"{name:<26} {len(times):6d} answers in {seconds:.0f} s   median {statistics.median(times) * 1000:8.1f} ms"
            f"   worst {max(times) * 1000:8.1f} ms")


def measure(repo: Path, seconds: float, hostile: int) -> list[str]:
    """Both phases against the app of checkout ``repo``; lines to print."""
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.db"
        server = serve(repo, db_url, Path(tmp) / "server.log")
        try:
            idle, _ = asyncio.run(phase(server.port, seconds, 0))
            loaded, answers = asyncio.run(phase(server.port, seconds, hostile))
        finally:
            stop(server)
    return [f"app from {repo}", describe("idle (baseline)", idle, seconds),
            describe(f"with {hostile} hostile websockets", loaded, seconds),
            f"hostile upgrades answered: {dict(answers)}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=HERE.parent, help="checkout whose app is measured")
    parser.add_argument("--before", type=Path, default=None, help="an older checkout to measure in the same run")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--hostile", type=int, default=4)
    args = parser.parse_args()
    for repo in [r for r in (args.before, args.repo) if r is not None]:
        print("\n".join(measure(repo.resolve(), args.seconds, args.hostile)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
