"""Real browser: a login survives reloads and bookmarks, and ends with logout or deactivation.

Through ``annotate serve`` and Chromium, for one account of every role: a bookmarked page
opened while logged out shows the login form at that address and lands on it after login;
then every page of the role, opened by its address (a new browser session each time, as a
reload or a reopened tab is), keeps the person logged in on that page; a reload too. The
page renews its cookie through the refresh route. After "Log out" (the logout page's button)
the old cookie, put back
into a fresh browser profile, is refused; so is the cookie of a deactivated account.
"""

from __future__ import annotations

import re

from annotate.db.engine import session_scope
from annotate.navigation import PAGES
from annotate.services.accounts import users
from tests.e2e.conftest import wait_for_app
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

ACCOUNTS = {"annotator": ("ann1", "ann1 · Annotator"), "expert": ("exp", "exp · Expert"),
            "researcher": ("res", "res · Researcher"), "admin": ("adm", "adm · Admin")}


def seed(engine) -> None:  # type: ignore[no-untyped-def]
    seed_content(engine)
    seed_accounts(engine)
    seed_study(engine)
    with session_scope(engine) as session:
        users.create_user(session=session, username="exp", role="expert", password=PASSWORD)




def submit_login(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("stSidebarNavItems").wait_for()
    wait_for_app(page)


def expect_logged_in_on(page, base_url: str, url_path: str, label: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNavItems").wait_for()
    wait_for_app(page)
    assert page.url.split("?")[0] == f"{base_url}/{url_path}", (page.url, url_path)
    assert page.get_by_text(label, exact=True).count() >= 1, label
    assert page.locator("form.annotate-login").count() == 0
    assert page.get_by_text("Page not found").count() == 0


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    """"Log out" in the navigation opens the logout page; its button posts the logout form."""
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Log out").click()
    page.locator("form.annotate-logout").get_by_role("button", name="Log out").click()


def expect_login_form(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("form.annotate-login").wait_for()
    wait_for_app(page)
    assert page.get_by_test_id("stSidebarNavItems").count() == 0


def test_every_role_keeps_its_login_and_page_across_reloads(live_server, browser_context):
    seed(live_server.engine)
    base = live_server.base_url
    refreshes: list[int] = []
    browser_context.on("response", lambda r: refreshes.append(r.status) if "/session/refresh" in r.url else None)
    for role, (username, label) in ACCOUNTS.items():
        paths = [spec.url_path for spec in PAGES if role in spec.roles and spec.url_path != "home"]
        page = browser_context.new_page()
        # a bookmark opened while logged out: the form at that address, then that page
        page.goto(f"{base}/{paths[0]}")
        expect_login_form(page)
        assert re.search(rf"/{paths[0]}$", page.url)
        submit_login(page, username)
        expect_logged_in_on(page, base, paths[0], label)
        for url_path in paths:  # each page by its address: a new session, logged in by the cookie
            page.goto(f"{base}/{url_path}")
            expect_logged_in_on(page, base, url_path, label)
        page.reload()
        expect_logged_in_on(page, base, paths[-1], label)
        log_out(page)
        expect_login_form(page)
        page.close()
        browser_context.clear_cookies()
    assert refreshes and set(refreshes) == {204}  # the pages renewed their cookie


def test_old_cookie_is_refused_after_logout_and_after_deactivation(live_server, browser_context):
    seed(live_server.engine)
    base = live_server.base_url
    for how in ("logout", "deactivate"):
        page = browser_context.new_page()
        page.goto(f"{base}/judge-pairs")
        submit_login(page, "ann1")
        expect_logged_in_on(page, base, "judge-pairs", "ann1 · Annotator")
        old = [c for c in browser_context.cookies() if c["name"] == "annotate_session"]
        assert len(old) == 1 and old[0]["httpOnly"] and old[0]["sameSite"] == "Lax"
        assert page.evaluate("document.cookie").find("annotate_session") == -1  # no script can read it
        if how == "logout":
            log_out(page)
            expect_login_form(page)
        else:
            with session_scope(live_server.engine) as session:
                users.deactivate(session=session, username="ann1")
        # the old cookie, put back as a copy of it would be, logs nobody in
        browser_context.clear_cookies()
        browser_context.add_cookies(old)
        page.goto(f"{base}/judge-pairs")
        expect_login_form(page)
        page.close()
        if how == "deactivate":
            with session_scope(live_server.engine) as session:
                users.activate(session=session, username="ann1")
