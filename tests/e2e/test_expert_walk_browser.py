"""Two experts walk the refinement pages as people do, in a real browser: pick queries from a
searchable list, adapt one, switch to another and back, reload, reject with a reason (the
reviewer sees the author's side-by-side diff), adapt again, approve, prune a collected material
with a reason per removed segment, and read the history. Screenshots of every expert page at
1366x768 and 1400x900 go to ``$EXPERT_SCREENSHOTS`` (default: the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlmodel import Session, select

from annotate.db.models import InstructionVersion, MaterialVersion, Query, User
from annotate.services.accounts import users
from annotate.services.core.taxonomy import seed_taxonomy, subdomain_index
from annotate.services.refine import materials
from tests.e2e.conftest import pick, wait_for_app
from tests.e2e.test_refine_browser import PASSWORD, click_until, log_in, open_page

QUERIES = {
    900001: "Write a short welcome note for new volunteers at the river clean-up day.",
    900002: "Write a press release about the reopening of the Elm Street library after renovation.",
    900003: "Summarise the attached council minutes for residents in plain words.",
}
MATERIAL = ("The library closed in March for a new roof.\n\n"
            "The library closed in March because the roof leaked.\n\n"
            "It reopens on 4 May with a children's corner and longer hours.\n\n"
            "Advert: our bakery on Elm Street sells fresh bread daily.")
SIZES = ((1366, 768), (1400, 900))


def seed(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        seed_taxonomy(s)
        sub = next(iter(subdomain_index(s).values()))
        for index, text in QUERIES.items():
            q = Query(index=index, subdomain_id=sub, lang="en", original_text=text)
            s.add(q)
            s.flush()
            s.add(InstructionVersion(query_id=q.id, version_no=1, text=text, status="approved", reason="imported"))
        s.commit()
        for name, role in (("exp1", "expert"), ("exp2", "expert"), ("ann1", "annotator")):
            users.create_user(session=s, username=name, role=role, password=PASSWORD)
        people = {u.username: u for u in s.exec(select(User))}
        q2 = s.exec(select(Query).where(Query.index == 900002)).one()
        # the collector keeps paragraphs 1-3 and leaves out the advert (paragraph 4)
        doc = materials.add_material(session=s, actor=people["ann1"], query_id=q2.id, title="Library notes",
                                     text=MATERIAL, source_url="https://example.org/library", license_note="CC BY 4.0",
                                     kept=[0, 1, 2])
        materials.verify_material(session=s, actor=people["exp2"], document_id=doc.id)


def shoot(page, shots: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        wait_for_app(page)
        page.screenshot(path=str(shots / f"{name}_{width}x{height}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def choose_query(page, index: int, shown: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Take query ``index`` in the searchable query picker; wait for ``shown`` (default "Query INDEX")."""
    pick(page, "Query (", str(index))
    page.get_by_text(shown or f"Query {index}", exact=False).first.wait_for()


