"""App skeleton: login gate, navigation per role, server-side page checks, logout."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from annotate.db.engine import session_scope
from annotate.navigation import PAGES
from annotate.services.accounts import users
from annotate.services.core.roles import ROLES
from tests.fixtures.apptest import APP, TIMEOUT, page_direct
from tests.fixtures.login_cookie import CookieLogin

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)

PW = "app-test-password"


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


BROWSER: list[CookieLogin] = []  # the simulated browser of the running test


@pytest.fixture()
def accounts(engine, db_url, monkeypatch):
    """One account per role (named after it), the app pointed at that database, and a
    simulated browser that logs in through the login route (:class:`CookieLogin`)."""
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    ids = {}
    with session_scope(engine) as session:
        for role in ROLES:
            ids[role] = users.create_user(session=session, username=role, role=role, password=PW).id
    BROWSER[:] = [CookieLogin(engine, monkeypatch)]
    return ids


def fresh_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    return at.run()


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    """Post the login form (as the browser does), then open the page it redirects to."""
    response = BROWSER[0].post(username, password)
    location = response.headers["location"]
    return fresh_app(dict(p.split("=", 1) for p in location.partition("?")[2].split("&") if p))


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.markdown, *at.error, *at.info, *at.warning)]
    return "\n".join(str(p) for p in parts)


def test_login_form_shown_when_logged_out(accounts):
    at = fresh_app()
    assert not at.exception
    form = at.get("html")[0].value  # a real HTML form, so password managers fill it
    assert '<form class="annotate-login" method="post" action="/session/login">' in form
    assert 'name="username" type="text" autocomplete="username"' in form
    assert 'name="password" type="password" autocomplete="current-password"' in form
    assert 'name="next" value="/"' in form
    assert "user_id" not in at.session_state
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/logout.py")  # "Log out" is only in a logged-in navigation


def test_wrong_password_is_refused(accounts):
    at = log_in(fresh_app(), "admin", PW + "-wrong")
    assert not at.exception
    assert "Wrong username or password." in [e.value for e in at.error]
    assert "user_id" not in at.session_state and BROWSER[0].value is None
    # an unknown user gets the very same message
    at = log_in(at, "nobody", PW)
    assert [e.value for e in at.error] == ["Wrong username or password."]


def test_repeated_failures_are_slowed_in_the_app(accounts):
    at = fresh_app()
    for _ in range(5):
        at = log_in(at, "annotator", "not-the-password")
    # by hand: 5 failures -> 30 s after the latest
    assert [e.value for e in at.error] in (["Too many failed logins from here. Try again in 30 seconds."],
                                           ["Too many failed logins from here. Try again in 29 seconds."])
    at = log_in(at, "annotator", PW)  # even the right password waits
    assert "user_id" not in at.session_state and BROWSER[0].value is None


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_pages(accounts, role):
    at = log_in(fresh_app(), role, PW)
    assert not at.exception
    assert at.session_state["user_id"] == accounts[role]
    assert "Home" in [t.value for t in at.title]  # the first page after login
    for spec in PAGES:
        page = f"app_pages/{spec.file}"
        if role in spec.roles:
            at.switch_page(page).run()
            assert not at.exception, (role, spec.file)
            assert "does not have access" not in texts(at)
        else:
            # not registered in this role's navigation: it cannot even be selected
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)


def test_admin_page_lists_accounts_and_adds_one(accounts, engine):
    at = log_in(fresh_app(), "admin", PW)
    at.switch_page("app_pages/admin/accounts.py").run()
    assert not at.exception
    assert "Accounts" in [t.value for t in at.title]
    listed = list(at.dataframe[0].value["Username"])
    assert listed == sorted(ROLES)
    at.text_input(key="new_username").input("newbie")
    at.selectbox(key="new_role").select("expert")
    at.text_input(key="new_password").input("newbie-password")
    at.text_input(key="new_password_confirm").input("newbie-password")
    next(b for b in at.button if b.label == "Add account").click()
    at.run()
    assert not at.exception
    assert any("newbie" in s.value for s in at.success)
    with session_scope(engine) as session:
        assert users.authenticate(session=session, username="newbie", password="newbie-password").role == "expert"


def test_annotator_cannot_open_admin_page_directly(accounts):
    # The page script itself, run with an annotator's session: its own check must refuse.
    at = page_direct(accounts["annotator"], "admin/accounts.py")
    assert not at.exception
    assert [e.value for e in at.error] == ["Your account does not have access to this page."]
    assert len(at.dataframe) == 0 and len(at.text_input) == 0


def test_role_change_takes_effect_on_the_open_page(accounts, engine):
    # An admin sits on the Accounts page; meanwhile the account becomes an annotator.
    at = log_in(fresh_app(), "admin", PW)
    at.switch_page("app_pages/admin/accounts.py").run()
    assert len(at.dataframe) == 1
    with session_scope(engine) as session:
        user = users.get_user_by_username(session=session, username="admin")
        user.role = "annotator"
        session.add(user)
        session.commit()
    at.run()  # the browser still asks for the Accounts page
    assert not at.exception
    assert "Accounts" not in [t.value for t in at.title]
    # No account form: the only text boxes are Home's own-password form
    assert [t.key for t in at.text_input if not str(t.key).startswith("own_pw_")] == []


def test_deactivated_account_is_logged_out(accounts, engine):
    at = log_in(fresh_app(), "expert", PW)
    with session_scope(engine) as session:
        users.deactivate(session=session, username="expert")
    at.run()
    assert "user_id" not in at.session_state
    assert "/session/login" in at.get("html")[0].value  # the login form
    # its cookie no longer logs in (a reload), and reactivating does not bring it back
    assert "user_id" not in fresh_app().session_state
    with session_scope(engine) as session:
        users.activate(session=session, username="expert")
    assert "user_id" not in fresh_app().session_state


def test_logout_clears_the_session(accounts):
    at = log_in(fresh_app(), "researcher", PW)
    at.session_state["scratch"] = "left over"
    at.switch_page("app_pages/logout.py").run()  # "Log out" in the navigation: opening it logs nobody out
    assert not at.exception
    assert at.session_state["user_id"] == accounts["researcher"]
    assert any('method="post" action="/session/logout"' in h.value for h in at.get("html"))
    assert BROWSER[0].logout().status_code == 303  # its button posts the logout form
    at.run()  # the tab's next rerun
    assert "user_id" not in at.session_state
    assert "scratch" not in at.session_state
    assert "/session/login" in at.get("html")[0].value
