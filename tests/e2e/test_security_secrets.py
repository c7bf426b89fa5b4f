"""No secret reaches the logs or the database.

Planted secrets: an account password (set through ``annotate users add`` with
``ANNOTATE_PASSWORD``), a wrong password tried at login, the API signing key
(``ANNOTATE_SECRET_KEY``) and a judge API key (``OPENAI_API_KEY`` of a ``metaeval judge``
run against a loopback fake server). After logins over the API of a real ``annotate serve``
(at DEBUG log level) and the judge run, none of them occurs in the SQLite files (database,
WAL, judge cache), the server log, the CLI output or the judge outputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from annotate.db.engine import init_db
from tests.fixtures.app_server import start_server, stop
from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PASSWORD = "PLANTED-password-5a1e0c"
WRONG = "PLANTED-wrong-password-77d2"
SIGNING_KEY = "PLANTED-signing-key-0f4b8e6a2c"
API_KEY = "sk-PLANTED-api-key-93ab51"
PLANTED = (PASSWORD, WRONG, SIGNING_KEY, API_KEY)


def _leaks(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        data = path.read_bytes() if path.is_file() else b""
        found += [f"{path.name}: {s}" for s in PLANTED if s.encode() in data]
    return found


def test_planted_secrets_absent_from_database_and_logs(tmp_path):
    db_path = tmp_path / "secrets.db"
    db_url = f"sqlite:///{db_path}"
    init_db(db_url).dispose()
    env = dict(os.environ, ANNOTATE_PASSWORD=PASSWORD)
    cli = subprocess.run([sys.executable, "-m", "annotate.commands.cli", "--db", db_url, "users", "add", "alice",
                          "--role", "annotator"], env=env, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    (tmp_path / "cli.log").write_text(cli.stdout + cli.stderr)

    log_path = tmp_path / "server.log"
    server = start_server(db_url, log_path, secret=SIGNING_KEY,
                          extra_env={"STREAMLIT_LOGGER_LEVEL": "debug"})
    try:
        with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client:
            bad = client.post("/api/v1/login", json={"username": "alice", "password": WRONG})
            assert bad.status_code == 401 and WRONG not in bad.text
            good = client.post("/api/v1/login", json={"username": "alice", "password": PASSWORD})
            assert good.status_code == 200 and PASSWORD not in good.text
            token = good.json()["token"]
            assert SIGNING_KEY not in token
            assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        stop(server)

    judge_server = FakeJudgeServer().start()
    out = tmp_path / "judgments"
    try:
        judge = subprocess.run(
            [sys.executable, "-m", "metaeval.cli", "judge", "--method", "static-global",
             "--judge", f"fake=openai-compatible:{judge_server.base_url}@fake-judge",
             "--queries", str(FIXTURES / "judge_queries.jsonl"),
             "--responses", str(FIXTURES / "judge_responses.jsonl"),
             "--static-global", str(FIXTURES / "judge_static_global.json"), "--output", str(out),
             "--no-progress"],
            env=dict(os.environ, OPENAI_API_KEY=API_KEY), capture_output=True, text=True, timeout=240)
    finally:
        judge_server.shutdown()
    assert judge.returncode == 0, judge.stderr[-2000:]
    (tmp_path / "judge.log").write_text(judge.stdout + judge.stderr)

    files = [db_path, Path(f"{db_path}-wal"), log_path, tmp_path / "cli.log", tmp_path / "judge.log",
             *out.rglob("*")]
    assert log_path.stat().st_size > 0 and len(files) > 6
    assert _leaks(files) == []
