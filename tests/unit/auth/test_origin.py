"""The public-origin rule (annotate/auth/origin.py): which pages may open the app's websocket
and send it state-changing requests, with and without ANNOTATE_PUBLIC_URL."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from annotate.auth.origin import (
    OriginCheck,
    default_origins,
    normalize_origin,
    origin_allowed,
    public_origins,
)


@pytest.mark.parametrize(("value", "expected"), [
    ("http://localhost:8501", "http://localhost:8501"),
    ("HTTP://LOCALHOST:8501/some/path?q=1", "http://localhost:8501"),  # only scheme, host, port count
    ("https://annotate.example.org", "https://annotate.example.org:443"),  # default port written out
    ("http://annotate.example.org:80", "http://annotate.example.org:80"),
    ("http://[0:0:0:0:0:0:0:1]:8501", "http://[::1]:8501"),  # one spelling per IPv6 address
    ("null", None), ("", None), ("ws://localhost:8501", None), ("file:///etc/passwd", None),
    ("http://user:pw@localhost:8501", None), ("http://localhost:99999", None), ("http://", None),
])
def test_normalize_origin(value, expected):
    assert normalize_origin(value) == expected


def test_the_public_url_setting():
    assert public_origins({}) is None and public_origins({"ANNOTATE_PUBLIC_URL": " "}) is None
    env = {"ANNOTATE_PUBLIC_URL": "https://annotate.example.org/annotate, http://10.0.0.5:8501"}
    assert public_origins(env) == {"https://annotate.example.org:443", "http://10.0.0.5:8501"}
    with pytest.raises(ValueError, match="ANNOTATE_PUBLIC_URL: 'annotate.example.org' is not an http"):
        public_origins({"ANNOTATE_PUBLIC_URL": "annotate.example.org"})


def test_default_origins_are_the_listening_port_under_loopback_names():
    # written out by hand: loopback names, plus a specific bind address; never a wildcard
    assert default_origins("http", "0.0.0.0", 8501) == {
        "http://localhost:8501", "http://127.0.0.1:8501", "http://[::1]:8501"}
    assert default_origins("ws", "10.0.0.5", 9000) == {
        "http://localhost:9000", "http://127.0.0.1:9000", "http://[::1]:9000", "http://10.0.0.5:9000"}
    assert "https://localhost:443" in default_origins("wss", "::", 443)


@pytest.mark.parametrize(("origin", "ok"), [
    ("http://127.0.0.1:8501", True), ("http://localhost:8501", True), ("http://localhost:8501/", True),
    ("http://localhost:8502", False),  # another port of the same host: another site's page
    ("https://localhost:8501", False), ("http://0.0.0.0:8501", False), ("http://evil.example:8501", False),
    ("null", False), (None, False),
])
def test_origin_allowed_is_exact(origin, ok):
    assert origin_allowed(origin, default_origins("http", "127.0.0.1", 8501)) is ok


WS = "ws://127.0.0.1:8501/_stcore/stream"  # the test client's websockets ignore its base_url


class Inner:
    """What stands behind the check (Streamlit and the routes): records what reached it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

        async def stream(websocket: WebSocket) -> None:
            self.seen.append(("websocket", f'{websocket.headers.get("origin")} {websocket.headers.get("host")}'))
            await websocket.accept()
            await websocket.send_text("hello")
            await websocket.close()

        async def change(request: Request) -> JSONResponse:
            self.seen.append((request.method, request.headers.get("origin")))
            return JSONResponse({"changed": True})

        self.app = Starlette(routes=[WebSocketRoute("/_stcore/stream", stream),
                                     Route("/api/v1/change", change, methods=["GET", "POST", "DELETE"])])


def client(environ: dict[str, str] | None = None, base_url: str = "http://127.0.0.1:8501") -> tuple[TestClient, Inner]:
    inner = Inner()
    return TestClient(OriginCheck(inner.app, environ=environ or {}), base_url=base_url), inner


def test_a_websocket_from_another_origin_or_without_one_never_reaches_the_app():
    tc, inner = client()
    for headers in ({"origin": "http://127.0.0.1:9999"}, {"origin": "null"}, {}):
        with pytest.raises(WebSocketDisconnect) as refused, tc.websocket_connect(WS, headers=headers):
            pass
        assert refused.value.code == 1008
    assert inner.seen == []
    with tc.websocket_connect(WS, headers={"origin": "http://localhost:8501"}) as ws:
        assert ws.receive_text() == "hello"
    # Streamlit gets the Origin (st.login reads it) and a Host that matches it, so its own
    # check passes at once instead of looking the machine's addresses up
    assert inner.seen == [("websocket", "http://localhost:8501 localhost:8501")]


def test_state_changing_requests_from_another_origin_are_refused():
    tc, inner = client()
    for method in ("POST", "DELETE"):
        r = tc.request(method, "/api/v1/change", headers={"origin": "http://localhost:9999"})
        assert r.status_code == 403 and "another site" in r.text
    assert inner.seen == []
    assert tc.post("/api/v1/change", headers={"origin": "http://127.0.0.1:8501"}).status_code == 200
    assert tc.post("/api/v1/change").status_code == 200  # a program (curl, httpx): no Origin
    assert tc.get("/api/v1/change", headers={"origin": "http://localhost:9999"}).status_code == 200  # reads pass
    assert [m for m, _ in inner.seen] == ["POST", "POST", "GET"]


def test_behind_a_proxy_only_the_public_url_counts():
    tc, inner = client({"ANNOTATE_PUBLIC_URL": "https://annotate.example.org"})  # a proxy in front
    # the proxy rewrote Host to the replica's address
    with tc.websocket_connect(WS, headers={"origin": "https://annotate.example.org", "host": "10.0.0.11:8501"}) as ws:
        assert ws.receive_text() == "hello"
    for origin in ("http://127.0.0.1:8501", "http://annotate.example.org", "https://annotate.example.org:8443"):
        with pytest.raises(WebSocketDisconnect), tc.websocket_connect(WS, headers={"origin": origin}):
            pass
        assert tc.post("/api/v1/change", headers={"origin": origin}).status_code == 403
    assert inner.seen == [("websocket", "https://annotate.example.org annotate.example.org")]


def test_a_malformed_public_url_stops_the_server_from_starting():
    with pytest.raises(ValueError, match="ANNOTATE_PUBLIC_URL"):
        OriginCheck(Inner().app, environ={"ANNOTATE_PUBLIC_URL": "localhost:8501"})


def test_serve_refuses_a_malformed_public_url_before_starting(monkeypatch):
    from annotate.commands import CliError
    from annotate.commands.serve import check_public_url

    monkeypatch.setenv("ANNOTATE_PUBLIC_URL", "localhost:8501")  # no scheme: a one-line error (exit 2)
    with pytest.raises(CliError, match="ANNOTATE_PUBLIC_URL: 'localhost:8501' is not an http"):
        check_public_url()
