"""Real browser: an annotator works through a study the way people do, mostly by keyboard.

From Home ("15 pairs left in study long", Continue) through twelve pairs chosen with the
keys 1-4, a skip (S) that comes back from the sidebar's skipped list, a rationale typed
after E, a step back (P), a revision opened from "My judgments" (whose lines show the
answer and the query's first words), and the "?" overlay. At 1366x768 and 1400x900 the
choice bar's bounding box lies inside the window while the texts scroll. A per-criterion
study is judged with G and 1/2/3 along the rows. The panes' raw-text and full-height
toggles are checked on the page. Afterwards every judged pair has exactly one judgment
row, with exactly the revisions made, each choice mapped to the canonical side through
the assignment's ``shown_left`` (derived here from the rows, not from the page).

Screenshots of each state are written to the test's ``tmp_path`` (and copied to
``$ANNOTATE_SCREENSHOTS`` when that is set, for a person to look at).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Judgment, JudgmentRevision, Query, StudyItem
from tests.e2e.conftest import log_in, wait_for_app
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

SIZES = ((1366, 768), (1400, 900))


def shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    target = os.environ.get("ANNOTATE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def expect_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_text(text, exact=False).filter(visible=True).first.wait_for()
    wait_for_app(page)


def press(page, key: str) -> None:  # type: ignore[no-untyped-def]
    """A key press with no text field focused (as after reading)."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press(key)


