"""The JSON API (annotate/api) over HTTP with httpx, on SQLite and PostgreSQL: login and
tokens, role and ownership checks, next task, exactly-once submits, login slowing."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from annotate.api.routes import Api
from annotate.auth.tokens import issue_token, resolve_secret, verify_token
from annotate.db.engine import session_scope
from annotate.db.models import Judgment, JudgmentRevision
from annotate.services.accounts import login_limits
from annotate.services.accounts import users as users_service
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import grid_spec, make_benchmark

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)
PW = "a-long-password"
SECRET = b"test-secret-0123456789abcdef"


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


@pytest.fixture()
def client(engine):
    """An API client over a study: u1, u2 annotators (3 tasks each), res researcher."""
    with session_scope(engine) as s:
        make_benchmark(s, grid_spec(3, 1, ["m1", "m2"]))
        made = {name: users_service.create_user(session=s, username=name, role=role, password=PW)
                for name, role in [("u1", "annotator"), ("u2", "annotator"), ("res", "researcher")]}
        create_study(session=s, actor=made["res"], design=StudyDesign(
            name="s", per_subdomain=1, overlap=2, annotators=["u1", "u2"], seed=1))
    app = Starlette(routes=Api(engine, SECRET).routes())
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def login(client, name: str, password: str = PW) -> dict[str, str]:
    r = client.post("/api/v1/login", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def submit_body(task: dict, token: str, choice: str = "left") -> dict:
    return {"assignment_id": task["assignment_id"], "choice": choice, "submit_token": token,
            "instruction_version_no": task["instruction_version_no"],
            "content_revision": task["content_revision"]}


def test_login_next_task_and_submit_exactly_once(client, engine):
    auth = login(client, "u1")
    assert client.get("/api/v1/me", headers=auth).json() == {"user": "u1", "role": "annotator"}
    task = client.get("/api/v1/tasks/next", headers=auth).json()["task"]
    # the task holds what the page shows, never a model name
    assert task["total"] == 3 and task["done"] == 0
    assert "m1" not in str({k: v for k, v in task.items() if k not in ("left_text", "right_text")})
    first = client.post("/api/v1/judgments", headers=auth, json=submit_body(task, "tok-1"))
    again = client.post("/api/v1/judgments", headers=auth, json=submit_body(task, "tok-1", "right"))
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Judgment)).one() == 1
        assert s.exec(select(func.count()).select_from(JudgmentRevision)).one() == 1
    nxt = client.get("/api/v1/tasks/next", headers=auth).json()["task"]
    assert nxt["assignment_id"] != task["assignment_id"] and nxt["done"] == 1


def test_no_token_bad_token_and_other_peoples_tasks_refused(client):
    assert client.get("/api/v1/tasks/next").status_code == 401
    assert client.get("/api/v1/tasks/next", headers={"Authorization": "Bearer x.y"}).status_code == 401
    forged = issue_token(b"another-secret-0123456789", user_id=1, password_hash="!")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    u1, u2 = login(client, "u1"), login(client, "u2")
    task = client.get("/api/v1/tasks/next", headers=u1).json()["task"]
    assert client.get(f"/api/v1/tasks/{task['assignment_id']}", headers=u2).status_code == 403
    r = client.post("/api/v1/judgments", headers=u2, json=submit_body(task, "tok-x"))
    assert r.status_code == 403
    res = login(client, "res")  # a researcher has no tasks and cannot judge u1's
    assert client.get("/api/v1/tasks/next", headers=res).json() == {"task": None}
    assert client.post("/api/v1/judgments", headers=res, json=submit_body(task, "tok-y")).status_code == 403


def test_bad_bodies_named(client):
    auth = login(client, "u1")
    task = client.get("/api/v1/tasks/next", headers=auth).json()["task"]
    r = client.post("/api/v1/judgments", headers=auth, json={**submit_body(task, "t"), "choice": "up"})
    assert r.status_code == 400 and "A is better" in r.json()["error"] and "field" not in r.json()["error"]
    r = client.post("/api/v1/judgments", headers=auth, json={**submit_body(task, "t"), "winner": "a"})
    assert r.status_code == 400 and "winner" in r.json()["error"]
    r = client.post("/api/v1/judgments", headers=auth, content=b"not json")
    assert r.status_code == 400
    r = client.post("/api/v1/judgments", headers=auth, content=b"{" + b" " * 300_000 + b"}")
    assert r.status_code == 413


def test_deactivation_and_password_change_end_tokens(client, engine):
    auth = login(client, "u1")
    with session_scope(engine) as s:
        users_service.set_password(session=s, username="u1", password="another-password")
    assert client.get("/api/v1/me", headers=auth).status_code == 401
    auth = login(client, "u1", "another-password")
    with session_scope(engine) as s:
        users_service.deactivate(session=s, username="u1")
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_repeated_failed_logins_slowed_as_in_the_app(client):
    free = login_limits.FREE_FAILURES
    codes = [client.post("/api/v1/login", json={"username": "u2", "password": "wrong-password"}).status_code
             for _ in range(free)]
    # the first FREE_FAILURES - 1 failures are plain 401s; the one that reaches the limit
    # already answers 429 (the app's form says "try again in N seconds" at that point too)
    assert codes == [401] * (free - 1) + [429]
    # now even the right password is refused without being checked, with a wait of
    # BASE_DELAY (30 s) after the latest failure
    blocked = client.post("/api/v1/login", json={"username": "u2", "password": PW})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= login_limits.BASE_DELAY.total_seconds()
    assert client.post("/api/v1/login", json={"username": "u1", "password": PW}).status_code == 200


def test_tokens_expire_and_secret_file_is_private(tmp_path, monkeypatch):
    token = issue_token(SECRET, user_id=3, password_hash="h", ttl_s=10, now=100.0)
    assert verify_token(SECRET, token, now=105.0).user_id == 3
    assert verify_token(SECRET, token, now=111.0) is None
    payload, sig = token.rsplit(".", 1)
    assert verify_token(SECRET, payload + "." + sig[:-2] + "AA", now=105.0) is None
    monkeypatch.delenv("ANNOTATE_SECRET_KEY", raising=False)
    key_file = tmp_path / "k" / "secret_key"
    first = resolve_secret(key_file=key_file)
    assert resolve_secret(key_file=key_file) == first and len(first) == 64
    assert key_file.stat().st_mode & 0o077 == 0  # owner only
    monkeypatch.setenv("ANNOTATE_SECRET_KEY", "x" * 20)
    assert resolve_secret(key_file=key_file) == b"x" * 20
    assert time.time() > 0 and httpx.__version__


def test_tokens_are_itsdangerous_signatures_and_old_tokens_are_refused():
    import base64
    import hashlib
    import hmac
    import json

    from itsdangerous import URLSafeSerializer

    token = issue_token(SECRET, user_id=5, password_hash="h", ttl_s=60, now=100.0)
    # read back by itsdangerous itself, with the salt and digest the module documents
    body = URLSafeSerializer(SECRET, salt="annotate-api-token",
                             signer_kwargs={"digest_method": hashlib.sha256}).loads(token)
    assert body["uid"] == 5 and body["exp"] == 160.0
    # a token in a bare payload.HMAC format (no itsdangerous envelope) is refused
    payload = base64.urlsafe_b64encode(json.dumps({"uid": 5, "exp": 160.0, "pwf": "x"}).encode()).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(SECRET, payload, hashlib.sha256).digest()).rstrip(b"=")
    assert verify_token(SECRET, (payload + b"." + sig).decode(), now=101.0) is None


def test_both_poor_is_one_rule_over_the_api(client, engine):
    """As on the page: "both_poor" is a choice stored as a tie with both_poor; "both_poor":
    true beside "left" is refused (400) and nothing is written."""
    auth = login(client, "u1")
    task = client.get("/api/v1/tasks/next", headers=auth).json()["task"]
    r = client.post("/api/v1/judgments", headers=auth, json={**submit_body(task, "bp-0"), "both_poor": True})
    assert r.status_code == 400 and "Both are poor" in r.json()["error"]
    r = client.post("/api/v1/judgments", headers=auth, json=submit_body(task, "bp-1", "both_poor"))
    assert r.status_code == 201, r.text
    with session_scope(engine) as s:
        assert [(j.winner, j.both_poor) for j in s.exec(select(Judgment)).all()] == [("tie", True)]
