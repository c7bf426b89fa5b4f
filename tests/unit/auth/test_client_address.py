"""The client address the login limits count, through a real ``annotate serve``: uvicorn's
proxy-header rewriting is off, so a local client's ``X-Forwarded-For`` is never its address;
only the configured header from the configured proxy counts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlmodel import select

from annotate.commands.serve import server_environment
from annotate.db.engine import init_db, session_scope
from annotate.db.models import LoginAttempt
from tests.fixtures.app_server import start_server, stop

pytestmark = pytest.mark.slow


def test_the_server_process_gets_uvicorns_proxy_headers_turned_off():
    env = server_environment("sqlite:///x.db", {"FORWARDED_ALLOW_IPS": "127.0.0.1", "PATH": "/bin"})
    assert env["FORWARDED_ALLOW_IPS"] == "" and env["ANNOTATE_DB_URL"] == "sqlite:///x.db" and env["PATH"] == "/bin"


def login(base_url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"{base_url}/api/v1/login", method="POST", headers={
        "Content-Type": "application/json", **headers},
        data=json.dumps({"username": "nobody", "password": "wrong-password"}).encode())
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_forwarded_for_from_a_local_client_is_not_its_address(tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 'addr.db'}"
    engine = init_db(db_url)
    # the proxy is configured to send X-Real-IP from 127.0.0.1; clients also send X-Forwarded-For
    server = start_server(db_url, tmp_path / "server.log", extra_env={
        "ANNOTATE_TRUSTED_PROXY_HEADER": "X-Real-IP", "ANNOTATE_TRUSTED_PROXIES": "127.0.0.1",
        "FORWARDED_ALLOW_IPS": "*"})  # even an operator's uvicorn setting does not bring it back
    try:
        statuses = [login(server.base_url, {"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(1, 13)]
        assert login(server.base_url, {"X-Real-IP": "203.0.113.7", "X-Forwarded-For": "6.6.6.6"}) == 401
    finally:
        stop(server)
    with session_scope(engine) as session:
        addresses = list(session.exec(select(LoginAttempt.client_address).order_by(LoginAttempt.id)).all())  # type: ignore[arg-type]
    engine.dispose()
    # 12 rotated X-Forwarded-For are all one address (the socket's): its 5 free failures run out
    # (the 5th is checked, recorded and answered 429: the pair now waits 30 s), the rest wait
    assert statuses == [401] * 4 + [429] * 8, statuses
    assert addresses == ["127.0.0.1"] * 5 + ["203.0.113.7"], addresses  # the configured header wins
