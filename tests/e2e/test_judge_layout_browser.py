"""Real browser, real WritingBench query: both responses are readable while the choice bar
is in view.

The longest WritingBench query (31,135 characters) and another query of its subdomain are
judged with long responses and a verified material. At 1366x768 and 1400x900, on each new
pair, each response pane shows at least :data:`MIN_LINES` lines of text inside the window
and above the choice bar without the page being scrolled; the panes scroll on their own.
This holds in a study with per-criterion choices (the bar's grid of five rows) too. The
query and the materials are folded to one line each; a fold the person opened stays open
on the next pair and after a reload, and another person's folds are their own.

Screenshots of each state go to the test's ``tmp_path`` (copied to
``$ANNOTATE_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.content.imports import import_queries, import_responses
from annotate.services.core.taxonomy import seed_taxonomy
from annotate.services.refine import materials
from tests.e2e.conftest import log_in, wait_for_app
from tests.e2e.test_judge_walk_browser import SIZES, press, shot
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_study

pytestmark = pytest.mark.shared

MIN_LINES = 15
"""The layout's aim: 15 lines of each response visible on a new pair at 1366x768."""

PARAGRAPH = ("Paragraph {n} of the {who} report: the intern describes the week's tasks, what was "
             "learned from the mentor, and one concrete result with numbers, in a few full sentences.")

MEASURE_JS = """(name) => {
  const region = document.querySelector(`[role="region"][aria-label="${name}"]`);
  const bar = document.querySelector('.st-key-wj_bar').getBoundingClientRect();
  const box = region.getBoundingClientRect();
  const style = getComputedStyle(region);
  const p = region.querySelector('p');
  const ps = getComputedStyle(p);
  const lineHeight = parseFloat(ps.lineHeight) || parseFloat(ps.fontSize) * 1.6;
  const textTop = Math.max(0, box.top + parseFloat(style.paddingTop), p.getBoundingClientRect().top);
  const textBottom = Math.min(box.bottom - parseFloat(style.paddingBottom), bar.top, window.innerHeight);
  let scrolled = 0;
  for (let e = region.parentElement; e; e = e.parentElement) { scrolled += e.scrollTop || 0; }
  return {visible: textBottom - textTop, lineHeight, pageScrolled: scrolled + window.scrollY,
          scrolls: region.scrollHeight > region.clientHeight + 50, top: box.top, barTop: bar.top};
}"""


def seed(engine, data_dir: Path, tmp_path: Path) -> dict:  # type: ignore[no-untyped-def]
    records = [json.loads(line) for line in (data_dir / "benchmark_all.jsonl").read_text("utf-8").splitlines()
               if line.strip()]
    longest = max(records, key=lambda r: len(r["query"]))
    other = next(r for r in records if r["domain2"] == longest["domain2"] and r is not longest)
    chosen = [longest, other]
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), "utf-8")
    responses = tmp_path / "responses.jsonl"
    responses.write_text("".join(
        json.dumps({"index": r["index"], "model": model,
                    "response": "\n\n".join(PARAGRAPH.format(n=n, who=model) for n in range(1, 41))}) + "\n"
        for r in chosen for model in ("m1", "m2")), "utf-8")
    with session_scope(engine) as session:
        seed_taxonomy(session)
        import_queries(session=session, path=queries)
        import_responses(session=session, path=responses)
    seed_accounts(engine, annotators=("ann1", "ann2", "ann3"))
    for name, annotator, per_criterion in (("plain", "ann1", False), ("criteria", "ann2", True),
                                           ("plain-2", "ann3", False)):
        seed_study(engine, name=name, annotators=(annotator,), overlap=1, per_subdomain=2,
                   subdomains=[longest["domain2"]], per_criterion=per_criterion)
    with session_scope(engine) as session:
        ann1 = users.get_user_by_username(session=session, username="ann1")
        ann2 = users.get_user_by_username(session=session, username="ann2")
        query_id = int(session.exec(text("SELECT id FROM query WHERE \"index\" = :i"),  # type: ignore[call-overload]
                                    params={"i": longest["index"]}).one()[0])
        document = materials.add_material(session=session, actor=ann2, query_id=query_id, title="Company handbook",
                                          text=other["query"], source_url="https://example.org/handbook",
                                          license_note="CC BY 4.0")
        materials.verify_material(session=session, actor=ann1, document_id=document.id)
    return longest


