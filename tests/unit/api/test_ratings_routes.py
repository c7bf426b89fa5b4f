"""Pointwise ratings over the JSON API (POST /api/v1/ratings), mirroring the pair tests of
test_routes.py: next task, exactly-once submits, revisions, auth and ownership, bad bodies; on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from annotate.api.routes import Api
from annotate.db.engine import session_scope
from annotate.db.models import PointwiseRating, PointwiseRatingRevision, Study
from annotate.services.accounts import users as users_service
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import grid_spec, make_benchmark

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)
PW = "a-long-password"
SECRET = b"test-secret-0123456789abcdef"

pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


@pytest.fixture()
def client(engine):
    """An API client over a pointwise study "pw" (u1, u2 rate every response of 2 queries x 2 models)
    and a pairwise study "pairs" (u1), with res a researcher."""
    with session_scope(engine) as s:
        make_benchmark(s, grid_spec(2, 1, ["m1", "m2"]))
        made = {name: users_service.create_user(session=s, username=name, role=role, password=PW)
                for name, role in [("u1", "annotator"), ("u2", "annotator"), ("res", "researcher")]}
        create_study(session=s, actor=made["res"], design=StudyDesign(
            name="pw", kind="pointwise", per_subdomain=1, overlap=2, annotators=["u1", "u2"], seed=1,
            error_types=["off-topic", "too short"]))
        create_study(session=s, actor=made["res"], design=StudyDesign(
            name="pairs", per_subdomain=1, overlap=1, annotators=["u1"], seed=1))
    app = Starlette(routes=Api(engine, SECRET).routes())
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def login(client, name: str) -> dict[str, str]:
    r = client.post("/api/v1/login", json={"username": name, "password": PW})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def study_id(engine, name: str) -> int:
    with session_scope(engine) as s:
        return int(s.exec(select(Study.id).where(Study.name == name)).one())


def rating_body(task: dict, token: str, score: int = 4, **extra) -> dict:
    return {"assignment_id": task["assignment_id"], "score": score, "submit_token": token,
            "instruction_version_no": task["instruction_version_no"],
            "content_revision": task["content_revision"], **extra}


def counts(engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        return (s.exec(select(func.count()).select_from(PointwiseRating)).one(),
                s.exec(select(func.count()).select_from(PointwiseRatingRevision)).one())


def test_next_task_and_rating_exactly_once_then_revised(client, engine):
    auth = login(client, "u1")
    pw = study_id(engine, "pw")
    task = client.get(f"/api/v1/tasks/next?study_id={pw}", headers=auth).json()["task"]
    # 2 queries x 2 models = 4 responses, each rated by both annotators
    assert task["kind"] == "pointwise" and task["total"] == 4 and task["done"] == 0
    assert task["right_text"] == "" and task["error_types"] == ["off-topic", "too short"]
    assert "m1" not in str({k: v for k, v in task.items() if k != "left_text"})
    first = client.post("/api/v1/ratings", headers=auth, json=rating_body(task, "r-1", 4))
    again = client.post("/api/v1/ratings", headers=auth, json=rating_body(task, "r-1", 5))
    assert first.status_code == 201 and first.json()["created"] is True and first.json()["revision"] == 1
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    assert counts(engine) == (1, 1)
    nxt = client.get(f"/api/v1/tasks/next?study_id={pw}", headers=auth).json()["task"]
    assert nxt["assignment_id"] != task["assignment_id"] and nxt["done"] == 1
    # revise: a new token on the rated task stores revision 2 of the same rating
    revised = client.post("/api/v1/ratings", headers=auth,
                          json=rating_body(task, "r-2", 1, error_type="too short", rationale="cut off"))
    assert revised.status_code == 201 and revised.json()["revision"] == 2
    assert revised.json()["judgment_id"] == first.json()["judgment_id"]
    assert counts(engine) == (1, 2)
    shown = client.get(f"/api/v1/tasks/{task['assignment_id']}", headers=auth).json()["task"]
    assert shown["existing"]["score"] == 1 and shown["existing"]["error_type"] == "too short"
    assert shown["existing"]["revision"] == 2


def test_token_of_another_task_and_wrong_kind_are_conflicts(client, engine):
    auth = login(client, "u1")
    pw, pairs = study_id(engine, "pw"), study_id(engine, "pairs")
    task = client.get(f"/api/v1/tasks/next?study_id={pw}", headers=auth).json()["task"]
    assert client.post("/api/v1/ratings", headers=auth, json=rating_body(task, "tok")).status_code == 201
    other = client.get(f"/api/v1/tasks/next?study_id={pw}", headers=auth).json()["task"]
    r = client.post("/api/v1/ratings", headers=auth, json=rating_body(other, "tok"))
    assert r.status_code == 409 and "another task" in r.json()["error"]
    pair = client.get(f"/api/v1/tasks/next?study_id={pairs}", headers=auth).json()["task"]
    r = client.post("/api/v1/ratings", headers=auth, json=rating_body(pair, "tok-p"))
    assert r.status_code == 409 and "pairwise" in r.json()["error"]
    r = client.post("/api/v1/judgments", headers=auth, json={
        "assignment_id": other["assignment_id"], "choice": "left", "submit_token": "tok-j",
        "instruction_version_no": other["instruction_version_no"], "content_revision": other["content_revision"]})
    assert r.status_code == 409 and "pointwise" in r.json()["error"]
    # the study the client has open is checked: a task of "pw" refused under "pairs"
    r = client.post("/api/v1/ratings", headers=auth, json=rating_body(other, "tok-s", study_id=pairs))
    assert r.status_code == 409
    assert counts(engine) == (1, 1)


def test_no_token_other_peoples_tasks_and_researchers_refused(client, engine):
    u1, u2, res = login(client, "u1"), login(client, "u2"), login(client, "res")
    task = client.get(f"/api/v1/tasks/next?study_id={study_id(engine, 'pw')}", headers=u1).json()["task"]
    assert client.post("/api/v1/ratings", json=rating_body(task, "a")).status_code == 401
    bad = {"Authorization": "Bearer x.y"}
    assert client.post("/api/v1/ratings", headers=bad, json=rating_body(task, "a")).status_code == 401
    assert client.post("/api/v1/ratings", headers=u2, json=rating_body(task, "b")).status_code == 403
    assert client.post("/api/v1/ratings", headers=res, json=rating_body(task, "c")).status_code == 403
    assert counts(engine) == (0, 0)


def test_bad_rating_bodies_named(client, engine):
    auth = login(client, "u1")
    task = client.get(f"/api/v1/tasks/next?study_id={study_id(engine, 'pw')}", headers=auth).json()["task"]
    for score in (0, 6, 4.5, "4", True):
        r = client.post("/api/v1/ratings", headers=auth, json=rating_body(task, "t", score))
        assert r.status_code == 400 and r.json()["error"] == '"score" must be a whole number from 1 to 5'
    r = client.post("/api/v1/ratings", headers=auth, json={**rating_body(task, "t"), "choice": "left"})
    assert r.status_code == 400 and '"choice"' in r.json()["error"]
    r = client.post("/api/v1/ratings", headers=auth, json=rating_body(task, "t", 2))
    assert r.status_code == 400 and "error type" in r.json()["error"]
    r = client.post("/api/v1/ratings", headers=auth, json=rating_body(task, "t", 2, error_type="boring"))
    assert r.status_code == 400 and "off-topic" in r.json()["error"]
    missing = rating_body(task, "t")
    del missing["content_revision"]
    r = client.post("/api/v1/ratings", headers=auth, json=missing)
    assert r.status_code == 400 and '"content_revision" is missing' in r.json()["error"]
    assert client.post("/api/v1/ratings", headers=auth, content=b"[1]").status_code == 400
    assert counts(engine) == (0, 0)
