"""What made the API collapse under load (issue #17 section 7), each pinned by a test:

* answers waited ~40 ms for a delayed ACK: the listening socket Streamlit binds has Nagle on;
* next-task selection took a row lock (PostgreSQL: a transaction id and a WAL flush per
  call) or the write lock (SQLite ``BEGIN IMMEDIATE``: reads queued behind every writer);
* up to 40 threads per process fought over the GIL and a 15-connection pool;
* the bench had no way to tell the server's own time from the client's.

Runs on SQLite and PostgreSQL. No timings are asserted (bench/stress.py measures them).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import event, text
from sqlmodel import func, select
from starlette.applications import Starlette

from annotate.api import listeners
from annotate.api.routes import Api
from annotate.db.engine import make_engine, session_scope
from annotate.db.models import Assignment, Judgment, JudgmentRevision
from annotate.services.accounts import users as users_service
from annotate.services.annotate import assignments, judgments
from annotate.services.studies.studies import StudyDesign, create_study
from tests.fixtures.study_factory import grid_spec, make_benchmark

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)
PW = "a-long-password"
SECRET = b"test-secret-0123456789abcdef"

pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


def _study(engine, annotators: list[str], tasks_each: int = 3) -> dict:
    """A pairwise study where each annotator has ``tasks_each`` tasks (overlap 1)."""
    with session_scope(engine) as s:
        make_benchmark(s, grid_spec(len(annotators) * tasks_each, 1, ["m1", "m2"]))
        made = {name: users_service.create_user(session=s, username=name, role="annotator", password=PW)
                for name in annotators}
        made["res"] = users_service.create_user(session=s, username="res", role="researcher", password=PW)
        create_study(session=s, actor=made["res"], design=StudyDesign(
            name="s", per_subdomain=1, overlap=1, annotators=annotators, seed=1))
    return made


def _body(task: dict, token: str) -> dict:
    return {"assignment_id": task["assignment_id"], "choice": "left", "submit_token": token,
            "instruction_version_no": task["instruction_version_no"],
            "content_revision": task["content_revision"]}


async def _login(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    r = await client.post("/api/v1/login", json={"username": name, "password": PW})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


# --------------------------------------------------------------------------- Nagle


def test_nagle_is_switched_off_on_listening_sockets():
    # Bound like Streamlit binds its server socket: socket.socket(family) has protocol 0,
    # and asyncio only sets TCP_NODELAY on sockets whose protocol is IPPROTO_TCP.
    listener = socket.socket(socket.AF_INET)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert listener.proto == 0
        assert listeners.set_nodelay_on_listeners() >= 1
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        with client, accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


def test_app_lifespan_switches_nagle_off():
    from annotate import asgi

    listener = socket.socket(socket.AF_INET)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        async def start_and_stop() -> None:
            async with asgi._lifespan(asgi.app):
                pass

        asyncio.run(start_and_stop())
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


# --------------------------------------------------------------------------- next task takes no lock


def test_next_task_reads_without_locks(engine, db_backend):
    made = _study(engine, ["u1"])
    if db_backend == "postgres":
        # Every transaction of this session is read-only: SELECT ... FOR UPDATE would fail.
        with session_scope(engine) as s:
            s.connection().exec_driver_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            s.commit()
            task = assignments.next_task(session=s, actor=made["u1"])
            again = assignments.get_task(session=s, actor=made["u1"], assignment_id=task.assignment_id)
            assert task is not None and again.assignment_id == task.assignment_id
            s.connection().exec_driver_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            s.commit()
        return
    # SQLite: another connection holds the write lock; with no busy wait at all, a read
    # that asks for the write lock (BEGIN IMMEDIATE) fails at once with "database is locked".
    quick = make_engine(str(engine.url))
    event.listen(quick, "connect", lambda conn, _r: conn.execute("PRAGMA busy_timeout=0"))
    writer = sqlite3.connect(engine.url.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        with session_scope(quick) as s:
            task = assignments.next_task(session=s, actor=made["u1"])
            assert task is not None and task.position == 1
            assert assignments.get_task(session=s, actor=made["u1"],
                                        assignment_id=task.assignment_id).assignment_id == task.assignment_id
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        quick.dispose()


def test_api_reads_do_not_wait_for_a_writer_on_sqlite(engine, db_backend):
    if db_backend != "sqlite":
        pytest.skip("SQLite's write lock")
    _study(engine, ["u1"])
    quick = make_engine(str(engine.url))
    event.listen(quick, "connect", lambda conn, _r: conn.execute("PRAGMA busy_timeout=0"))
    api = Api(quick, SECRET)

    async def scenario() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=Starlette(routes=api.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            auth = await _login(client, "u1")
            writer = sqlite3.connect(engine.url.database, isolation_level=None)
            try:
                writer.execute("BEGIN IMMEDIATE")
                me = await client.get("/api/v1/me", headers=auth)
                nxt = await client.get("/api/v1/tasks/next", headers=auth)
            finally:
                writer.execute("ROLLBACK")
                writer.close()
            return me.status_code, nxt.status_code

    try:
        assert asyncio.run(scenario()) == (200, 200)
    finally:
        quick.dispose()


def test_concurrent_workers_each_task_once_and_no_retries(engine, caplog):
    # Eight annotators, two sessions ("servers") each, all working at once: every task is
    # answered exactly once (revision 1, never handed out again once done), no submit
    # needed a retry, and each session's loop ran exactly (its tasks + 1) next_task calls.
    names = [f"w{i}" for i in range(8)]
    made = _study(engine, names, tasks_each=4)
    calls: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(names) * 2)

    def work(name: str) -> None:
        n = 0
        try:
            barrier.wait(30)
            while True:
                with session_scope(engine) as s:
                    n += 1
                    task = assignments.next_task(session=s, actor=made[name])
                    if task is None:
                        break
                    judgments.submit_judgment(
                        session=s, actor=made[name], assignment_id=task.assignment_id, choice="left",
                        submit_token=uuid.uuid4().hex, instruction_version_no=task.instruction_version_no,
                        content_revision=task.content_revision)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        calls.append(n)

    caplog.set_level(logging.WARNING, logger="annotate.services.annotate.judgments")
    threads = [threading.Thread(target=work, args=(name,)) for name in names for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with session_scope(engine) as s:
        done = s.exec(select(func.count()).select_from(Assignment).where(Assignment.status == "done")).one()
        per_task = s.exec(select(Judgment.assignment_id, Judgment.revision)).all()
        revisions = s.exec(select(func.count()).select_from(JudgmentRevision)).one()
    assert done == len(per_task) == 32
    # Two sessions of one annotator may both be shown the queue's head while neither has
    # submitted it; the second answer is then a revision (never a second judgment).
    assert revisions == sum(r for _, r in per_task)
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]
    # 32 tasks, 16 sessions: every call served a task or ended the loop (no spinning).
    assert sum(calls) == revisions + len(threads)


# --------------------------------------------------------------------------- bounded workers, one connection


def test_database_work_is_bounded_and_uses_one_connection_per_request(engine, monkeypatch):
    names = [f"c{i}" for i in range(12)]
    _study(engine, names, tasks_each=1)
    in_use = {"now": 0, "max": 0}
    lock = threading.Lock()
    per_thread: dict[int, int] = {}

    def checkout(_dbapi, _record, _proxy):  # type: ignore[no-untyped-def]
        with lock:
            in_use["now"] += 1
            in_use["max"] = max(in_use["max"], in_use["now"])
            per_thread[threading.get_ident()] = per_thread.get(threading.get_ident(), 0) + 1

    def checkin(_dbapi, _record):  # type: ignore[no-untyped-def]
        with lock:
            in_use["now"] -= 1

    real_next = assignments.next_task

    def slow_next(**kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.05)  # keeps requests overlapping, so an unbounded pool would show it
        return real_next(**kwargs)

    monkeypatch.setattr(assignments, "next_task", slow_next)
    api = Api(engine, SECRET, workers=3, login_workers=1)

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=Starlette(routes=api.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            auths = [await _login(client, name) for name in names]
            event.listen(engine, "checkout", checkout)
            event.listen(engine, "checkin", checkin)
            try:
                return list(await asyncio.gather(*(client.get("/api/v1/tasks/next", headers=a)
                                                   for a in auths)))
            finally:
                event.remove(engine, "checkout", checkout)
                event.remove(engine, "checkin", checkin)

    answers = asyncio.run(scenario())
    assert [r.status_code for r in answers] == [200] * len(names)
    assert 1 <= in_use["max"] <= 3  # at most `workers` requests hold a connection at once
    assert sum(per_thread.values()) == len(names)  # one connection checked out per request


def test_answers_carry_the_server_time(engine):
    _study(engine, ["u1"])
    api = Api(engine, SECRET)

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=Starlette(routes=api.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            r_login = await client.post("/api/v1/login", json={"username": "u1", "password": PW})
            auth = {"Authorization": f"Bearer {r_login.json()['token']}"}
            nxt = await client.get("/api/v1/tasks/next", headers=auth)
            sub = await client.post("/api/v1/judgments", headers=auth, json=_body(nxt.json()["task"], "t1"))
            bad = await client.get("/api/v1/tasks/next", headers={"Authorization": "Bearer nope"})
            return [r_login, nxt, sub, bad]

    answers = asyncio.run(scenario())
    assert [r.status_code for r in answers] == [200, 200, 201, 401]
    for r in answers:
        name, _, dur = r.headers["server-timing"].partition(";dur=")
        assert name == "app" and float(dur) >= 0


def test_a_lost_database_connection_is_replaced_without_an_error(engine, db_backend):
    if db_backend != "postgres":
        pytest.skip("a PostgreSQL server connection to lose")
    _study(engine, ["u1"])
    api_engine = make_engine(str(engine.url.render_as_string(hide_password=False)), pool_size=1,
                             max_overflow=0, pre_ping=False)
    api = Api(api_engine, SECRET)

    async def scenario() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=Starlette(routes=api.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            auth = await _login(client, "u1")
            first = await client.get("/api/v1/tasks/next", headers=auth)
            with api_engine.connect() as conn:  # the one pooled connection's server process
                pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})  # waits
            second = await client.get("/api/v1/tasks/next", headers=auth)
            return first.status_code, second.status_code

    try:
        assert asyncio.run(scenario()) == (200, 200)
    finally:
        api_engine.dispose()
