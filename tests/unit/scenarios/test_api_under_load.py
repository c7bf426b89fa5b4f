"""What makes an API collapse under load, each kept away by a test:

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
from annotate.services.annotate import judgments, tasks
from annotate.services.studies.design import StudyDesign, create_study
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
            task = tasks.next_task(session=s, actor=made["u1"])
            again = tasks.get_task(session=s, actor=made["u1"], assignment_id=task.assignment_id)
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
            task = tasks.next_task(session=s, actor=made["u1"])
            assert task is not None and task.position == 1
            assert tasks.get_task(session=s, actor=made["u1"],
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
                    task = tasks.next_task(session=s, actor=made[name])
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

    real_next = tasks.next_task

    def slow_next(**kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.05)  # keeps requests overlapping, so an unbounded pool would show it
        return real_next(**kwargs)

    monkeypatch.setattr(tasks, "next_task", slow_next)
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


# --------------------------------------------------------------------------- round trips per request


def test_next_task_and_submit_take_few_round_trips(engine):
    # Counted by hand from what each request needs (BEGIN and COMMIT are not counted; SQLite's
    # BEGIN IMMEDIATE is a statement there):
    #   next task: the account behind the token + one SELECT for the whole task view = 2
    #   first submit: account, lock the task, its judgment/token state, SELECT the showing's
    #     active time (none: an API client sends no heartbeats), INSERT judgment, INSERT revision,
    #     UPDATE the task to done = 7
    #   the same submit sent again: account, lock, state (the token is found) = 3
    #   a revision (new token, judged task): account, lock, state, SELECT the showing,
    #     UPDATE judgment, INSERT revision (the task is already done) = 6
    # The ORM code before took 7 statements for a next task and 7 for a first submit.
    _study(engine, ["u1"])
    api = Api(engine, SECRET)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split())[:60])

    async def measured(client: httpx.AsyncClient, method: str, url: str, **kwargs) -> tuple[httpx.Response, int]:
        statements.clear()
        response = await client.request(method, url, **kwargs)
        return response, sum(1 for text in statements if not text.startswith("BEGIN"))

    async def scenario() -> dict[str, int]:
        transport = httpx.ASGITransport(app=Starlette(routes=api.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            auth = await _login(client, "u1")
            event.listen(engine, "before_cursor_execute", count)
            try:
                nxt, n_next = await measured(client, "GET", "/api/v1/tasks/next", headers=auth)
                task = nxt.json()["task"]
                first, n_first = await measured(client, "POST", "/api/v1/judgments", headers=auth,
                                                json=_body(task, "t1"))
                again, n_again = await measured(client, "POST", "/api/v1/judgments", headers=auth,
                                                json=_body(task, "t1"))
                revised, n_revised = await measured(client, "POST", "/api/v1/judgments", headers=auth,
                                                    json=dict(_body(task, "t2"), choice="right"))
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert (first.status_code, again.status_code, revised.status_code) == (201, 200, 201)
            assert again.json()["created"] is False and revised.json()["revision"] == 2
            return {"next": n_next, "first": n_first, "again": n_again, "revised": n_revised}

    counts = asyncio.run(scenario())
    assert counts == {"next": 2, "first": 7, "again": 3, "revised": 6}
    with session_scope(engine) as s:  # and what they stored is what the four answers said
        assert s.exec(select(func.count()).select_from(Judgment)).one() == 1
        assert sorted(s.exec(select(JudgmentRevision.submit_token)).all()) == ["t1", "t2"]
        assert s.exec(select(Judgment.winner, Judgment.revision)).one()[1] == 2


# --------------------------------------------------------------------------- past Streamlit's middleware


def test_api_requests_bypass_streamlit_middleware():
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from annotate.api.direct_route import DirectApiRoute

    reached: list[str] = []

    async def streamlit_stack(scope, receive, send):  # type: ignore[no-untyped-def]
        reached.append(scope["path"])
        await PlainTextResponse("ui")(scope, receive, send)

    async def ping(_request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("pong")

    app = DirectApiRoute(streamlit_stack, routes=[Route("/api/v1/ping", ping)])

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [await client.get(p) for p in ("/api/v1/ping", "/api/v1/nothing", "/", "/api/v1x")]

    ping_r, missing, ui, lookalike = asyncio.run(scenario())
    assert (ping_r.text, ui.text, lookalike.text) == ("pong", "ui", "ui")
    assert missing.status_code == 404 and missing.json() == {"error": "no API route /api/v1/nothing"}
    assert reached == ["/", "/api/v1x"]  # the API's requests never entered the Streamlit stack


def test_the_app_server_routes_the_api_directly(tmp_path, monkeypatch):
    # The real ASGI app (st.App): an unknown API path gets the API's JSON 404, not
    # Streamlit's page, and health answers without passing Streamlit's gzip/session layers.
    monkeypatch.setenv("ANNOTATE_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("ANNOTATE_SECRET_KEY", "k" * 32)
    from annotate import asgi

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=asgi.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [await client.get(p, headers={"accept-encoding": "gzip"})
                    for p in ("/api/v1/health", "/api/v1/no-such-route")]

    health, missing = asyncio.run(scenario())
    assert health.status_code == 200 and health.json() == {"ok": True}
    assert "vary" not in health.headers  # Streamlit's gzip layer marks what it sees with Vary
    assert missing.status_code == 404 and missing.json() == {"error": "no API route /api/v1/no-such-route"}


def test_a_task_with_many_materials_reads_them_in_three_queries(engine):
    # Four documents on the first task's query: doc 1 pruned to its second segment by an
    # approved version (a later *pending* version would keep both and must not count),
    # doc 2 unpruned (both segments, joined by its separator), doc 3 pruned to nothing
    # (left out), doc 4 rejected (never shown). By hand, the materials are
    # [("d1", "one-b"), ("d2", "two-a\n\ntwo-b")], and reading them costs 3 statements
    # (documents, segments, versions) whatever the number of documents.
    from annotate.db.models import MaterialDocument, MaterialSegment, MaterialVersion, StudyItem, User

    made = _study(engine, ["u1"])
    with session_scope(engine) as s:
        first = tasks.next_task(session=s, actor=made["u1"])
        query_id = s.get(StudyItem, first.item_id).query_id
        docs = [MaterialDocument(query_id=query_id, title=f"d{i}", status="rejected" if i == 4 else "active")
                for i in (1, 2, 3, 4)]
        s.add_all(docs)
        s.flush()
        for doc, (a, b) in zip(docs, [("one-a", "one-b"), ("two-a", "two-b"), ("three-a", "three-b"),
                                      ("four-a", "four-b")], strict=True):
            s.add_all([MaterialSegment(document_id=doc.id, position=0, text=a, separator="\n\n"),
                       MaterialSegment(document_id=doc.id, position=1, text=b, separator="\n")])
        s.add_all([MaterialVersion(document_id=docs[0].id, version_no=1, kept=[1]),
                   MaterialVersion(document_id=docs[0].id, version_no=2, kept=[0, 1], status="pending"),
                   MaterialVersion(document_id=docs[2].id, version_no=1, kept=[])])
        s.commit()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if not statement.lstrip().startswith("BEGIN"):
            statements.append(statement)

    with session_scope(engine) as s:
        actor = s.get(User, made["u1"].id)
        event.listen(engine, "before_cursor_execute", count)
        try:
            task = tasks.get_task(session=s, actor=actor, assignment_id=first.assignment_id)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert task.materials == [("d1", "one-b"), ("d2", "two-a\n\ntwo-b")]
    assert len(statements) == 1 + 3  # the task view, then documents, segments, versions
