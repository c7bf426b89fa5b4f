"""Real browser: every acknowledged choice shows its confirmation until the next action,
and the sidebar's list shows the current answers.

A fast double key press (60 ms apart) stores one judgment and must show "saved": the rerun the
second press starts must not lose the message. At 300 ms the "saved" message must not give way
to a "Not saved" notice. After a revision the sidebar's "Judged pair" line shows the new answer
without a reload. Stored rows are read back from the database.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Assignment, Judgment
from tests.e2e.conftest import SERVER_START_TIMEOUT, log_in
from tests.e2e.test_judge_walk_browser import expect_text, open_from_sidebar
from tests.e2e.test_study_switch_browser import open_judge_page
from tests.fixtures.app_server import start_server, stop
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study


def stored(engine) -> dict[int, tuple[str, int]]:  # type: ignore[no-untyped-def]
    """shown position (1-based) -> (winner, revision) of ann1's judgments."""
    with session_scope(engine) as s:
        rows = s.exec(select(Assignment.position, Judgment.winner, Judgment.revision)
                      .join(Judgment, Judgment.assignment_id == Assignment.id)).all()
    return {pos + 1: (winner, rev) for pos, winner, rev in rows}


def double_press(page, key: str, gap_ms: int) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press(key)
    page.wait_for_timeout(gap_ms)
    page.keyboard.press(key)


DWELL_S = 1.5
"""The guard against a press meant for the pair before, on (the suite switches it off)."""


def test_confirmations_stay_and_lists_show_the_current_answer(tmp_path: Path, browser_context):
    db_url = f"sqlite:///{tmp_path / 'confirm.db'}"
    engine = init_db(db_url)
    seed_content(engine)
    seed_accounts(engine, annotators=("ann1",))
    seed_study(engine, name="confirm", annotators=("ann1",), overlap=1,
               subdomains=["Abstract", "Lesson Plan", "Slogans", "Prose"])
    app = start_server(db_url, tmp_path / "server.log", timeout=SERVER_START_TIMEOUT,
                       health_path="/_stcore/health", extra_env={"ANNOTATE_MIN_DWELL_S": str(DWELL_S)})
    try:
        walk(app.base_url, engine, browser_context)
    finally:
        stop(app)
        engine.dispose()


def walk(base_url: str, engine, browser_context) -> None:  # type: ignore[no-untyped-def]
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, base_url, "ann1", PASSWORD)
    open_judge_page(page)
    expect_text(page, "Pair 1 of 4")
    page.wait_for_timeout(DWELL_S * 1000 + 300)  # past the guard against a press meant for the pair before

    double_press(page, "1", 60)
    expect_text(page, "Pair 1: A is better saved.")
    page.wait_for_timeout(1500)  # still there once every rerun has finished
    expect_text(page, "Pair 1: A is better saved.")
    rows = stored(engine)
    assert sorted(rows) == [1] and rows[1][1] == 1  # one judgment, one revision

    expect_text(page, "Pair 2 of 4")
    page.wait_for_timeout(DWELL_S * 1000 + 300)
    double_press(page, "2", 300)
    expect_text(page, "Pair 2: B is better saved.")
    page.wait_for_timeout(1500)
    expect_text(page, "Pair 2: B is better saved.")  # beside the notice that the second press was not saved
    assert sorted(stored(engine)) == [1, 2]  # pair 3 was not judged by the second press

    # a revision: the sidebar line names the new answer at once
    open_from_sidebar(page, "My judgments", "Judged pair", "Pair 1", "Open this pair")
    expect_text(page, "Pair 1 of 4")
    page.wait_for_timeout(DWELL_S * 1000 + 300)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("3")
    expect_text(page, "Pair 1: Equivalent revised (revision 2).")
    box = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Judged pair").filter(visible=True).first
    page.wait_for_function("(e) => e.value.startsWith('Pair 1 · Equivalent')", arg=box.element_handle())
    rows = stored(engine)
    assert rows[1] == ("tie", 2) and sorted(rows) == [1, 2]
