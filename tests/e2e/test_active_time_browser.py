"""Real browser: the time stored with a judgment is the active time of its showing.

The annotator works on pair 1 (the mouse moves), leaves it alone for longer than the idle
limit N, reloads the page, works again and chooses. The stored ``active_s`` must hold both
stretches of work (a reload continues the showing) and leave out the idle stretch beyond N.
The server runs with N = 3 s and a heartbeat every second, so the test stays short.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Judgment, JudgmentRevision, TaskShowing
from tests.e2e.conftest import SERVER_START_TIMEOUT, log_in, wait_for_app
from tests.e2e.test_pairwise_browser import SUBDOMAINS, choice_button, expect_text, open_judge_page
from tests.fixtures.app_server import start_server, stop
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

IDLE_N = 3.0  # seconds after the last input that still count
WORK_1 = 10.0  # seconds of mouse movement before the idle stretch
IDLE_GAP = 10.0  # no input at all: only the first IDLE_N seconds of it count
WORK_2 = 3.0  # seconds of mouse movement after the reload


def work(page, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Move the mouse every quarter second for ``seconds``."""
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x = (x + 7) % 200
        page.mouse.move(300 + x, 300)
        page.wait_for_timeout(250)


def test_reload_adds_up_and_idle_time_is_left_out(tmp_path: Path, browser_context) -> None:  # type: ignore[no-untyped-def]
    db_url = f"sqlite:///{tmp_path / 'active.db'}"
    engine = init_db(db_url)
    seed_content(engine)
    seed_accounts(engine)
    seed_study(engine, name="active", subdomains=SUBDOMAINS)
    app = start_server(db_url, tmp_path / "server.log", timeout=SERVER_START_TIMEOUT, health_path="/_stcore/health",
                       extra_env={"ANNOTATE_ACTIVE_IDLE_S": str(IDLE_N), "ANNOTATE_ACTIVE_BEAT_S": "1",
                                  "ANNOTATE_MIN_DWELL_S": "0"})
    try:
        page = browser_context.new_page()
        log_in(page, app.base_url, "ann1", PASSWORD)
        t_open = time.monotonic()  # the clock cannot start before the judging page opens
        open_judge_page(page)
        expect_text(page, "Pair 1 of 3")
        t_work = time.monotonic()
        work(page, WORK_1)
        t_idle = time.monotonic()
        page.wait_for_timeout(IDLE_GAP * 1000)
        t_reload = time.monotonic()
        page.reload()
        expect_text(page, "Pair 1 of 3")
        work(page, WORK_2)
        choice_button(page, "A is better").click()
        expect_text(page, "Pair 1: A is better saved.")
        wait_for_app(page)
        t_end = time.monotonic()

        with session_scope(engine) as session:
            judgment = session.exec(select(Judgment)).one()
            revision = session.exec(select(JudgmentRevision)).one()
            # pair 2's showing has begun meanwhile: the judged pair's is the one of its task
            showing = session.exec(select(TaskShowing).where(TaskShowing.assignment_id == judgment.assignment_id)).one()
        active = judgment.active_s
        assert active is not None and active == revision.active_s == showing.active_s
        assert showing.revision == 1 and showing.submitted_at is not None
        # Both stretches of work count (a reload does not restart the time): at least WORK_1 + IDLE_N
        # before the reload and WORK_2 after it, less up to 1 s lost at the reload (the last
        # heartbeat's second) and 1 s of rounding.
        assert active >= WORK_1 + IDLE_N + WORK_2 - 2.0, (active, t_work - t_open)
        # The idle stretch beyond N does not count: at most the time from opening to the end of the
        # first work, N more, and everything from the reload to the save, plus 1 s of rounding.
        most = (t_idle - t_open) + IDLE_N + (t_end - t_reload) + 1.0
        assert active <= most, (active, most, t_end - t_open)
        assert active <= (t_end - t_open) - (IDLE_GAP - IDLE_N) + 1.0
    finally:
        stop(app)
        engine.dispose()
