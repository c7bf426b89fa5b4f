"""The login route and its session cookie (annotate/api/web_login.py, session_cookie.py):
cookie attributes, redirects, inactivity expiry with a simulated clock, revocation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from annotate.api.routes import Api
from annotate.api.web_login import WebLogin
from annotate.auth.session_cookie import (
    COOKIE_NAME,
    idle_limit_s,
    login_max_age_s,
    read_session,
    session_accepts,
)
from annotate.auth.tokens import issue_token
from annotate.db.engine import session_scope
from annotate.services.accounts import users

DB_BACKENDS = ("sqlite", "postgres")
PW = "a-long-password"
SECRET = b"cookie-test-secret-0123456789"
T0 = 1_800_000_000.0

pytestmark = pytest.mark.usefixtures("cheap_hashing")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def site(engine):
    with session_scope(engine) as s:
        users.create_user(session=s, username="ann", role="annotator", password=PW)
    clock = Clock()
    api = Api(engine, SECRET)
    app = Starlette(routes=api.routes() + WebLogin(api, now=clock).routes())
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False, client=("127.0.0.1", 5000))
    return SimpleNamespace(client=client, clock=clock, engine=engine)


def post_login(client, username="ann", password=PW, next_path="/", **headers):
    return client.post("/session/login", data={"username": username, "password": password, "next": next_path},
                       headers=headers)


def set_cookie_header(response) -> str:
    return next(v for k, v in response.headers.raw if k == b"set-cookie" and v.startswith(COOKIE_NAME.encode())).decode()


def account(engine):
    with session_scope(engine) as s:
        return users.get_user_by_username(session=s, username="ann")


def test_login_sets_an_httponly_lax_cookie_and_goes_to_the_deep_link(site):
    r = post_login(site.client, next_path="/judge-pairs?study=2")
    assert r.status_code == 303 and r.headers["location"] == "/judge-pairs?study=2"
    header = set_cookie_header(r).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "max-age=28800" in header and "secure" not in header  # 8 h by default, plain http here
    claims = read_session(SECRET, r.cookies[COOKIE_NAME], now=T0 + 1, idle_s=8 * 3600)
    assert claims is not None and session_accepts(claims, account(site.engine))


def test_secure_behind_a_trusted_https_proxy_and_idle_limit_from_the_environment(site, monkeypatch):
    monkeypatch.setenv("ANNOTATE_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
    monkeypatch.setenv("ANNOTATE_TRUSTED_PROXIES", "127.0.0.1")  # the proxy is named too (no default)
    monkeypatch.setenv("ANNOTATE_SESSION_IDLE_HOURS", "0.5")
    r = post_login(site.client, **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.4"})
    header = set_cookie_header(r).lower()
    assert "secure" in header and "max-age=1800" in header
    monkeypatch.setenv("ANNOTATE_SESSION_IDLE_HOURS", "eight")
    with pytest.raises(ValueError, match="ANNOTATE_SESSION_IDLE_HOURS must be a positive number of hours"):
        idle_limit_s()


def test_wrong_password_goes_back_to_the_form_without_a_cookie(site):
    r = post_login(site.client, password="nope", next_path="/judge-pairs?study=2&login_error=slowed")
    assert r.status_code == 303 and COOKIE_NAME not in r.cookies
    assert r.headers["location"] == "/judge-pairs?study=2&login_error=wrong"
    for _ in range(4):
        r = post_login(site.client, password="nope")
    assert r.headers["location"].startswith("/?login_error=slowed&wait=")  # 5th failure: slowed


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "judge", ""])
def test_next_never_leaves_the_site(site, target):
    assert post_login(site.client, next_path=target).headers["location"] == "/"


def test_a_form_posted_from_another_site_is_refused(site):
    r = post_login(site.client, Origin="https://evil.example")
    assert r.status_code == 403 and COOKIE_NAME not in r.cookies
    assert post_login(site.client, Origin="http://127.0.0.1").status_code == 303


def test_activity_renews_the_cookie_and_inactivity_ends_it(site):
    cookie = post_login(site.client).cookies[COOKIE_NAME]
    for hours in (7, 14, 21):  # active every 7 h (< 8 h): renewed each time
        site.clock.now = T0 + hours * 3600
        r = site.client.get("/session/refresh", cookies={COOKIE_NAME: cookie})
        assert r.status_code == 204 and r.headers["cache-control"] == "no-store"
        cookie = r.cookies[COOKIE_NAME]
        assert read_session(SECRET, cookie, now=site.clock.now, idle_s=8 * 3600).issued_at == site.clock.now
    site.clock.now += 8 * 3600 + 1  # 8 h and a second without activity
    assert read_session(SECRET, cookie, now=site.clock.now, idle_s=8 * 3600) is None
    r = site.client.get("/session/refresh", cookies={COOKIE_NAME: cookie})
    assert 'annotate_session=""' in set_cookie_header(r) and "max-age=0" in set_cookie_header(r).lower()


def test_logout_password_change_and_deactivation_revoke_the_cookie(site):
    for revoke in ("logout", "password", "deactivate"):
        cookie = post_login(site.client).cookies[COOKIE_NAME]
        claims = read_session(SECRET, cookie, now=T0, idle_s=3600)
        assert session_accepts(claims, account(site.engine))
        with session_scope(site.engine) as s:
            user = users.get_user_by_username(session=s, username="ann")
            if revoke == "logout":
                users.end_sessions(session=s, user_id=user.id)
            elif revoke == "password":
                users.set_password(session=s, username="ann", password=PW)  # even the same password
            else:
                users.deactivate(session=s, username="ann")
                users.activate(session=s, username="ann")  # reactivating does not revive it
        assert not session_accepts(claims, account(site.engine)), revoke
        assert "max-age=0" in set_cookie_header(
            site.client.get("/session/refresh", cookies={COOKIE_NAME: cookie})).lower()


def test_a_cookie_is_not_an_api_token_and_the_other_way_round(site):
    cookie = post_login(site.client).cookies[COOKIE_NAME]
    assert site.client.get("/api/v1/me", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401
    user = account(site.engine)
    token = issue_token(SECRET, user_id=user.id, password_hash=user.password_hash, now=T0)
    assert read_session(SECRET, token, now=T0, idle_s=3600) is None


def test_logout_is_a_post_from_our_own_page_and_ends_the_cookie_everywhere(site):
    cookie = post_login(site.client).cookies[COOKIE_NAME]
    claims = read_session(SECRET, cookie, now=T0, idle_s=3600)
    # opening the address, or a form posted by a page on another port, logs nobody out
    assert site.client.get("/session/logout", cookies={COOKIE_NAME: cookie}).status_code == 405
    for origin in ("http://127.0.0.1:8502", "null"):
        r = site.client.post("/session/logout", cookies={COOKIE_NAME: cookie}, headers={"Origin": origin})
        assert r.status_code == 403 and COOKIE_NAME not in r.headers.get("set-cookie", "")
    assert session_accepts(claims, account(site.engine))
    r = site.client.post("/session/logout", cookies={COOKIE_NAME: cookie}, headers={"Origin": "http://127.0.0.1"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "max-age=0" in set_cookie_header(r).lower()  # this browser's cookie is deleted
    assert not session_accepts(claims, account(site.engine))  # and a copy of it elsewhere is refused


def api_token(client) -> str:
    r = client.post("/api/v1/login", json={"username": "ann", "password": PW})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def me(client, token: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_reactivation_revokes_earlier_api_tokens_and_cookies(site):
    token, cookie = api_token(site.client), post_login(site.client).cookies[COOKIE_NAME]
    assert me(site.client, token) == 200
    with session_scope(site.engine) as s:
        users.deactivate(session=s, username="ann")
        users.activate(session=s, username="ann")
    assert me(site.client, token) == 401  # the token from before stays refused
    r = site.client.get("/session/refresh", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
    assert "max-age=0" in set_cookie_header(r).lower()  # and so does the cookie
    assert me(site.client, api_token(site.client)) == 200  # a new login works


def test_a_web_logout_ends_the_persons_api_tokens(site):
    token, cookie = api_token(site.client), post_login(site.client).cookies[COOKIE_NAME]
    r = site.client.post("/session/logout", headers={"Cookie": f"{COOKIE_NAME}={cookie}", "Origin": "http://127.0.0.1"})
    assert r.status_code == 303
    assert me(site.client, token) == 401


def test_refresh_cannot_extend_a_login_past_its_absolute_lifetime(site, monkeypatch):
    monkeypatch.setenv("ANNOTATE_SESSION_MAX_AGE_HOURS", "20")
    cookie = post_login(site.client).cookies[COOKIE_NAME]  # logged in at T0
    for hours, max_age in ((7, 8 * 3600), (14, 6 * 3600)):  # renewed; at 14 h only 20 - 14 = 6 h are left
        site.clock.now = T0 + hours * 3600
        r = site.client.get("/session/refresh", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
        assert f"max-age={max_age}" in set_cookie_header(r).lower()
        cookie = r.cookies[COOKIE_NAME]
    site.clock.now = T0 + 20 * 3600 + 1  # 6 h after the last renewal (not idle), 20 h after the login
    assert read_session(SECRET, cookie, now=site.clock.now, idle_s=8 * 3600) is None
    r = site.client.get("/session/refresh", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
    assert "max-age=0" in set_cookie_header(r).lower()
    monkeypatch.setenv("ANNOTATE_SESSION_MAX_AGE_HOURS", "forever")
    with pytest.raises(ValueError, match="ANNOTATE_SESSION_MAX_AGE_HOURS must be a positive number of hours"):
        login_max_age_s()


def test_a_new_cookie_never_outlives_the_absolute_limit(site, monkeypatch):
    monkeypatch.setenv("ANNOTATE_SESSION_IDLE_HOURS", "48")
    monkeypatch.setenv("ANNOTATE_SESSION_MAX_AGE_HOURS", "24")
    assert "max-age=86400" in set_cookie_header(post_login(site.client)).lower()  # 24 h, not 48 h
