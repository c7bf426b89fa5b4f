"""The HTTP API under hostile and broken input: the token is checked before
the body, and no input gives 500: huge ids, deep or broken bodies, wrong types, unknown
keys all get a 4xx with a message. A hypothesis fuzz test covers every route."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from annotate.api.routes import Api
from annotate.db.engine import session_scope
from annotate.services.accounts import users as users_service
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import grid_spec, make_benchmark

PW = "a-long-password"
SECRET = b"test-secret-0123456789abcdef"
HUGE = 10**30

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture()
def api(engine):
    with session_scope(engine) as s:
        make_benchmark(s, grid_spec(3, 1, ["m1", "m2"]))
        made = {name: users_service.create_user(session=s, username=name, role=role, password=PW)
                for name, role in [("u1", "annotator"), ("res", "researcher")]}
        create_study(session=s, actor=made["res"], design=StudyDesign(
            name="s", per_subdomain=1, overlap=1, annotators=["u1"], seed=1))
    return Api(engine, SECRET)


@pytest.fixture()
def client(api):
    with TestClient(Starlette(routes=api.routes()), base_url="http://127.0.0.1",
                    raise_server_exceptions=False) as c:
        yield c


def auth(client) -> dict[str, str]:
    token = client.post("/api/v1/login", json={"username": "u1", "password": PW}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def refused(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    message = response.json()["error"]
    assert message and "field " not in message and "Traceback" not in message
    return message


def test_a_bad_token_is_refused_before_the_body_is_read(api):
    app = Starlette(routes=api.routes())
    sent: list[dict] = []

    async def call(token: str) -> int:
        first = True

        async def receive():  # half a body, then nothing ever again
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b'{"assignment_id": 1, "cho', "more_body": True}
            await asyncio.Event().wait()

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/api/v1/judgments", "raw_path": b"/api/v1/judgments",
                 "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 80),
                 "client": ("127.0.0.1", 1), "http_version": "1.1", "asgi": {"version": "3.0"},
                 "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-length", b"500"),
                             (b"content-type", b"application/json")]}
        await asyncio.wait_for(app(scope, receive, send), timeout=5)  # would hang if it read on
        return next(m["status"] for m in sent if m["type"] == "http.response.start")

    assert asyncio.run(call("forged.token")) == 401


def test_a_good_token_with_a_broken_body_gets_400_and_a_bad_token_401(client):
    half = b'{"assignment_id": 1, "cho'
    assert refused(client.post("/api/v1/judgments", content=half,
                               headers={"Authorization": "Bearer nope"}), 401)
    message = refused(client.post("/api/v1/judgments", content=half, headers=auth(client)), 400)
    assert message.startswith("the body is not valid JSON")


def test_huge_ids_and_odd_query_values_get_4xx(client):
    headers = auth(client)
    assert refused(client.get(f"/api/v1/tasks/{HUGE}", headers=headers), 404) == "there is no task with this id"
    refused(client.post(f"/api/v1/tasks/{HUGE}/skip", headers=headers), 404)
    for raw in (str(HUGE), "²", "-1", "0", "1.5", "", " 1"):
        message = refused(client.get("/api/v1/tasks/next", params={"study_id": raw}, headers=headers), 400)
        assert message == "study_id must be a study's id (a whole number from 1 to 2147483647)"
        refused(client.get("/api/v1/tasks/1", params={"study_id": raw}, headers=headers), 400)


GOOD = {"assignment_id": 1, "choice": "left", "submit_token": "t-1", "instruction_version_no": 1,
        "content_revision": 0}


@pytest.mark.parametrize(("change", "expected"), [
    ({"assignment_id": 2**31}, '"assignment_id" must be the task\'s id'),  # past the 32-bit column
    ({"assignment_id": HUGE}, "the body is not valid JSON at assignment_id"),  # past any integer column
    ({"instruction_version_no": -1}, '"instruction_version_no" must be the instruction_version_no'),
    ({"content_revision": "0"}, '"content_revision" must be'),
    ({"choice": None}, '"choice" is missing'),
    ({"choice": ["left"]}, '"choice" must be "left"'),
    ({"submit_token": "x" * 101}, '"submit_token" must be a text of 1 to 100'),
    ({"both_poor": "yes"}, '"both_poor" must be true or false'),
    ({"flags": [{"a": 1}]}, '"flags" must be a list'),
    ({"per_criterion": {"c": 1}}, '"per_criterion" must be an object'),
    ({"elapsed_s": 1e300}, '"elapsed_s" must be a number of seconds'),
    ({"study_id": True}, '"study_id" must be the study\'s id'),
    ({"colour": "red"}, 'unknown key(s) "colour"; a judgment has assignment_id'),
])
def test_wrong_values_get_400_in_plain_words(client, change, expected):
    body = {**GOOD, **change}
    message = refused(client.post("/api/v1/judgments", json=body, headers=auth(client)), 400)
    assert message.startswith(expected), message


@pytest.mark.parametrize(("raw", "expected"), [
    (b"[" * 5000 + b"]" * 5000, "the body is not valid JSON"),
    (b'{"a":' * 100 + b"1" + b"}" * 100, "the body is not valid JSON"),
    (b'{"assignment_id": NaN}', "the body is not valid JSON at assignment_id"),
    (b'{"choice": "left", "choice": "right"}', "the body is not valid JSON at choice"),
    (b'{"rationale": "\\ud800"}', "the body is not valid JSON at rationale"),
    (b"\xff\xfe", "the body is not UTF-8 text"),
    (b"[1, 2]", "the body must be a JSON object"),
    (b"", "the request needs a JSON object"),
])
def test_broken_bodies_get_400(client, raw, expected):
    message = refused(client.post("/api/v1/judgments", content=raw, headers=auth(client)), 400)
    assert message.startswith(expected), message
    message = refused(client.post("/api/v1/login", content=raw), 400)
    assert message.startswith(expected), message


def test_an_oversized_body_gets_413_unread(client):
    big = json.dumps({**GOOD, "rationale": "x" * 300_000})
    refused(client.post("/api/v1/judgments", content=big, headers=auth(client)), 413)
    refused(client.post("/api/v1/login", content=big), 413)


# ------------------------------------------------------------------ fuzz: every route

ROUTES = [("GET", "/api/v1/health"), ("POST", "/api/v1/login"), ("GET", "/api/v1/me"),
          ("GET", "/api/v1/studies"), ("GET", "/api/v1/tasks/next"), ("GET", "/api/v1/tasks/{id}"),
          ("POST", "/api/v1/tasks/{id}/skip"), ("POST", "/api/v1/judgments"), ("POST", "/api/v1/ratings")]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
keys = st.sampled_from([*GOOD, "both_poor", "per_criterion", "rationale", "flags", "elapsed_s", "study_id",
                        "username", "password", "x", "score", "error_type"])
bodies = (st.dictionaries(keys, json_values, max_size=8)
          | st.fixed_dictionaries({k: st.just(v) for k, v in GOOD.items()}).flatmap(
              lambda good: st.dictionaries(keys, json_values, max_size=3).map(lambda extra: {**good, **extra}))
          | json_values)
raw_bodies = st.one_of(bodies.map(lambda v: json.dumps(v).encode()), st.binary(max_size=60),
                       bodies.map(lambda v: json.dumps(v).encode()[:-3]))
ids = st.integers(min_value=0, max_value=10**30)
query_values = st.one_of(st.none(), ids.map(str), st.text(max_size=8))


def test_the_fuzz_fixture_checks_every_registered_route(api):
    assert sorted((m, p) for m, p in ROUTES) == sorted(
        (next(iter(r.methods - {"HEAD"})), r.path.replace("{assignment_id:int}", "{id}")) for r in api.routes())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=raw_bodies, task_id=ids, study=query_values,
       token=st.sampled_from(["good", "none", "forged", "garbage"]))
def test_no_input_gives_500(client, route, body, task_id, study, token):
    method, path = route
    headers = {"good": GOOD_HEADERS.get("h") or {}, "none": {}, "forged": {"Authorization": "Bearer a.b"},
               "garbage": {"Authorization": "Basic \x7f"}}[token]
    params = {} if study is None else {"study_id": study}
    response = client.request(method, path.replace("{id}", str(task_id)), content=body, params=params,
                              headers={"Content-Type": "application/json", **headers})
    assert response.status_code < 500, (route, body, response.text)
    if response.status_code >= 400 and response.headers.get("content-type") == "application/json":
        assert response.json()["error"]


GOOD_HEADERS: dict[str, dict[str, str]] = {}


@pytest.fixture(autouse=True)
def _good_token(request):
    if "client" in request.fixturenames:
        GOOD_HEADERS["h"] = auth(request.getfixturevalue("client"))
    yield
    GOOD_HEADERS.clear()


def test_service_refusals_are_in_plain_words(client):
    headers = auth(client)
    task = client.get("/api/v1/tasks/next", headers=headers).json()["task"]
    body = {**GOOD, "assignment_id": task["assignment_id"], "choice": "both",
            "instruction_version_no": task["instruction_version_no"], "content_revision": task["content_revision"]}
    message = refused(client.post("/api/v1/judgments", json=body, headers=headers), 400)
    assert "A is better" in message and "'both'" in message  # the service's own sentence