def test_two_experts_adapt_review_and_prune(live_server, browser_context, tmp_path: Path) -> None:
    shots = Path(os.environ.get("EXPERT_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    seed(live_server.engine)

    one = browser_context.new_page()
    log_in(one, live_server.base_url, "exp1")
    open_page(one, "Adapt queries")
    # the picker shows index, domain › subdomain, first words and status
    box = one.get_by_role("combobox", name="Query (").first
    box.click()
    options = one.get_by_role("option").all_inner_texts()
    one.keyboard.press("Escape")
    assert any(o.startswith("900002 · ") and "Write a press release about" in o and "has materials" in o
               for o in options), options
    choose_query(one, 900002)
    editor = one.get_by_label("Your edit")
    editor.fill(QUERIES[900002] + " Keep it under 200 words.")
    editor.press("Control+Enter")
    wait_for_app(one)
    assert "200 words" in one.locator("table.refine-diff").first.inner_text()  # the diff follows the edit
    reason = one.get_by_label("Reason for the change (required)")
    reason.fill("a length makes the task realistic")
    reason.press("Enter")
    wait_for_app(one)
    shoot(one, shots, "adapt_query")
    click_until(one, one.get_by_role("button", name="Save as a new version"), "Saved version 2")
    # the reason box is empty again and saving waits for a new reason (the button stays
    # clickable, a click without one is refused)
    assert one.get_by_label("Reason for the change (required)").input_value() == ""
    one.get_by_text("A reason is required to save.").wait_for()

    # switch to another query and back, then reload: the page still shows 900002
    choose_query(one, 900001)
    assert one.get_by_label("Your edit").input_value() == QUERIES[900001]
    choose_query(one, 900002)
    one.reload()
    one.get_by_role("heading", name="Adapt queries").wait_for()
    wait_for_app(one)
    one.get_by_text("Query 900002").first.wait_for()
    one.get_by_text("awaiting review").first.wait_for()

    # expert 2 reviews with the author's diff; a rejection needs a reason
    two = browser_context.new_page()
    log_in(two, live_server.base_url, "exp2")
    open_page(two, "Review edits")
    diff = two.locator("table.refine-diff").first
    diff.wait_for()
    assert "200 words" in diff.inner_text()
    two.get_by_text("A reason is required to reject.").wait_for()
    shoot(two, shots, "review_edits")
    note = two.get_by_label("Reason (required to reject, optional to approve)")
    note.fill("the materials give no word limit")
    note.press("Enter")
    wait_for_app(two)
    click_until(two, two.get_by_role("button", name="Reject"), "Rejected query 900002 instruction version 2")

    # expert 1 comes back later (logs in again: both tabs share one browser's cookies) and saves version 3
    log_in(one, live_server.base_url, "exp1")
    open_page(one, "Adapt queries")
    choose_query(one, 900002)
    editor = one.get_by_label("Your edit")
    editor.fill(QUERIES[900002] + " Quote the head librarian once.")
    editor.press("Control+Enter")
    wait_for_app(one)
    reason = one.get_by_label("Reason for the change (required)")
    reason.fill("a quote is what a real release carries")
    reason.press("Enter")
    wait_for_app(one)
    click_until(one, one.get_by_role("button", name="Save as a new version"), "Saved version 3")
    open_page(two, "Query history")  # expert 2 was still on Review edits: come back to it
    open_page(two, "Review edits")
    click_until(two, two.get_by_role("button", name="Approve"), "Approved query 900002 instruction version 3")

    # expert 2 prunes the collected material: the advert left out at collection needs no reason
    open_page(two, "Prune materials")
    choose_query(two, 900002, "Library notes")
    two.get_by_text("left out at collection", exact=True).wait_for()
    two.get_by_text("Keep 1", exact=True).click()
    wait_for_app(two)
    save = two.get_by_role("button", name="Save pruning as a new version")
    assert save.is_disabled()
    two.get_by_text("Say why you remove segment(s) 1").wait_for()
    pick(two, "Reason 1", "redundant")
    assert not save.is_disabled()
    shoot(two, shots, "prune_materials")
    click_until(two, save, "Saved version 2 (removed 1 redundant)")

    # expert 1 sees only the pruned segment listed, approves; the history names the verifier
    open_page(one, "Review edits")
    one.get_by_text("Removed segments: 1 (redundant)").wait_for()
    assert one.get_by_text("Removed segments: 1 (redundant), 4").count() == 0
    click_until(one, one.get_by_role("button", name="Approve"), "Approved query 900002 material version 2")
    open_page(one, "Query history")
    choose_query(one, 900002)
    one.get_by_text("collected by ann1, verified by exp2").first.wait_for()
    shoot(one, shots, "query_history")
    open_page(one, "Collect materials")
    shoot(one, shots, "collect_materials")

    with Session(live_server.engine) as s:
        statuses = s.exec(select(InstructionVersion.version_no, InstructionVersion.status, InstructionVersion.review_note)
                          .join(Query, Query.id == InstructionVersion.query_id).where(Query.index == 900002)
                          .order_by(InstructionVersion.version_no)).all()
        assert statuses == [(1, "approved", ""), (2, "rejected", "the materials give no word limit"),
                            (3, "approved", "")]
        pruned = s.exec(select(MaterialVersion).where(MaterialVersion.version_no == 2)).one()
        assert (pruned.status, pruned.kept, pruned.removals) == (
            "approved", [1, 2], {"0": "redundant", "3": "left out at collection"})
