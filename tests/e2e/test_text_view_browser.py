"""Real browser: the annotator's text view (query, materials, two responses in one HTML
element, ``annotate.ui.kit.panes.show_text_view``) behaves like panes should.

Long responses and a verified material are put in the database; Chromium opens the pair
through ``annotate serve``. Each response pane scrolls on its own; a rerun of the page (the
study asks for per-criterion choices, the annotator submits without them and is told so)
keeps where the annotator had scrolled to and which material was open; links in a response
open in a new tab without access to the app's window.
"""

from __future__ import annotations

import re

from sqlalchemy import text

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.refine import materials
from tests.e2e.conftest import log_in, wait_for_app
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

SECTION = ("## Part {n}\n\nA paragraph of a long answer, part {n}, with a [source](https://example.org/{n}) "
           "and enough words to wrap across a few lines of the pane at the usual width of a laptop screen.\n\n"
           "- point one\n- point two\n\n")
LONG_RESPONSE = "".join(SECTION.format(n=n) for n in range(1, 61))
MATERIAL = "\n\n".join(f"Field note {n}: an observation written down during the visit." for n in range(1, 41))


def scroll_top(locator) -> float:  # type: ignore[no-untyped-def]
    return float(locator.evaluate("e => e.scrollTop"))


def test_panes_scroll_apart_and_keep_their_place_across_a_rerun(live_server, browser_context):
    engine = live_server.engine
    seed_content(engine)
    seed_accounts(engine)
    seed_study(engine, name="view", subdomains=["Abstract"], per_criterion=True)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("UPDATE response SET text = :t"), {"t": LONG_RESPONSE})
    with session_scope(engine) as session:
        ann1 = users.get_user_by_username(session=session, username="ann1")
        ann2 = users.get_user_by_username(session=session, username="ann2")
        query_id = int(session.exec(text("SELECT query_id FROM studyitem")).one()[0])  # type: ignore[call-overload]
        document = materials.add_material(session=session, actor=ann2, query_id=query_id, title="Field notes",
                                          text=MATERIAL, source_url="https://example.org/notes",
                                          license_note="CC BY 4.0")
        materials.verify_material(session=session, actor=ann1, document_id=document.id)

    page = browser_context.new_page()
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Judge pairs").click()
    left = page.get_by_role("region", name="Response A")
    right = page.get_by_role("region", name="Response B")
    left.wait_for()
    wait_for_app(page)

    # Both panes are bounded and scroll; scrolling one leaves the other where it was.
    assert left.evaluate("e => e.scrollHeight > e.clientHeight + 1000")
    assert left.get_attribute("tabindex") == "0"  # reachable by keyboard, to scroll it
    left.evaluate("e => e.scrollTop = 1200")
    assert scroll_top(left) == 1200 and scroll_top(right) == 0

    # The materials fold to one line; opened, each material is collapsed until opened.
    page.locator('details[data-fold="materials"] > summary').click()
    summary = page.get_by_text("Material 1: Field notes", exact=False)
    material = page.get_by_role("region", name="Material 1: Field notes", exact=False)
    assert not material.is_visible()
    summary.click()
    material.wait_for()

    # Submitting without the per-criterion choices reruns the page with an error; the
    # panes stay where they were.
    page.get_by_role("button", name=re.compile("^A is better")).click()
    page.get_by_text("for every criterion first", exact=False).filter(visible=True).first.wait_for()
    wait_for_app(page)
    assert scroll_top(left) == 1200 and scroll_top(right) == 0
    assert material.is_visible()

    # Links open in a new tab, without a handle on this window.
    link = left.get_by_role("link", name="source").first
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in (link.get_attribute("rel") or "")
