"""Real browser, real server: a researcher audits a judge disagreement and downloads tables.

Chromium (Playwright) drives ``annotate serve`` on a SQLite file seeded through the services
with the demo judging data (study ``demo-audit``: 15 pairs x 3 annotators, four judge runs).
The researcher logs in, opens the *Disagreement audit* page from the sidebar, opens the
second listed disagreement by selecting its row, tags it, sees the cause summary change from "No tags yet" to a
chart naming the cause, downloads the audit list, then downloads the Table 4 CSV from the
*Agreement* page. The expected values are derived here from the database and the demo score
files with plain Python, not from the page's services.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, AuditTag, Judgment, LLMModel, Query, Response, StudyItem
from annotate.services.judges.demo_judging import DEMO_RUNS, SCORES_DIR
from tests.e2e.conftest import log_in, wait_for_app
from tests.fixtures.audit_seed import seed_audit
from tests.fixtures.pairwise_seed import PASSWORD


def open_page(page, link: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    """Click a sidebar link (a page.goto would start a new, logged-out session)."""
    nav = page.get_by_test_id("stSidebarNavItems")
    nav.wait_for()
    nav.get_by_role("link", name=link, exact=True).click()
    page.get_by_role("heading", name=heading).wait_for()
    wait_for_app(page)


def only_one(locator, timeout_s: float = 5.0):  # type: ignore[no-untyped-def]
    """The first visible match, after giving a settling rerun a moment to leave one match.

    While a rerun settles, Streamlit can keep the previous copy of a tab bar or a button in
    the DOM (nested inside the old tab panel, so later in document order); the first match
    is the current, top-level one.
    """
    import time

    visible = locator.filter(visible=True)
    deadline = time.monotonic() + timeout_s
    while visible.count() != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    return visible.first


def tab(page, name: str):  # type: ignore[no-untyped-def]
    """A visible tab (after a rerun Streamlit may keep a hidden copy of a tab bar in the DOM)."""
    return only_one(page.get_by_role("tab", name=name))


def select_row(page, position: int) -> None:  # type: ignore[no-untyped-def]
    """Tick the row-selection box of the list's row ``position`` (0-based) in the data grid.

    The grid is drawn on a canvas: the box sits in the row-marker column at its left edge,
    one row height (35 px, the header's too) per row.
    """
    grid = page.get_by_test_id("stDataFrame").first
    grid.hover()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * position + 17)
    wait_for_app(page)


def human_votes(engine) -> list[tuple[int, str, str, str]]:  # type: ignore[no-untyped-def]
    """(query index, lower model, higher model, canonical outcome "lo"/"hi"/"tie") per overall vote."""
    out = []
    with session_scope(engine) as session:
        rows = session.exec(select(Judgment.winner, Query.index, StudyItem.response_a_id, StudyItem.response_b_id)
                            .join(Assignment, Assignment.id == Judgment.assignment_id)
                            .join(StudyItem, StudyItem.id == Assignment.item_id)
                            .join(Query, Query.id == StudyItem.query_id)).all()
        model_of = {r.id: m.name for r, m in session.exec(
            select(Response, LLMModel).join(LLMModel, LLMModel.id == Response.model_id)).all()}
    for winner, index, ra, rb in rows:
        a, b = model_of[ra], model_of[rb]
        lo, hi = sorted((a, b))
        if winner == "tie":
            outcome = "tie"
        else:
            chosen = a if winner == "a" else b
            outcome = "lo" if chosen == lo else "hi"
        out.append((index, lo, hi, outcome))
    return out


def mean_scores(judge: str, method: str) -> dict[tuple[int, str], float]:
    """(query index, model) -> mean criterion score, read straight from the demo score file."""
    totals: dict[tuple[int, str], list[int]] = defaultdict(list)
    path = next(p for p in SCORES_DIR.glob("*.jsonl")
                if all(json.loads(line).get("judge") in (judge, None) and json.loads(line).get("method") in (method, None)
                       for line in p.read_text(encoding="utf-8").splitlines()[:3]))
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        totals[(int(rec["index"]), rec["model"])].append(int(rec["score"]))
    return {k: sum(v) / len(v) for k, v in totals.items()}


def test_audit_tag_summary_and_downloads(live_server, browser_context, tmp_path):
    engine = live_server.engine
    seed_audit(engine)
    page = browser_context.new_page()
    log_in(page, live_server.base_url, "res", PASSWORD)

    # ------------------------------------------------------------ open an audit item
    open_page(page, "Disagreement audit", "Disagreement audit")
    main = page.get_by_test_id("stMain")
    main.get_by_text("disagreements. human / verdict").wait_for()
    n_listed = int(main.get_by_text("disagreements. human / verdict").inner_text().split()[0].replace(",", ""))
    assert n_listed >= 2
    tab(page, "Cause summary").click()
    main.get_by_text("No tags yet.").wait_for()
    tab(page, "Disagreements").click()
    assert page.get_by_role("spinbutton", name="Open row #").count() == 0  # no number box: rows are selected
    first_heading = main.locator("h3").filter(has_text="Query ").first.inner_text()  # row 1 opens by default
    select_row(page, 1)
    main.locator("h3").filter(has_text="Query ").filter(has_not_text=first_heading).first.wait_for()
    heading = main.locator("h3").filter(has_text="Query ").first.inner_text()
    assert main.get_by_text("select another row to open it").count() == 0
    # "Query <index> · <method>/<judge>"
    query_index = int(heading.split()[1])
    method, judge = heading.split("·")[1].strip().split("/")
    assert (judge, method) in DEMO_RUNS

    # the opened pair really is a disagreement: the judge's mean scores (from the demo file)
    # pick a different response than the people's plurality (from the database)
    means = mean_scores(judge, method)
    votes = [v for v in human_votes(engine) if v[0] == query_index]
    lo, hi = votes[0][1], votes[0][2]
    assert all((v[1], v[2]) == (lo, hi) for v in votes), "one pair per query in this study"
    counts = Counter(v[3] for v in votes)
    top = max(counts.values())
    human = [o for o, c in counts.items() if c == top]
    human_outcome = human[0] if len(human) == 1 else "tie"
    diff = means[(query_index, lo)] - means[(query_index, hi)]
    judge_outcome = "lo" if diff > 0 else "hi" if diff < 0 else "tie"
    assert judge_outcome != human_outcome

    # ------------------------------------------------------------ tag it
    cause = page.get_by_role("combobox", name="Cause")
    cause.click()
    cause.fill("length bias")
    cause.press("Enter")
    page.get_by_role("textbox", name="Note").fill("the longer answer won")
    page.get_by_role("button", name="Save tag").click()
    main.get_by_text("as 'length bias'").wait_for()
    wait_for_app(page)
    with session_scope(engine) as session:
        tags = session.exec(select(AuditTag)).all()
        assert [(t.method, t.judge, t.cause, t.note) for t in tags] == [
            (method, judge, "length bias", "the longer answer won")]
        item_query = session.exec(select(Query.index).join(StudyItem, StudyItem.query_id == Query.id)
                                  .where(StudyItem.id == tags[0].item_id)).one()
        assert item_query == query_index

    # ------------------------------------------------------------ the summary changes
    tab(page, "Cause summary").click()
    summary = page.get_by_role("tabpanel", name="Cause summary")
    summary.get_by_test_id("stPlotlyChart").wait_for()
    assert summary.get_by_text("No tags yet.").count() == 0
    assert "length bias" in summary.get_by_test_id("stPlotlyChart").inner_text()
    with page.expect_download() as info:
        summary.get_by_role("button", name="Download tags (CSV)").click()
    tag_rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert [(r["method"], r["judge"], r["cause"], r["note"]) for r in tag_rows] == [
        (method, judge, "length bias", "the longer answer won")]

    # the audit list's own download carries the new cause on the tagged row
    tab(page, "Disagreements").click()
    with page.expect_download() as info:
        only_one(page.get_by_role("button", name="Download this table (CSV)")).click()
    listed = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert len(listed) == n_listed
    tagged = [r for r in listed if r["cause"]]
    assert [(int(r["query"]), r["method"], r["judge"], r["cause"]) for r in tagged] == [
        (query_index, method, judge, "length bias")]

    # ------------------------------------------------------------ download the agreement table
    open_page(page, "Agreement", "Agreement with human judgments")
    page.get_by_role("button", name="Download CSV").wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "agreement_demo-audit.csv"
    table = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert table[-1]["row_type"] == "human_ceiling"  # the last row is the human ceiling
    table = [r for r in table if r["row_type"] == "judge"]
    all_votes = human_votes(engine)
    assert len(all_votes) == 45  # 15 pairs x 3 annotators
    assert sorted(r["judge"] for r in table) == sorted(f"{m}/{j}" for j, m in DEMO_RUNS)
    for row in table:
        m, j = row["judge"].split("/")
        means = mean_scores(j, m)
        # FastChat agreement: share of votes equal to the judge's verdict on their pair (ties included)
        agree = 0
        for index, lo, hi, outcome in all_votes:
            d = means[(index, lo)] - means[(index, hi)]
            agree += outcome == ("lo" if d > 0 else "hi" if d < 0 else "tie")
        assert int(row["n_votes"]) == 45
        assert abs(float(row["agreement"]) - agree / 45) < 1e-9, row
        assert float(row["ci_lo"]) <= float(row["agreement"]) <= float(row["ci_hi"])
