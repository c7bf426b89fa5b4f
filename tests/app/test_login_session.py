"""The app's login session in AppTest: logged in by the cookie of the login route, kept on
every rerun, ended by inactivity in an open tab and by a logout in another tab."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.ui import session as ui_session
from tests.fixtures.apptest import APP, TIMEOUT
from tests.fixtures.login_cookie import CookieLogin

PW = "login-session-password"

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture()
def browser(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    with session_scope(engine) as s:
        users.create_user(session=s, username="ann", role="annotator", password=PW)
    login = CookieLogin(engine, monkeypatch)
    assert login.post("ann", PW).status_code == 303
    return login


def app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def test_an_open_tab_idle_past_the_limit_asks_for_a_login(browser, monkeypatch):
    monkeypatch.setenv("ANNOTATE_SESSION_IDLE_HOURS", "1")
    at = app()
    assert at.session_state["user_id"] is not None
    clock = SimpleNamespace(time=lambda: time.time() + 1800)  # half an hour later: still in
    monkeypatch.setattr(ui_session, "time", clock)
    at.run()
    assert "user_id" in at.session_state
    monkeypatch.setattr(ui_session, "time", SimpleNamespace(time=lambda: time.time() + 1800 + 3601))
    at.run()  # over an hour after the last run
    assert "user_id" not in at.session_state
    assert "/session/login" in at.get("html")[0].value


def test_a_logout_in_another_tab_ends_this_one(browser):
    first, second = app(), app()
    assert first.session_state["user_id"] == second.session_state["user_id"]
    first.switch_page("app_pages/logout.py").run()
    assert browser.logout().status_code == 303  # the logout page's button, pressed in the first tab
    second.run()
    assert "user_id" not in second.session_state


def test_an_active_tab_past_the_absolute_limit_asks_for_a_login(browser, monkeypatch):
    monkeypatch.setenv("ANNOTATE_SESSION_MAX_AGE_HOURS", "1")
    at = app()
    for minutes in (20, 40, 59):  # a rerun every 20 minutes: never idle, still within the hour
        monkeypatch.setattr(ui_session, "time", SimpleNamespace(time=lambda m=minutes: time.time() + m * 60))
        at.run()
        assert "user_id" in at.session_state, minutes
    monkeypatch.setattr(ui_session, "time", SimpleNamespace(time=lambda: time.time() + 61 * 60))
    at.run()  # an hour and a minute after the login
    assert "user_id" not in at.session_state
    assert "/session/login" in at.get("html")[0].value
