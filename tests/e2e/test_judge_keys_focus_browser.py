"""Real browser: the judging keys work wherever the focus is, except inside a text box.

Streamlit's own button shortcuts ignore a key pressed while a checkbox, a button or a pill
has the focus, and a study picked from the picker kept the focus, so "1" typed into it. Here
the annotator presses the keys with the focus on each of those: on the pane's "Full height"
checkbox (focused by keyboard), on a flag pill, right after choosing a study in the picker,
and after leaving the rationale box with Esc. Each key press stores exactly the judgment it
names (rows read back from the database); the "2" typed inside the rationale box is text,
not a choice. After a widget change (a checkbox ticked with the mouse) the focus is back on
the page.
"""

from __future__ import annotations

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Judgment, Study
from tests.e2e.conftest import log_in, pick, wait_for_app
from tests.e2e.test_study_switch_browser import expect_text, open_judge_page
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

ACTIVE = "() => { const a = document.activeElement; return a ? (a.getAttribute('aria-label') || a.tagName) : null; }"


def judgments(engine, study_name: str) -> dict[int, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """shown position (1-based) -> (winner, rationale) of ann1's judgments in one study."""
    with session_scope(engine) as s:
        rows = s.exec(select(Assignment.position, Assignment.shown_left, Judgment.winner, Judgment.rationale)
                      .join(Judgment, Judgment.assignment_id == Assignment.id)
                      .join(Study, Study.id == Assignment.study_id)
                      .where(Study.name == study_name)).all()
    return {pos + 1: (winner, rationale) for pos, _shown, winner, rationale in rows}


def test_keys_work_wherever_the_focus_is(live_server, browser_context):
    engine = live_server.engine
    seed_content(engine)
    seed_accounts(engine, annotators=("ann1",))
    seed_study(engine, name="alpha", annotators=("ann1",), overlap=1, subdomains=["Abstract", "Lesson Plan"])
    seed_study(engine, name="beta", annotators=("ann1",), overlap=1, subdomains=["Slogans", "Abstract"])
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(page)
    pick(page, "Study", "alpha")
    expect_text(page, "Pair 1 of 2")

    # a checkbox ticked with the mouse gives the focus back to the page
    full = page.get_by_label("Full height: Response A")
    full.click()
    page.wait_for_function("() => document.activeElement === document.body")
    full.click()  # untick
    wait_for_app(page)
    # the focus on the checkbox (as a keyboard user leaves it): "2" still chooses B
    full.focus()
    assert page.evaluate(ACTIVE) == "Full height: Response A"
    page.keyboard.press("2")
    expect_text(page, "Pair 1: B is better saved.")
    expect_text(page, "Pair 2 of 2")

    # the focus on a flag pill (a button): "3" chooses Equivalent, with the flag it toggled
    page.get_by_role("button", name="Needs an expert").click()
    wait_for_app(page)
    page.get_by_role("button", name="Needs an expert").focus()
    page.keyboard.press("3")
    expect_text(page, "Pair 2: Equivalent saved.")
    assert [w for w, _ in judgments(engine, "alpha").values()].count("tie") == 1

    # right after choosing a study in the picker, "1" is a choice, not a search in the picker
    pick(page, "Study", "beta")
    expect_text(page, "Pair 1 of 2")
    page.wait_for_timeout(300)
    page.keyboard.press("1")
    expect_text(page, "Pair 1: A is better saved.")
    assert not page.get_by_text("No results").count()
    assert len(judgments(engine, "beta")) == 1

    # inside the rationale box a key is text; Esc leaves it and the next key chooses
    expect_text(page, "Pair 2 of 2")
    page.wait_for_timeout(900)  # past the guard against a double press
    page.keyboard.press("e")
    assert page.evaluate(ACTIVE) == "Rationale (optional)"
    page.keyboard.type("2 sources")
    page.keyboard.press("Escape")
    assert page.evaluate(ACTIVE) != "Rationale (optional)"
    assert len(judgments(engine, "beta")) == 1  # the "2" typed was not a choice
    page.keyboard.press("4")
    expect_text(page, "Pair 2: Both are poor saved.")
    beta = judgments(engine, "beta")
    assert sorted(beta) == [1, 2] and beta[2] == ("tie", "2 sources")
    alpha = judgments(engine, "alpha")
    assert sorted(alpha) == [1, 2] and alpha[2][0] == "tie"
