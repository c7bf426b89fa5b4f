"""Real browser: *Collect materials* saves what it shows, on the first click.

Two materials are collected one after the other for two queries: after each Save the title,
source, licence and text boxes are empty, and each stored material has its own source and
licence (the boxes do not carry the first one's over, and Save is not greyed).
A second annotator verifies one and rejects the other: the page stays on the "Verify" tab,
and a rejection without a reason is refused; with one, the reason is stored.
"""

from __future__ import annotations

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import MaterialDocument, MaterialVersion, Query
from annotate.services.accounts import users
from annotate.services.refine import materials
from tests.e2e.conftest import log_in, pick, wait_for_app
from tests.e2e.test_judge_walk_browser import expect_text
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content

FIELDS = ("Title", "Source (URL or reference)", "Licence or permission")


def open_collect(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Collect materials").click()
    page.get_by_role("heading", name="Collect materials").wait_for()
    wait_for_app(page)


def fill(page, title: str, source: str, licence: str, text: str) -> None:  # type: ignore[no-untyped-def]
    for label, value in zip(FIELDS, (title, source, licence), strict=True):
        box = page.get_by_role("textbox", name=label)
        box.fill(value)
        box.press("Tab")
        wait_for_app(page)
    area = page.get_by_role("textbox", name="Text")
    area.fill(text)
    area.press("Tab")  # a text area sends its value when it loses the focus
    wait_for_app(page)


def test_collect_twice_then_verify_and_reject(live_server, browser_context):
    engine = live_server.engine
    seed_content(engine)
    seed_accounts(engine, annotators=("ann1", "ann2"))
    with session_scope(engine) as s:
        expert = users.create_user(session=s, username="exp1", role="expert", password=PASSWORD)
        queries = s.exec(select(Query).order_by(Query.index)).all()[:2]
        indexes = [q.index for q in queries]
        for q in queries:
            materials.set_needs_materials(session=s, actor=expert, query_id=q.id, needs=True,
                                          requirement=f"a source for {q.index}")
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_collect(page)
    for n, index in enumerate(indexes):
        pick(page, "Query", str(index))
        fill(page, f"Material {n}", f"https://example.org/source-{n}", f"licence {n}",
             f"Paragraph one of material {n}.\n\nParagraph two of material {n}.")
        page.get_by_role("button", name="Save the material").click()
        expect_text(page, "Saved. Another person verifies it")
        for label in (*FIELDS, "Text"):
            assert page.get_by_role("textbox", name=label).input_value() == "", label
    with session_scope(engine) as s:
        docs = s.exec(select(MaterialDocument).order_by(MaterialDocument.id)).all()
        stored = [(d.title, d.source_url, d.license_note, s.get(Query, d.query_id).index) for d in docs]
    assert stored == [(f"Material {n}", f"https://example.org/source-{n}", f"licence {n}", index)
                      for n, index in enumerate(indexes)]

    other = browser_context.new_page()
    other.set_viewport_size({"width": 1400, "height": 900})
    log_in(other, live_server.base_url, "ann2", PASSWORD)
    open_collect(other)
    other.get_by_role("tab", name="Verify others' materials").click()
    wait_for_app(other)
    other.get_by_role("button", name="Verify").first.click()
    expect_text(other, "verified")
    assert other.get_by_role("tab", name="Verify others' materials").get_attribute("aria-selected") == "true"
    other.get_by_role("button", name="Reject").first.click()
    expect_text(other, "say why the material is rejected")
    box = other.get_by_role("textbox", name="Why reject it (needed to reject)").first
    box.fill("the source is a blog")
    box.press("Tab")
    wait_for_app(other)
    other.get_by_role("button", name="Reject").first.click()
    expect_text(other, "rejected")
    assert other.get_by_role("tab", name="Verify others' materials").get_attribute("aria-selected") == "true"
    with session_scope(engine) as s:
        docs = s.exec(select(MaterialDocument).order_by(MaterialDocument.id)).all()
        assert [d.status for d in docs] == ["active", "rejected"]
        note = s.exec(select(MaterialVersion.review_note).where(MaterialVersion.document_id == docs[1].id)).first()
    assert note == "the source is a blog"