def open_judging(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, base_url, username, PASSWORD)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Judge pairs").click()
    page.get_by_role("region", name="Response B").wait_for()
    wait_for_app(page)


def check_readable(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """At each size: each response pane shows MIN_LINES lines inside the window, above the bar."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        wait_for_app(page)
        page.wait_for_timeout(400)  # the page's script refits the panes on resize
        shot(page, tmp_path, f"layout_{name}_{width}x{height}")
        for pane in ("Response A", "Response B"):
            m = page.evaluate(MEASURE_JS, pane)
            assert m["pageScrolled"] == 0, (name, width, height, m)
            assert m["scrolls"], (name, pane, m)  # the rest of the text is in the pane, not the page
            lines = m["visible"] / m["lineHeight"]
            assert lines >= MIN_LINES, (f"{name} at {width}x{height}: {pane} shows {lines:.1f} lines", m)


def query_fold(page):  # type: ignore[no-untyped-def]
    return page.locator('details[data-fold="query"]')


def test_both_responses_readable_at_both_sizes(live_server, browser_context, shared_data_dir: Path,
                                               tmp_path: Path) -> None:
    longest = seed(live_server.engine, shared_data_dir, tmp_path)
    page = browser_context.new_page()
    open_judging(page, live_server.base_url, "ann1")
    # the query and the materials: one line each, closed; the summary names the query's length
    assert query_fold(page).get_attribute("open") is None
    assert page.locator('details[data-fold="materials"]').get_attribute("open") is None
    seen_longest = False
    for number in (1, 2):
        summary = query_fold(page).locator("summary").inner_text()
        seen_longest |= f"{len(longest['query']):,} characters" in summary
        check_readable(page, tmp_path, f"plain_pair{number}")
        if number == 1:
            press(page, "1")  # judged: the next pair comes with "saved" in the bar
            page.get_by_text("Pair 1: A is better saved.").wait_for()
            wait_for_app(page)
    assert seen_longest  # the 31k-character query was one of the two pairs measured


def test_per_criterion_grid_leaves_both_responses_readable(live_server, browser_context, shared_data_dir: Path,
                                                          tmp_path: Path) -> None:
    seed(live_server.engine, shared_data_dir, tmp_path)
    page = browser_context.new_page()
    open_judging(page, live_server.base_url, "ann2")
    assert page.locator('[class*="st-key-pairs_crit_"] [role="radiogroup"]').count() == 5  # WritingBench's five
    check_readable(page, tmp_path, "criteria_pair1")


def test_an_opened_fold_stays_open_for_that_person(live_server, browser_context, shared_data_dir: Path,
                                                   tmp_path: Path) -> None:
    seed(live_server.engine, shared_data_dir, tmp_path)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    open_judging(page, live_server.base_url, "ann1")
    query_fold(page).locator("summary").click()
    page.get_by_role("region", name="Query").wait_for()
    shot(page, tmp_path, "layout_query_open_1366x768")
    press(page, "2")
    page.get_by_text("Pair 1: B is better saved.").wait_for()
    wait_for_app(page)
    page.wait_for_function("() => document.querySelector('details[data-fold=\"query\"]').open")
    page.reload()
    page.get_by_role("region", name="Response B").wait_for()
    wait_for_app(page)
    page.wait_for_function("() => document.querySelector('details[data-fold=\"query\"]').open")
    # another person in the same browser starts with the folds closed
    other = browser_context.new_page()
    open_judging(other, live_server.base_url, "ann3")
    other.wait_for_timeout(500)
    assert query_fold(other).get_attribute("open") is None
