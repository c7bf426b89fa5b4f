"""Real browser: an annotator moves between two studies, revises, reloads and comes back.

What this walks through: a revisit picker ("My judgments") that kept the task id chosen in
study alpha after the annotator switched to study beta would open alpha's pair under beta's
title in "Open this pair", and choosing would revise alpha's judgment. Here the
annotator picks alpha's pair 2 in the revisit box, switches to beta, judges, opens beta's
first pair from beta's list, revises it, reloads the page, logs in again and switches back:
alpha's judgments must be exactly as first stored, beta's pair 1 revised once.
"""

from __future__ import annotations

import re

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Judgment, Study
from tests.e2e.conftest import log_in, pick, wait_for_app
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study


def open_judge_page(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Judge pairs").click()
    page.get_by_role("heading", name="Judge pairs").first.wait_for()
    wait_for_app(page)


def expect_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_text(text, exact=False).filter(visible=True).first.wait_for()
    wait_for_app(page)


def choose(page, label: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=re.compile("^" + re.escape(label))).filter(visible=True).first.click()


def _judgments(engine, study_name: str) -> dict[int, tuple[str, int]]:
    """position -> (winner, revision) of ann1's judgments in one study."""
    with session_scope(engine) as s:
        rows = s.exec(select(Assignment.position, Judgment.winner, Judgment.revision)
                      .join(Judgment, Judgment.assignment_id == Assignment.id)
                      .join(Study, Study.id == Assignment.study_id)
                      .where(Study.name == study_name)).all()
    return {pos + 1: (winner, rev) for pos, winner, rev in rows}  # stored 0-based, shown 1-based


def test_revise_in_one_study_leaves_the_other_untouched(live_server, browser_context):
    engine = live_server.engine
    seed_content(engine)
    seed_accounts(engine, annotators=("ann1",))
    seed_study(engine, name="alpha", annotators=("ann1",), overlap=1, subdomains=["Abstract", "Lesson Plan"])
    seed_study(engine, name="beta", annotators=("ann1",), overlap=1, subdomains=["Slogans", "Abstract"])

    page = browser_context.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(page)
    pick(page, "Study", "alpha")
    expect_text(page, "Pair 1 of 2")
    choose(page, "A is better")
    expect_text(page, "Pair 1: A is better saved.")
    expect_text(page, "Pair 2 of 2")
    choose(page, "A is better")
    expect_text(page, "Pair 2: A is better saved.")
    alpha_before = _judgments(engine, "alpha")
    assert sorted(alpha_before) == [1, 2]

    # alpha's revisit box now holds alpha's pair 2
    page.get_by_text("My judgments (2)").click()
    pick(page, "Judged pair", "Pair 2")

    pick(page, "Study", "beta")
    expect_text(page, "Pair 1 of 2")
    choose(page, "Equivalent")
    expect_text(page, "Pair 1: Equivalent saved.")
    page.get_by_text("My judgments (1)").click()
    page.get_by_role("button", name="Open this pair").filter(visible=True).click()
    expect_text(page, "in study beta")
    expect_text(page, "Pair 1 of 2")
    choose(page, "B is better")
    expect_text(page, "Pair 1: B is better revised (revision 2).")

    # a reload, then back to alpha
    page.reload()
    login = page.get_by_role("textbox", name="Username")
    login.or_(page.get_by_test_id("stSidebarNavItems")).first.wait_for()
    wait_for_app(page)
    if login.count():  # until the session cookie lands, a reload asks for the password again
        log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(page)
    pick(page, "Study", "alpha")
    expect_text(page, "You have judged every pair assigned to you in this study")

    assert _judgments(engine, "alpha") == alpha_before  # untouched
    beta = _judgments(engine, "beta")
    assert beta[1][1] == 2 and sorted(beta) == [1]
