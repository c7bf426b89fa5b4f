"""Real browser: the open study is in the address, and no path ends at a refusal.

An annotator with two studies picks the second: the address names it (``?study=ID``) and a
reload stays in it (not the first study). A judged pair of that study opened from "My
judgments", then Guidelines, then Judge pairs again shows the same study and pair (not the
first study with "This task cannot be opened"). A link
to a pair that cannot be opened (someone else's) shows the study's next pair with a notice.
"""

from __future__ import annotations

import re

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Study, User
from tests.e2e.conftest import log_in, pick, wait_for_app
from tests.e2e.test_judge_walk_browser import expect_text, open_from_sidebar
from tests.e2e.test_study_switch_browser import choose, open_judge_page
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study


def refusal_shown(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.get_by_text("cannot be opened", exact=False).count())


def reload_keeping_address(page, reload: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Reload; if the login form comes back (the cookie not yet stored), log in on the same address."""
    if reload:
        page.reload()
    login = page.get_by_role("textbox", name="Username")
    login.or_(page.get_by_role("region", name="Response B")).first.wait_for()
    wait_for_app(page)
    if login.count():
        login.fill("ann1")
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("region", name="Response B").wait_for()
        wait_for_app(page)


def test_study_in_the_address_and_no_dead_ends(live_server, browser_context):
    engine = live_server.engine
    seed_content(engine)
    seed_accounts(engine, annotators=("ann1", "ann2"))
    seed_study(engine, name="alpha", annotators=("ann1",), overlap=1, subdomains=["Abstract", "Lesson Plan"])
    beta = seed_study(engine, name="beta", annotators=("ann1",), overlap=1, subdomains=["Slogans", "Abstract"])
    seed_study(engine, name="theirs", annotators=("ann2",), overlap=1, subdomains=["Prose"], seed=3)
    with session_scope(engine) as s:
        theirs = s.exec(select(Assignment.id).join(User, User.id == Assignment.annotator_id)
                        .where(User.username == "ann2")).first()
        first_study = s.exec(select(Study.id).where(Study.name == "alpha")).one()
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(page)
    pick(page, "Study", "beta")
    expect_text(page, "pairs judged in study beta")
    page.wait_for_function(f"() => location.search.includes('study={beta}')")

    # a reload stays in study beta
    page.wait_for_timeout(1500)  # the session cookie lands
    reload_keeping_address(page)
    expect_text(page, "0 of 2 pairs judged in study beta")
    assert f"study={beta}" in page.url

    # judge, open the judged pair, Guidelines, back: the same study, the same pair, no refusal
    choose(page, "A is better")
    expect_text(page, "Pair 1: A is better saved.")
    open_from_sidebar(page, "My judgments", "Judged pair", "Pair 1", "Open this pair")
    expect_text(page, "You judged this pair before")
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Guidelines").click()
    wait_for_app(page)
    open_judge_page(page)
    expect_text(page, "1 of 2 pairs judged in study beta")
    expect_text(page, "You judged this pair before")
    assert not refusal_shown(page)
    assert page.get_by_role("combobox", name="Study").input_value() == "beta"

    # a link to someone else's pair: a notice, and the study's next pair
    page.goto(f"{live_server.base_url}/judge-pairs?assignment={theirs}&study={first_study}")
    reload_keeping_address(page, reload=False)
    expect_text(page, "That pair could not be opened")
    expect_text(page, "pairs judged in study")
    assert page.get_by_role("button", name=re.compile("^A is better")).count()
