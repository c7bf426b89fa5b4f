"""Real browser, real server: two annotators judge pairs through ``annotate serve``.

Chromium (Playwright) drives the running app; the database is a SQLite file seeded
through the services. One annotator reloads the page in the middle of a task (a new
Streamlit session: log in again, same pair comes back) and double-clicks the submit
button; one uses a keyboard shortcut. Afterwards the database must hold exactly one
judgment (and one revision) per judged assignment, with the canonical winner derived here
from each assignment's ``shown_left``, and the votes export must list exactly those votes.
"""

from __future__ import annotations

import json
import re

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Judgment, JudgmentRevision, LLMModel, Response, StudyItem
from annotate.services.accounts import users
from annotate.services.studies.votes_export import export_votes
from tests.e2e.conftest import log_in, wait_for_app
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

SUBDOMAINS = ["Abstract", "Lesson Plan", "Slogans"]  # three demo queries -> three pairs each


def open_judge_page(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Judge pairs").click()
    page.get_by_role("heading", name="Judge pairs").wait_for()
    wait_for_app(page)


def expect_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    # Visible matches only: after a rerun Streamlit may keep a hidden, stale copy of an element.
    page.get_by_text(text, exact=False).filter(visible=True).first.wait_for()
    wait_for_app(page)


def choice_button(page, label: str):  # type: ignore[no-untyped-def]
    """A choice button (its accessible name also carries the shortcut key)."""
    return page.get_by_role("button", name=re.compile("^" + re.escape(label)))


def judge(page, button: str, pair_no: int, *, total: int = 3) -> None:  # type: ignore[no-untyped-def]
    """On the page showing pair ``pair_no``, press ``button`` and wait for the saved notice."""
    expect_text(page, f"Pair {pair_no} of {total}")
    choice_button(page, button).click()
    expect_text(page, f"Pair {pair_no}: {button} saved.")
    wait_for_app(page)
    if pair_no < total:
        expect_text(page, f"Pair {pair_no + 1} of {total}")


def test_two_annotators_judge_with_reload_double_click_and_shortcut(live_server, browser_context):
    engine = live_server.engine
    seed_content(engine)
    ids = seed_accounts(engine)
    seed_study(engine, name="e2e", subdomains=SUBDOMAINS)

    ann1 = browser_context.new_page()
    ann2 = browser_context.new_page()
    log_in(ann1, live_server.base_url, "ann1", PASSWORD)
    ann1_cookie = [c for c in browser_context.cookies() if c["name"] == "annotate_session"]
    log_in(ann2, live_server.base_url, "ann2", PASSWORD)
    open_judge_page(ann1)
    open_judge_page(ann2)

    # The annotators never see model names.
    with session_scope(engine) as session:
        model_names = [m.name for m in session.exec(select(LLMModel)).all()]
    body = ann1.locator("[data-testid='stMain']").inner_text()
    assert "Response A" in body and "Response B" in body
    assert not any(name in body for name in model_names)

    clicks: dict[str, list[tuple[str, bool]]] = {"ann1": [], "ann2": []}  # (choice, both_poor)

    judge(ann1, "A is better", 1)
    clicks["ann1"].append(("left", False))
    judge(ann2, "B is better", 1)
    clicks["ann2"].append(("right", False))

    # ann1 starts pair 2, writes half a rationale, then reloads the page: a new session.
    expect_text(ann1, "Pair 2 of 3")
    ann1.get_by_label("Rationale (optional)").fill("half a thought")
    # (both tabs share one browser profile: ann1's own browser holds ann1's cookie)
    browser_context.add_cookies(ann1_cookie)
    ann1.reload()
    login = ann1.get_by_role("textbox", name="Username")
    login.or_(ann1.get_by_test_id("stSidebarNavItems")).first.wait_for()
    wait_for_app(ann1)
    if login.count():  # the session cookie keeps the login across a reload; without it, log in again
        log_in(ann1, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(ann1)
    expect_text(ann1, "Pair 2 of 3")  # the same pair comes back, nothing was stored
    # A double click on the submit button: two clicks on the same button before the first
    # rerun answers, i.e. two submits with the same token. Both clicks are dispatched in one
    # synchronous script so that neither can land on the next pair's button (that slower
    # double click is refused by the minimum-dwell guard: test_slow_double_click_browser.py).
    choice_button(ann1, "Equivalent").evaluate("b => { b.click(); b.click(); }")
    expect_text(ann1, "Pair 2: Equivalent saved.")
    wait_for_app(ann1)
    clicks["ann1"].append(("tie", False))

    # Pair 3 for ann1: both poor, with a rationale.
    expect_text(ann1, "Pair 3 of 3")
    ann1.get_by_label("Rationale (optional)").fill("Neither follows the format.")
    judge(ann1, "Both are poor", 3)  # the fourth choice: stored as a tie with both_poor
    clicks["ann1"].append(("tie", True))
    expect_text(ann1, "You have judged every pair assigned to you")

    # ann2: pair 2 by mouse, pair 3 with the keyboard shortcut "2" (B is better).
    judge(ann2, "A is better", 2)
    clicks["ann2"].append(("left", False))
    expect_text(ann2, "Pair 3 of 3")
    ann2.get_by_role("heading", name="Judge pairs").click()  # focus the page, not a text field
    ann2.keyboard.press("2")
    expect_text(ann2, "Pair 3: B is better saved.")
    clicks["ann2"].append(("right", False))

    # ----------------------------------------------------------------- database rows
    expected_votes = []
    with session_scope(engine) as session:
        for username, made in clicks.items():
            queue = session.exec(select(Assignment).where(Assignment.annotator_id == ids[username])
                                 .order_by(Assignment.position)).all()
            assert len(queue) == 3
            for assignment, (choice, both_poor) in zip(queue, made, strict=True):
                rows = session.exec(select(Judgment).where(Judgment.assignment_id == assignment.id)).all()
                assert len(rows) == 1, (username, assignment.position)
                judgment = rows[0]
                revisions = session.exec(select(JudgmentRevision)
                                         .where(JudgmentRevision.judgment_id == judgment.id)).all()
                assert len(revisions) == 1 and judgment.revision == 1, "a double click made a revision"
                # left/right -> canonical a/b through the side shown on the left
                other = "b" if assignment.shown_left == "a" else "a"
                canonical = {"left": assignment.shown_left, "right": other, "tie": "tie"}[choice]
                assert judgment.winner == canonical and judgment.both_poor == both_poor
                assert assignment.status == "done"
                assert judgment.elapsed_s is not None and judgment.elapsed_s >= 0
                item = session.get(StudyItem, assignment.item_id)
                model_a = session.get(LLMModel, session.get(Response, item.response_a_id).model_id).name
                model_b = session.get(LLMModel, session.get(Response, item.response_b_id).model_id).name
                winner = {"a": "model_a", "b": "model_b", "tie": "tie (bothbad)" if both_poor else "tie"}[canonical]
                expected_votes.append((item.query_id, model_a, model_b, winner, username))
        assert len(session.exec(select(Judgment)).all()) == 6
        assert len(session.exec(select(JudgmentRevision)).all()) == 6
        rationale = session.exec(select(Judgment).where(Judgment.both_poor == True)).one().rationale  # noqa: E712
        assert rationale == "Neither follows the format."

    # ----------------------------------------------------------------- export
    export_path = live_server.log_path.parent / "votes.jsonl"
    with session_scope(engine) as session:
        researcher = users.get_user_by_username(session=session, username="res")
        count = export_votes(session=session, actor=researcher, study_name="e2e", path=export_path)
        index_of = {q_id: idx for q_id, idx in session.exec(
            select(StudyItem.query_id, StudyItem.query_id)).all()}
        from annotate.db.models import Query

        index_of = {q.id: q.index for q in session.exec(select(Query)).all()}
    rows = [json.loads(line) for line in export_path.read_text(encoding="utf-8").splitlines()]
    overall = [r for r in rows if "criterion" not in r]
    assert count == len(rows) == len(overall) == 6
    exported = sorted((r["question_id"], r["model_a"], r["model_b"], r["winner"], r["judge"]) for r in overall)
    assert exported == sorted((index_of[q], a, b, w, j) for q, a, b, w, j in expected_votes)
    assert all(r["model_a"] < r["model_b"] for r in overall)  # canonical order

