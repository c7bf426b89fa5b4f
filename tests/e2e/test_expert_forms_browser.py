"""Real browser: the expert forms act on the first click and keep the person's selection.

*Adapt queries*' "Save as a new version" and *Review edits*' "Reject" lost the first click
when the reason had just been typed (the box sends its value when it loses the focus, and the
button was still greyed out when clicked); here each is clicked once, right after typing.
*Prune materials* jumped to the first query on the next click after a save; here the query
stays through the save and the next change. The query picked on one expert page is the one
*Query history* opens on.
"""

from __future__ import annotations

from sqlmodel import Session, select

from annotate.db.models import InstructionVersion, MaterialVersion, Query
from tests.e2e.conftest import pick, wait_for_app
from tests.e2e.test_expert_walk_browser import QUERIES, choose_query, seed
from tests.e2e.test_refine_browser import log_in, open_page


def picked(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_role("combobox", name="Query (").first.input_value()


def test_first_clicks_and_kept_selection(live_server, browser_context) -> None:
    seed(live_server.engine)
    one = browser_context.new_page()
    log_in(one, live_server.base_url, "exp1")
    open_page(one, "Adapt queries")
    choose_query(one, 900002)
    editor = one.get_by_label("Your edit")
    editor.fill(QUERIES[900002] + " Keep it under 200 words.")
    editor.press("Control+Enter")
    wait_for_app(one)
    one.get_by_label("Reason for the change (required)").fill("a length makes it realistic")  # no Enter
    one.get_by_role("button", name="Save as a new version").click()  # once
    one.get_by_text("Saved version 2").first.wait_for()

    two = browser_context.new_page()
    log_in(two, live_server.base_url, "exp2")
    open_page(two, "Review edits")
    two.get_by_label("Reason (required to reject, optional to approve)").fill("no word limit in the source")
    two.get_by_role("button", name="Reject").click()  # once, right after typing
    two.get_by_text("Rejected query 900002 instruction version 2").wait_for()

    open_page(two, "Prune materials")
    choose_query(two, 900002, "Library notes")
    two.get_by_text("Keep 1", exact=True).click()
    wait_for_app(two)
    pick(two, "Reason 1", "redundant")
    two.get_by_role("button", name="Save pruning as a new version").click()
    two.get_by_text("Saved version 2").first.wait_for()
    wait_for_app(two)
    assert picked(two).startswith("900002")
    two.get_by_text("Keep 2", exact=True).click()  # the next click after the save
    wait_for_app(two)
    assert picked(two).startswith("900002")
    assert not two.get_by_text("This query has no material yet").count()

    open_page(two, "Query history")  # carries the query picked on the page before
    assert picked(two).startswith("900002")
    # the history's diff marks the words added, not the whole line (as Adapt and Review do)
    two.get_by_text("Instruction v2", exact=False).first.click()
    added = two.locator("table.refine-diff .diff_add").first
    added.wait_for()
    assert "Keep it under 200 words." in added.inner_text()
    assert "press release" not in added.inner_text()  # the unchanged start of the line is not marked

    with Session(live_server.engine) as s:
        q = s.exec(select(Query).where(Query.index == 900002)).one()
        statuses = s.exec(select(InstructionVersion.status).where(InstructionVersion.query_id == q.id)
                          .order_by(InstructionVersion.version_no)).all()
        assert statuses == ["approved", "rejected"]
        assert len(s.exec(select(MaterialVersion)).all()) == 2
