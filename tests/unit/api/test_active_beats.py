"""The heartbeat route (annotate/api/active_beats.py): the person of the session cookie,
their own task only, bounded bodies, the credit of the service."""

from __future__ import annotations

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from annotate.api.active_beats import ACTIVE_PATH, ActiveBeats
from annotate.api.routes import Api
from annotate.auth.session_cookie import COOKIE_NAME, issue_session
from annotate.db.engine import session_scope
from annotate.db.models import Assignment, TaskShowing
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import make_benchmark, make_users

DB_BACKENDS = ("sqlite",)
SECRET = b"beat-test-secret-0123456789abcdef"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def site(engine, monkeypatch):
    monkeypatch.setenv("ANNOTATE_ACTIVE_BEAT_S", "5")
    with session_scope(engine) as s:
        make_benchmark(s, {("D", "Sub 00"): {1: ["m1", "m2"]}})
        people = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        study = create_study(session=s, actor=people["res"], design=StudyDesign(
            name="beats", per_subdomain=1, overlap=1, annotators=["u1"], seed=1))
        aid = s.exec(select(Assignment.id).where(Assignment.study_id == study.id)).one()
        cookies = {name: issue_session(SECRET, people[name], now=T0) for name in ("u1", "u2")}
    clock = Clock()
    app = Starlette(routes=ActiveBeats(Api(engine, SECRET), now=clock).routes())
    client = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 5000))
    return client, clock, cookies, aid, engine


def post(client, cookie, body):
    client.cookies.clear()
    if cookie:
        client.cookies.set(COOKIE_NAME, cookie)
    return client.post(ACTIVE_PATH, content=body if isinstance(body, bytes) else None,
                       json=None if isinstance(body, bytes) else body)


def stored(engine) -> float | None:
    with session_scope(engine) as s:
        row = s.exec(select(TaskShowing)).first()
        return None if row is None else row.active_s


def test_beats_of_the_owner_add_up_and_others_are_refused(site):
    client, clock, cookies, aid, engine = site
    beat = {"assignment_id": aid, "revision": 1, "active_s": 5}
    assert post(client, cookies["u1"], beat).status_code == 204  # 5
    clock.now += 5
    assert post(client, cookies["u1"], beat).status_code == 204  # 10
    clock.now += 1
    assert post(client, cookies["u1"], beat).status_code == 204  # a replay 1 s later: 11
    assert stored(engine) == 11.0
    assert post(client, cookies["u2"], beat).status_code == 403  # someone else's task
    assert post(client, None, beat).status_code == 401
    assert post(client, "forged", beat).status_code == 401
    assert post(client, cookies["u1"], {**beat, "revision": 2}).status_code == 409
    assert post(client, cookies["u1"], {**beat, "assignment_id": 999_999}).status_code == 404
    assert post(client, cookies["u1"], {**beat, "active_s": "5"}).status_code == 400
    assert post(client, cookies["u1"], b"x" * 2048).status_code == 413
    assert stored(engine) == 11.0
