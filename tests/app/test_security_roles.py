"""Security in the app (AppTest): every page refuses every role it is not meant for, also
when opened directly (a crafted URL); logged out, every page asks for a login; logout ends
the session; the data behind downloads and exports refuses the wrong role in the services."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from annotate.db.engine import session_scope
from annotate.navigation import PAGES
from annotate.services.accounts import users
from annotate.services.core.errors import PermissionDenied
from annotate.services.core.roles import ROLES
from tests.fixtures.apptest import APP, PAGE_DIR, TIMEOUT, page_direct
from tests.fixtures.login_cookie import CookieLogin
from tests.fixtures.pairwise_seed import seed_content, seed_study

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)
PW = "security-password"
PRESENT = [spec for spec in PAGES if (PAGE_DIR / spec.file).is_file()]


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


@pytest.fixture()
def accounts(engine, db_url, monkeypatch):
    """One account per role (``<role>1``) plus ann1/ann2 for a study; role -> user id."""
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = {}
    with session_scope(engine) as s:
        for role in ROLES:
            ids[role] = users.create_user(session=s, username=f"{role}1", role=role, password=PW).id
        for name in ("ann1", "ann2"):
            users.create_user(session=s, username=name, role="annotator", password=PW)
        users.create_user(session=s, username="res", role="researcher", password=PW)
    seed_study(engine)
    return ids


def shown(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in (*at.error, *at.warning, *at.markdown, *at.title))


def test_every_page_refuses_every_other_role_even_by_direct_url(accounts):
    assert len(PRESENT) >= 8, "page files missing"
    refused = 0
    for spec in PRESENT:
        for role in set(ROLES) - set(spec.roles):
            at = page_direct(accounts[role], spec.file)
            assert not at.exception, (spec.file, role, at.exception)
            assert [e.value for e in at.error] == ["Your account does not have access to this page."], (
                spec.file, role)
            # nothing else of the page was drawn: no widgets, no downloads
            assert not at.button and not at.text_input and not at.selectbox, (spec.file, role)
            refused += 1
    assert refused >= len(PRESENT)  # every page is closed to at least one role


def test_every_page_asks_for_login_when_logged_out(accounts):
    for spec in PRESENT:
        at = page_direct(None, spec.file)
        assert not at.exception, spec.file
        assert [w.value for w in at.warning] == ["Please log in."], spec.file
        assert not at.button and not at.text_input, spec.file


def test_deactivated_account_is_logged_out_at_once(accounts, engine):
    with session_scope(engine) as s:
        users.deactivate(session=s, username="annotator1")
    at = page_direct(accounts["annotator"], "annotate/judge_pairs.py")
    assert [w.value for w in at.warning] == ["Please log in."]
    assert "user_id" not in at.session_state


def test_logout_ends_the_session_and_its_cookie(accounts, engine, monkeypatch):
    browser = CookieLogin(engine, monkeypatch)
    assert browser.post("annotator1", PW).status_code == 303
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert at.session_state["user_id"] == accounts["annotator"]  # logged in by the cookie
    at.session_state["left_over"] = "something the page kept"
    at.switch_page("app_pages/logout.py").run()  # "Log out" in the navigation: a button
    assert at.session_state["user_id"] == accounts["annotator"]  # opening the page logs nobody out
    old_cookie = browser.value
    assert browser.logout().status_code == 303  # the button posts the logout form
    at.run()
    assert "user_id" not in at.session_state and "left_over" not in at.session_state
    assert "/session/login" in at.get("html")[0].value  # back on the login form
    # the pages of the former session refuse to draw
    at.run()
    assert "user_id" not in at.session_state
    # and the old cookie no longer logs anyone in (a reload, a copy of it elsewhere)
    browser.value = old_cookie
    again = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert "user_id" not in again.session_state


def test_exports_and_dashboard_data_refuse_wrong_roles(accounts, engine, tmp_path):
    from annotate.services.studies.dashboard import split_items, study_dashboard
    from annotate.services.studies.votes_export import export_votes

    with session_scope(engine) as s:
        for role in ("annotator", "expert"):
            actor = users.get_user(session=s, user_id=accounts[role])
            with pytest.raises(PermissionDenied):
                export_votes(session=s, actor=actor, study_name="pilot", path=tmp_path / f"{role}.jsonl")
            with pytest.raises(PermissionDenied):
                study_dashboard(session=s, actor=actor, study_name="pilot")
            with pytest.raises(PermissionDenied):
                split_items(session=s, actor=actor, study_name="pilot")
            assert not (tmp_path / f"{role}.jsonl").exists()
        with pytest.raises(PermissionDenied):
            export_votes(session=s, actor=None, study_name="pilot", path=tmp_path / "anon.jsonl")
        researcher = users.get_user(session=s, user_id=accounts["researcher"])
        export_votes(session=s, actor=researcher, study_name="pilot", path=tmp_path / "ok.jsonl")
    assert (tmp_path / "ok.jsonl").exists()
