"""Real browser: a judged pair whose query was edited since says so, and shows the change on
request: the annotator judges pair 1, two experts adapt and approve its query,
the annotator opens pair 1 again: the notice says the query changed, and "What changed in the
query since you judged it" shows the words added beside the version judged."""

from __future__ import annotations

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Judgment, StudyItem
from annotate.services.accounts import users
from annotate.services.refine import instructions, review, versions
from tests.e2e.conftest import log_in
from tests.e2e.test_judge_walk_browser import expect_text, open_from_sidebar, press
from tests.e2e.test_study_switch_browser import open_judge_page
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

ADDED = "Mention the budget in one sentence."


def test_a_changed_query_is_announced_with_its_diff(live_server, browser_context):
    engine = live_server.engine
    seed_content(engine)
    seed_accounts(engine, annotators=("ann1",))
    seed_study(engine, name="changes", annotators=("ann1",), overlap=1, subdomains=["Abstract", "Lesson Plan"])
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(page)
    expect_text(page, "Pair 1 of 2")
    press(page, "1")
    expect_text(page, "Pair 1: A is better saved.")

    with session_scope(engine) as s:
        exp1 = users.create_user(session=s, username="exp1", role="expert", password=PASSWORD)
        exp2 = users.create_user(session=s, username="exp2", role="expert", password=PASSWORD)
        query_id = s.exec(select(StudyItem.query_id).join(Assignment, Assignment.item_id == StudyItem.id)
                          .join(Judgment, Judgment.assignment_id == Assignment.id)).one()
        head = versions.instruction_head(session=s, query_id=query_id)
        version = instructions.propose_instruction(session=s, actor=exp1, query_id=query_id, text=head.text + " " + ADDED,
                                            reason="the budget matters", base_version_no=head.version_no)
        review.review_edit(session=s, actor=exp2, kind="instruction", version_id=version.id, approve=True)
        assert s.exec(select(Judgment.stale)).one()  # the judgment saw the older version

    open_from_sidebar(page, "My judgments", "Judged pair", "Pair 1", "Open this pair")
    expect_text(page, "The query or its materials changed after your judgment")
    page.get_by_text("What changed in the query since you judged it").click()
    added = page.locator("table.refine-diff .diff_add").first
    added.wait_for()
    assert ADDED in added.inner_text()
    page.get_by_text(f"version {head.version_no} (you judged)").first.wait_for()
