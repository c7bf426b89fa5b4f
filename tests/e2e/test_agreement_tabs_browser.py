"""Real browser, real server: the Agreement page's Rankings and Annotators tabs.

Chromium (Playwright) drives ``annotate serve`` on a SQLite file seeded with the demo judging data
(study ``demo-audit``: 15 pairs x 3 annotators, four judge runs). At 1400x900 the researcher opens
*Agreement*, the Rankings tab shows the table and the forest plot and downloads ``rankings.csv``
(one row per source and model: the people and four runs over three models, and the people's
comparison counts equal the votes per model counted here from the database); the Annotators tab
shows one row per annotator and downloads ``annotators.json``. Screenshots of both tabs are kept
under the test's ``tmp_path`` (and copied to ``$AGREEMENT_SHOTS`` when set).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections import Counter

from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Judgment, LLMModel, Response, StudyItem
from tests.e2e.conftest import log_in, wait_for_app
from tests.e2e.test_audit_browser import open_page, tab
from tests.fixtures.audit_seed import seed_audit
from tests.fixtures.pairwise_seed import PASSWORD


def _votes_per_model(engine) -> Counter:  # type: ignore[no-untyped-def]
    """Overall votes that involve each model (every vote compares the item's two models)."""
    with session_scope(engine) as session:
        rows = session.exec(select(StudyItem.response_a_id, StudyItem.response_b_id)
                            .join(Assignment, Assignment.item_id == StudyItem.id)
                            .join(Judgment, Judgment.assignment_id == Assignment.id)).all()
        model = dict(session.exec(select(Response.id, LLMModel.name)
                                  .join(LLMModel, LLMModel.id == Response.model_id)).all())
    return Counter(m for a, b in rows for m in (model[a], model[b]))


def _shot(page, tmp_path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("AGREEMENT_SHOTS"):
        shutil.copy(path, os.path.join(os.environ["AGREEMENT_SHOTS"], name))


def test_rankings_and_annotators_tabs(live_server, browser_context, tmp_path):
    seed_audit(live_server.engine)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server.base_url, "res", PASSWORD)
    open_page(page, "Agreement", "Agreement with human judgments")

    tab(page, "Rankings").click()
    wait_for_app(page)
    panel = page.get_by_role("tabpanel", name="Rankings").filter(visible=True).first
    panel.locator(".js-plotly-plot").first.wait_for()
    assert panel.get_by_text("Bradley–Terry strength with 95% bootstrap interval").first.is_visible()
    panel.get_by_role("button", name="rankings.csv").scroll_into_view_if_needed()
    panel.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    _shot(page, tmp_path, "agreement_rankings_1400x900.png")
    with page.expect_download() as info:
        panel.get_by_role("button", name="rankings.csv").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8"))))
    assert len(rows) == 5 * 3
    assert {r["source"] for r in rows} == {"human", "dynamic/demo-critic", "dynamic/demo-judge",
                                           "static-domain/demo-judge", "static-global/demo-judge"}
    wait_for_app(page)
    panel.locator(".js-plotly-plot").last.scroll_into_view_if_needed()
    _shot(page, tmp_path, "agreement_rankings_by_domain_1400x900.png")
    want = _votes_per_model(live_server.engine)
    assert {r["model"]: int(r["n"]) for r in rows if r["source"] == "human"} == dict(want)

    tab(page, "Annotators").click()
    wait_for_app(page)
    panel = page.get_by_role("tabpanel", name="Annotators").filter(visible=True).first
    panel.locator(".js-plotly-plot").first.wait_for()
    _shot(page, tmp_path, "agreement_annotators_1400x900.png")
    with page.expect_download() as info:
        panel.get_by_role("button", name="annotators.json").click()
    people = json.loads(info.value.path().read_text(encoding="utf-8"))
    assert [p["annotator"] for p in people] == ["ann1", "ann2", "ann3"]
    assert all(p["n"] == 15 and 0 <= p["competence"] <= 1 for p in people)
