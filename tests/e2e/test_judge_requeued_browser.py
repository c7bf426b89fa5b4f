"""Real browser at 1366x768: the annotator judges both pairs of a study, an edit of
pair 1's query is approved and a researcher re-queues the stale work; on Judge pairs the pair
comes back as "Pair 1 of 2" (not "Pair 2 of 2"), says why, and shows what changed on request.
Screenshot: ``ANNOTATE_SCREENSHOTS`` (default ``/tmp/shots_flags``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, StudyItem, User
from annotate.services.accounts import users
from annotate.services.refine import instructions, review, staleness, versions
from tests.e2e.conftest import log_in
from tests.e2e.test_judge_walk_browser import expect_text, press
from tests.e2e.test_study_switch_browser import open_judge_page
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

ADDED = "Mention the budget in one sentence."


def test_a_requeued_pair_comes_back_under_its_number_and_says_why(live_server, browser_context, tmp_path):
    engine = live_server.engine
    seed_content(engine)
    ids = seed_accounts(engine, annotators=("ann1",))
    seed_study(engine, name="changes", annotators=("ann1",), overlap=1, subdomains=["Abstract", "Lesson Plan"])
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(page)
    expect_text(page, "Pair 1 of 2")
    press(page, "1")
    expect_text(page, "Pair 1: A is better saved.")
    press(page, "2")
    expect_text(page, "Pair 2: B is better saved.")

    with session_scope(engine) as s:
        exp1 = users.create_user(session=s, username="exp1", role="expert", password=PASSWORD)
        exp2 = users.create_user(session=s, username="exp2", role="expert", password=PASSWORD)
        first = s.exec(select(Assignment).where(Assignment.annotator_id == ids["ann1"])
                       .order_by(Assignment.position)).first()
        query_id = s.exec(select(StudyItem.query_id).where(StudyItem.id == first.item_id)).one()
        head = versions.instruction_head(session=s, query_id=query_id)
        version = instructions.propose_instruction(session=s, actor=exp1, query_id=query_id,
                                                   text=head.text + " " + ADDED, reason="the budget matters",
                                                   base_version_no=head.version_no)
        review.review_edit(session=s, actor=exp2, kind="instruction", version_id=version.id, approve=True)
        report = staleness.requeue_stale(session=s, actor=s.get(User, ids["res"]), study="changes")
        assert report.created == 1

    page.reload()
    open_judge_page(page)
    expect_text(page, "Pair 1 of 2")
    expect_text(page, "This query was changed since you judged it; your earlier judgment (A is better, "
                      f"on query version {head.version_no}) is kept as stale.")
    page.get_by_text("What changed in the query since you judged it").click()
    added = page.locator("table.refine-diff .diff_add").first
    added.wait_for()
    assert ADDED in added.inner_text()
    path = tmp_path / "requeued-1366x768.png"
    page.screenshot(path=str(path))
    target = Path(os.environ.get("ANNOTATE_SCREENSHOTS") or "/tmp/shots_flags")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target / path.name)
