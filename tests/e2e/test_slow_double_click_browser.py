"""Real browser: a slow double click must not judge the next pair.

The first click saves pair 1 and the page moves on to pair 2; a second click that lands on
pair 2's button a moment later (a slow double click, or a key pressed twice) is refused by
the minimum-dwell guard, so pair 2 stays unjudged until the annotator chooses again. The
server runs with the guard on (``ANNOTATE_MIN_DWELL_S``), which the rest of the suite
switches off.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Assignment, Judgment
from tests.e2e.conftest import SERVER_START_TIMEOUT, log_in
from tests.e2e.test_pairwise_browser import SUBDOMAINS, choice_button, expect_text, open_judge_page
from tests.fixtures.app_server import start_server, stop
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

DWELL_S = 4.0  # long enough that the second click lands inside it even on a busy CI machine


def test_second_click_on_the_next_pair_is_refused(tmp_path: Path, browser_context) -> None:  # type: ignore[no-untyped-def]
    db_url = f"sqlite:///{tmp_path / 'dwell.db'}"
    engine = init_db(db_url)
    seed_content(engine)
    ids = seed_accounts(engine)
    seed_study(engine, name="dwell", subdomains=SUBDOMAINS)
    app = start_server(db_url, tmp_path / "server.log", timeout=SERVER_START_TIMEOUT,
                       health_path="/_stcore/health", extra_env={"ANNOTATE_MIN_DWELL_S": str(DWELL_S)})
    try:
        page = browser_context.new_page()
        log_in(page, app.base_url, "ann1", PASSWORD)
        open_judge_page(page)
        expect_text(page, "Pair 1 of 3")
        page.wait_for_timeout(DWELL_S * 1000 + 500)  # the annotator reads pair 1
        choice_button(page, "A is better").click()
        expect_text(page, "Pair 1: A is better saved.")
        expect_text(page, "Pair 2 of 3")
        choice_button(page, "A is better").click()  # the second click of a slow double click
        expect_text(page, "Not saved: pair 2 appeared a moment ago")
        expect_text(page, "Pair 2 of 3")  # still on pair 2, nothing stored for it

        with session_scope(engine) as session:
            queue = session.exec(select(Assignment).where(Assignment.annotator_id == ids["ann1"])
                                 .order_by(Assignment.position)).all()
            judged = session.exec(select(Judgment.assignment_id)).all()
            assert judged == [queue[0].id]
            assert [a.status for a in queue][:2] == ["done", "pending"]
    finally:
        stop(app)
        engine.dispose()
