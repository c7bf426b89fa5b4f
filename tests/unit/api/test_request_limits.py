"""Request size and method at the app server's edge: the login form is refused by its
Content-Length and read no further than its limit; a wrong method on /api/v1 is a 405 with
Allow and leaves the log quiet."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from annotate.api.direct_route import DirectApiRoute
from annotate.api.routes import Api
from annotate.api.web_login import MAX_FORM_BYTES, WebLogin

SECRET = b"limits-test-secret-0123456789"


def run_login(headers: list[tuple[bytes, bytes]], chunks: int, chunk_size: int = 1024) -> tuple[int, int]:
    """POST /session/login straight through ASGI; the body arrives in ``chunks`` pieces.
    Returns (status, pieces the route read)."""
    app = Starlette(routes=WebLogin(SimpleNamespace(engine=None, secret=SECRET)).routes())
    read = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"u" * chunk_size, "more_body": read < chunks}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/session/login", "raw_path": b"/session/login",
             "query_string": b"", "headers": headers, "scheme": "http", "server": ("127.0.0.1", 8501),
             "client": ("127.0.0.1", 5000), "root_path": "", "http_version": "1.1"}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], read


def test_a_login_form_announced_too_long_is_refused_before_reading():
    status, read = run_login([(b"content-length", str(300 * 1024 * 1024).encode()),
                              (b"content-type", b"application/x-www-form-urlencoded")], chunks=300 * 1024)
    assert (status, read) == (413, 0)


def test_a_login_form_without_a_length_is_read_only_up_to_the_limit():
    # 8 KiB limit in 1 KiB pieces: the 9th piece goes over; the other 991 are never read
    status, read = run_login([(b"content-type", b"application/x-www-form-urlencoded")], chunks=1000)
    assert MAX_FORM_BYTES == 8 * 1024 and (status, read) == (413, 9)


@pytest.fixture()
def api_client():
    api = Api(lambda: None, SECRET)  # routing only: no request here reaches the database
    app = Starlette(middleware=[Middleware(DirectApiRoute, routes=api.routes())])
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/api/v1/judgments", "POST"),
    ("OPTIONS", "/api/v1/me", "GET, HEAD"),
    ("DELETE", "/api/v1/me", "GET, HEAD"),
    ("PUT", "/api/v1/tasks/3/skip", "POST"),
])
def test_a_wrong_method_is_405_with_allow_and_no_log(api_client, caplog, method, path, allow):
    with caplog.at_level(logging.DEBUG):
        r = api_client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert r.json() == {"error": f"{method} is not allowed on {path}; use {allow}"}
    assert [rec for rec in caplog.records if rec.levelno >= logging.WARNING] == []


def test_an_unknown_api_path_is_still_404(api_client):
    r = api_client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json() == {"error": "no API route /api/v1/nothing-here"}
