"""Real browser, at 1366x768 and 1400x900: an annotator flags a pair "Needs materials" while
judging it; an expert opens *Flags*, resolves the flag with a note (the note box and the
Resolve button in view without scrolling), sees the resolution, and its history grows with each
decision. Screenshots of each step go to ``ANNOTATE_SCREENSHOTS`` (default
``/tmp/shots_flags``)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from sqlmodel import col, select

from annotate.db.engine import session_scope
from annotate.db.models import FlagResolution, Judgment
from annotate.services.accounts import users
from tests.e2e.conftest import log_in, wait_for_app
from tests.e2e.test_judge_walk_browser import expect_text, press
from tests.e2e.test_study_switch_browser import open_judge_page
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

SIZES = ((1366, 768), (1400, 900))
NOTE = "Added the 2023 annual report as a material; the query now points to it."
WHY = "The report added is the wrong year."


def _shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    target = Path(os.environ.get("ANNOTATE_SCREENSHOTS") or "/tmp/shots_flags")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target / path.name)


def _in_view(page, locator) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (box, size)


def _open_flags(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Flags").click()
    page.get_by_role("heading", name="Flags").first.wait_for()
    wait_for_app(page)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_needs_materials_flag_is_resolved_on_the_flags_page(live_server, browser_context, tmp_path, width, height):
    engine = live_server.engine
    seed_content(engine)
    seed_accounts(engine, annotators=("ann1",))
    seed_study(engine, name="flags", annotators=("ann1",), overlap=1, subdomains=["Abstract", "Lesson Plan"])
    with session_scope(engine) as s:
        users.create_user(session=s, username="exp1", role="expert", password=PASSWORD)
    size = f"{width}x{height}"

    # the annotator judges pair 1 and flags it "Needs materials", with a rationale
    page = browser_context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    open_judge_page(page)
    expect_text(page, "Pair 1 of 2")
    page.get_by_role("button", name="Needs materials").click()
    wait_for_app(page)
    rationale = page.get_by_placeholder(re.compile("^Rationale"))
    rationale.fill("It asks to summarise a report it does not include")
    press(page, "Escape")
    press(page, "1")
    expect_text(page, "Pair 1: A is better saved.")
    _shot(page, tmp_path, f"flags-{size}-1-annotator")
    # four flags, the rationale and previous/next stay on one row of the bar
    middles = []
    for name in ("Query problem", "Cut off", "Needs an expert", "Needs materials", "Previous pair", "Next pair"):
        box = page.get_by_role("button", name=name).filter(visible=True).first.bounding_box()
        middles.append(box["y"] + box["height"] / 2)
    assert max(middles) - min(middles) < 10, middles
    with session_scope(engine) as s:
        judgment = s.exec(select(Judgment)).one()
        assert judgment.flags == ["needs_materials"]
        judgment_id = judgment.id

    # the expert finds it on Flags and resolves it with a note, without scrolling
    expert = browser_context.new_page()
    expert.set_viewport_size({"width": width, "height": height})
    log_in(expert, live_server.base_url, "exp1", PASSWORD)
    _open_flags(expert)
    expect_text(expert, "1 open flag")
    expect_text(expert, "Needs materials")
    expect_text(expert, "It asks to summarise a report it does not include")
    note = expert.get_by_role("textbox", name="Note (required)")
    resolve = expert.get_by_role("button", name="Resolve")
    _in_view(expert, note)
    _in_view(expert, resolve)
    _shot(expert, tmp_path, f"flags-{size}-2-queue")
    note.fill(NOTE)
    note.press("Enter")
    wait_for_app(expert)
    resolve.click()
    expect_text(expert, "resolved.")
    expect_text(expert, "No open flag")
    _shot(expert, tmp_path, f"flags-{size}-3-resolved")

    # the resolution shows, with who and why; its history is versioned
    expert.get_by_text("Show resolved flags too").click()
    wait_for_app(expert)
    expect_text(expert, "Resolved by exp1")
    expect_text(expert, NOTE)
    reopen_note = expert.get_by_role("textbox", name="Why reopen it (required)")
    reopen_note.fill(WHY)
    reopen_note.press("Enter")
    wait_for_app(expert)
    expert.get_by_role("button", name="Reopen").click()
    expect_text(expert, "reopened.")
    expect_text(expert, "Reopened by exp1")
    expert.get_by_test_id("stMain").get_by_text("History", exact=True).first.click()
    wait_for_app(expert)
    expect_text(expert, WHY)  # the history table: both decisions
    _shot(expert, tmp_path, f"flags-{size}-4-history")
    # with the flash message and the history open, the next decision is still in view
    fresh = expert.get_by_role("textbox", name="Note (required)")
    _in_view(expert, fresh)
    assert fresh.input_value() == ""  # the reason just given does not linger in the next note box
    _in_view(expert, expert.get_by_role("button", name="Resolve"))
    with session_scope(engine) as s:
        rows = s.exec(select(FlagResolution).where(FlagResolution.judgment_id == judgment_id)
                      .order_by(col(FlagResolution.id))).all()
        assert [(r.flag, r.status, r.note) for r in rows] == [
            ("needs_materials", "resolved", NOTE), ("needs_materials", "open", WHY)]
