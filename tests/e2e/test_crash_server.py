"""kill -9 of the app server while annotators submit over the API, 20 times.

Each round starts ``annotate serve`` on the same SQLite file, lets two client threads
submit judgments (``GET /api/v1/tasks/next`` + ``POST /api/v1/judgments``) as fast as they
can, and SIGKILLs the server's process group after a random 0.2-1.2 s. The next round's
restart is the "after restart" of the previous one. After every kill the database must
pass ``PRAGMA integrity_check`` and hold every judgment whose submit was acknowledged
(a 2xx answer reached the client); nothing may be half-written: every judgment has exactly
its revisions, and a task is "done" exactly when it has a judgment.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import uuid

import httpx
import pytest

from annotate.db.engine import init_db
from tests.fixtures.app_server import kill_hard, seed_api_study, start_server

pytestmark = pytest.mark.slow
ROUNDS = 20
PASSWORD = "crash-test-password"


def _login(base: str, name: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/login", json={"username": name, "password": PASSWORD}, timeout=30,
                   trust_env=False)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}  # valid across restarts (same secret)


def _client_loop(base: str, auth: dict[str, str], acks: list[dict], stop: threading.Event) -> None:
    try:
        with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
            while not stop.is_set():
                task = client.get("/api/v1/tasks/next", headers=auth).json()["task"]
                if task is None:
                    return
                body = {"assignment_id": task["assignment_id"], "choice": "left",
                        "submit_token": uuid.uuid4().hex, "content_revision": task["content_revision"],
                        "instruction_version_no": task["instruction_version_no"]}
                r = client.post("/api/v1/judgments", headers=auth, json=body)
                if r.status_code in (200, 201):
                    acks.append({"token": body["submit_token"], "assignment_id": body["assignment_id"]})
    except (httpx.HTTPError, KeyError, ValueError):
        return  # the server died under us: whatever was not acknowledged may or may not be stored


def _check(db_path, acks: list[dict]) -> int:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tokens = {t for (t,) in conn.execute("SELECT submit_token FROM judgmentrevision")}
        missing = [a for a in acks if a["token"] not in tokens]
        assert not missing, f"{len(missing)} acknowledged judgments lost"
        # nothing half-written: judgment.revision == number of its revision rows, and a
        # task is done exactly when it has a judgment
        bad = conn.execute(
            "SELECT j.id FROM judgment j LEFT JOIN judgmentrevision r ON r.judgment_id = j.id "
            "GROUP BY j.id HAVING count(r.id) != max(j.revision)").fetchall()
        assert bad == []
        done = {a for (a,) in conn.execute("SELECT id FROM assignment WHERE status = 'done'")}
        judged = {a for (a,) in conn.execute("SELECT assignment_id FROM judgment")}
        assert done == judged
        return len(judged)
    finally:
        conn.close()


def test_kill9_server_during_submits_loses_nothing_acknowledged(tmp_path):
    db_path = tmp_path / "crash.db"
    db_url = f"sqlite:///{db_path}"
    engine = init_db(db_url)
    names = seed_api_study(engine, annotators=2, tasks_each=400, password=PASSWORD, overlap=2)
    engine.dispose()
    rng = random.Random(8)
    acks: list[dict] = []
    judged_after: list[int] = []
    auths: list[dict[str, str]] = []
    for _ in range(ROUNDS):
        server = start_server(db_url, tmp_path / "server.log", secret="crash-test-secret-0123456789")
        auths = auths or [_login(server.base_url, n) for n in names]
        before = len(acks)
        stop = threading.Event()
        threads = [threading.Thread(target=_client_loop, args=(server.base_url, a, acks, stop)) for a in auths]
        for t in threads:
            t.start()
        for _ in range(300):  # until this round has acknowledged submits (at most ~15 s)
            if len(acks) >= before + 2:
                break
            threading.Event().wait(0.05)
        threading.Event().wait(rng.uniform(0.0, 0.3))
        kill_hard(server)  # SIGKILL with submits in flight
        stop.set()
        for t in threads:
            t.join(timeout=15)
        judged_after.append(_check(db_path, acks))
    # the rounds did real work (submits were acknowledged across the kills)
    assert len(acks) >= 2 * ROUNDS and judged_after == sorted(judged_after)
    assert judged_after[-1] >= len({a["assignment_id"] for a in acks})