def bar_in_view(page) -> dict:  # type: ignore[no-untyped-def]
    """The choice bar's box; asserts it lies wholly inside the window."""
    box = page.locator(".st-key-wj_bar").bounding_box()
    size = page.viewport_size
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5, (box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    for label in ("A is better", "B is better", "Equivalent", "Both are poor"):
        button = page.get_by_role("button", name=re.compile("^" + label)).filter(visible=True).first.bounding_box()
        assert button and button["y"] >= 0 and button["y"] + button["height"] <= size["height"], (label, button)
    return box


def open_from_sidebar(page, expander: str, label: str, option_prefix: str, button: str) -> None:  # type: ignore[no-untyped-def]
    sidebar = page.get_by_test_id("stSidebar")
    summary = sidebar.get_by_text(expander, exact=False).first
    if not sidebar.get_by_role("combobox", name=label).filter(visible=True).count():
        summary.click()
    box = sidebar.get_by_role("combobox", name=label).filter(visible=True).first
    option = page.get_by_role("option", name=re.compile("^" + re.escape(option_prefix))).first
    for _ in range(5):  # a click that lands while the sidebar is redrawn does not open the list
        box.click()
        try:
            option.wait_for(timeout=3_000)
            break
        except Exception:  # noqa: BLE001 - try again, as a person would click again
            page.keyboard.press("Escape")
            wait_for_app(page)
    option.click()
    wait_for_app(page)
    sidebar.get_by_role("button", name=button).filter(visible=True).first.click()
    wait_for_app(page)


def canonical(choice: str, shown_left: str) -> str:
    other = "b" if shown_left == "a" else "a"
    return {"left": shown_left, "right": other, "tie": "tie"}[choice]


def test_a_long_keyboard_session_with_skip_step_back_and_revision(live_server, browser_context, tmp_path):
    engine = live_server.engine
    seed_content(engine)
    ids = seed_accounts(engine, annotators=("ann1",))
    study_id = seed_study(engine, name="long", annotators=("ann1",), overlap=1)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    expect_text(page, "15 pairs left in study long (0 of 15 judged)")
    shot(page, tmp_path, "home_1366x768")
    page.set_viewport_size({"width": 1400, "height": 900})
    shot(page, tmp_path, "home_1400x900")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.get_by_role("button", name=re.compile("Continue")).click()
    expect_text(page, "Pair 1 of 15")

    # The bar is in view at both sizes, at the top of the page and scrolled to the responses.
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        bar_in_view(page)
        shot(page, tmp_path, f"judge_{width}x{height}")
        page.get_by_role("region", name="Response B").scroll_into_view_if_needed()
        bar_in_view(page)
        page.mouse.wheel(0, -5000)
    page.set_viewport_size({"width": 1366, "height": 768})

    # "?" lists every key; Esc closes the list.
    press(page, "?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for()
    for text in ("Both are poor", "Skip for now", "Previous pair", "rationale", "per-criterion"):
        assert text in dialog.inner_text()
    shot(page, tmp_path, "keys_1366x768")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # Twelve pairs by keyboard: pair 3 skipped, pair 5 with a rationale typed after E.
    plan = {1: "1", 2: "2", 3: "s", 4: "4", 5: "3", 6: "1", 7: "2", 8: "3", 9: "4", 10: "1", 11: "2", 12: "3",
            13: "1"}
    label = {"1": "A is better", "2": "B is better", "3": "Equivalent", "4": "Both are poor"}
    for position, key in plan.items():
        expect_text(page, f"Pair {position} of 15")
        if position == 5:
            press(page, "e")
            page.keyboard.type("B drops the word limit")
            assert page.evaluate("() => document.activeElement.value") == "B drops the word limit"
            page.keyboard.press("Escape")  # leaves the box: the next key is a shortcut again
        if position == 7:  # a step back to pair 6 (judged) and forward to this one again
            press(page, "p")
            expect_text(page, "Pair 6 of 15")
            expect_text(page, "You judged this pair before: A is better")
            press(page, "n")
            expect_text(page, "Pair 7 of 15")
        press(page, key)
        if key == "s":
            expect_text(page, f"Pair {position} skipped")
        else:
            expect_text(page, f"Pair {position}: {label[key]} saved.")
        bar_in_view(page)  # the notice shows in the bar, in view

    # The skipped pair is listed and comes back from the sidebar at any time.
    expect_text(page, "Pair 14 of 15")
    open_from_sidebar(page, "Skipped pairs (1)", "Skipped pair", "Pair 3 ·", "Open skipped pair")
    expect_text(page, "Pair 3 of 15")
    press(page, "2")
    expect_text(page, "Pair 3: B is better saved.")

    # Revise pair 1 from "My judgments": its line shows the answer and the query's opening.
    with session_scope(engine) as s:
        queue = s.exec(select(Assignment).where(Assignment.annotator_id == ids["ann1"], Assignment.study_id == study_id)
                       .order_by(Assignment.position)).all()
        first_query = s.get(Query, s.get(StudyItem, queue[0].item_id).query_id).original_text
    opening = " ".join(first_query.split()[:3])
    open_from_sidebar(page, "My judgments (13)", "Judged pair", f"Pair 1 · A is better · {opening}", "Open this pair")
    expect_text(page, "You judged this pair before: A is better")
    shot(page, tmp_path, "judge_revisit_1366x768")
    press(page, "3")
    expect_text(page, "Pair 1: Equivalent revised (revision 2).")

    # ----------------------------------------------------------------- database rows
    expected = {1: ("tie", False, 2), 2: ("right", False, 1), 3: ("right", False, 1), 4: ("tie", True, 1),
                5: ("tie", False, 1), 6: ("left", False, 1), 7: ("right", False, 1), 8: ("tie", False, 1),
                9: ("tie", True, 1), 10: ("left", False, 1), 11: ("right", False, 1), 12: ("tie", False, 1),
                13: ("left", False, 1)}
    with session_scope(engine) as s:
        for position, assignment in enumerate(queue, start=1):
            rows = s.exec(select(Judgment).where(Judgment.assignment_id == assignment.id)).all()
            if position not in expected:
                assert rows == [] and s.get(Assignment, assignment.id).status == "pending", position
                continue
            choice, both_poor, revision = expected[position]
            assert len(rows) == 1, position
            judgment = rows[0]
            revisions = s.exec(select(JudgmentRevision).where(JudgmentRevision.judgment_id == judgment.id)).all()
            assert (judgment.winner, judgment.both_poor, judgment.revision) == (
                canonical(choice, assignment.shown_left), both_poor, revision), position
            assert len(revisions) == revision, position
            assert judgment.rationale == ("B drops the word limit" if position == 5 else ""), position
            assert s.get(Assignment, assignment.id).status == "done"


def test_per_criterion_rows_by_keys_and_pane_toggles(live_server, browser_context, tmp_path):
    engine = live_server.engine
    seed_content(engine)
    ids = seed_accounts(engine, annotators=("ann1",))
    seed_study(engine, name="crit", annotators=("ann1",), overlap=1, per_criterion=True, subdomains=["Abstract"])
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    page.get_by_role("button", name=re.compile("Continue")).click()
    expect_text(page, "Pair 1 of")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        bar_in_view(page)
        shot(page, tmp_path, f"judge_criteria_{width}x{height}")

    # Raw text: the response as written (escaped, one line per line) instead of the rendering.
    region = page.get_by_role("region", name="Response A", exact=True)
    assert region.locator("pre").count() == 0
    with session_scope(engine) as s:
        assignment = s.exec(select(Assignment).where(Assignment.annotator_id == ids["ann1"])).first()
        item = s.get(StudyItem, assignment.item_id)
        from annotate.db.models import Response

        left_id = item.response_a_id if assignment.shown_left == "a" else item.response_b_id
        left_text = s.get(Response, left_id).text
    page.get_by_role("button", name="Raw text: Response A").click()
    region.locator("pre").wait_for()
    wait_for_app(page)
    assert region.locator("pre").inner_text().strip() == left_text.strip()
    page.get_by_role("button", name="Raw text: Response A").click()
    region.locator("pre").wait_for(state="detached")
    wait_for_app(page)
    # Full height: the query's box grows to its whole text (the query is folded to one line
    # until opened).
    page.locator('details[data-fold="query"] > summary').click()
    query = page.get_by_role("region", name="Query", exact=True)
    before = query.bounding_box()["height"]
    page.get_by_label("Full height: Query").check()
    page.wait_for_timeout(200)
    after = query.bounding_box()["height"]
    scroll_height = query.evaluate("e => e.scrollHeight")
    assert after >= before and abs(after - scroll_height) <= 2
    page.get_by_label("Full height: Query").uncheck()

    # G goes to the first row; 1/2/3 choose in a row and move on to the next; Esc leaves.
    names = [t.strip() for t in page.locator('[class*="st-key-pairs_crit_"] [data-testid="stWidgetLabel"]')
             .all_inner_texts()]
    assert len(names) == 5
    keys = ["1", "2", "3", "1", "2"]
    press(page, "g")
    for key in keys:
        page.keyboard.press(key)
    page.keyboard.press("Escape")
    checked = page.locator('[class*="st-key-pairs_crit_"] input:checked')
    assert checked.count() == 5
    shot(page, tmp_path, "judge_criteria_chosen_1400x900")
    press(page, "1")
    expect_text(page, "A is better saved.")
    with session_scope(engine) as s:
        rows = s.exec(select(Judgment).where(Judgment.assignment_id == assignment.id)).all()
    side = {"1": "left", "2": "right", "3": "tie"}
    assert len(rows) == 1
    assert rows[0].per_criterion == {name: canonical(side[k], assignment.shown_left)
                                     for name, k in zip(names, keys, strict=True)}
    assert rows[0].winner == canonical("left", assignment.shown_left)
