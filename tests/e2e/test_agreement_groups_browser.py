"""Real browser, real server: the Agreement page's *WEval groups* tab at 1366x768.

The researcher opens *Agreement*, the *WEval groups* tab, uploads a scored groups file (the hand case
of tests/app/test_agreement_groups_tab.py) and sees the row ``tow/j`` with tau 0.333, tau-b 0.000,
position consistency 0.778 and exact match 0.667 (each with an interval) and the sentence saying
which tau breaks ties in the judge's favour; then a broken file gives a warning naming its line.
A screenshot is kept under ``tmp_path`` (and copied to ``$GROUPS_SHOTS`` when set).
"""

from __future__ import annotations

import json
import os
import shutil

from tests.app.test_agreement_groups_tab import write_scored
from tests.e2e.conftest import log_in, wait_for_app
from tests.e2e.test_audit_browser import open_page, tab
from tests.fixtures.audit_seed import seed_audit
from tests.fixtures.pairwise_seed import PASSWORD


def test_groups_tab_upload_and_report(live_server, browser_context, tmp_path):
    seed_audit(live_server.engine)
    scored = write_scored(tmp_path / "scored_3c.jsonl")
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.base_url, "res", PASSWORD)
    open_page(page, "Agreement", "Agreement with human judgments")
    tab(page, "WEval groups").click()
    wait_for_app(page)
    panel = page.get_by_role("tabpanel", name="WEval groups").filter(visible=True).first
    panel.get_by_text("No groups file yet").wait_for()
    panel.locator("input[type='file']").set_input_files(str(scored))
    panel.get_by_text("judge's favour").first.wait_for(timeout=60_000)
    wait_for_app(page)
    grid = panel.get_by_test_id("stDataFrame").first
    grid.wait_for()
    grid.scroll_into_view_if_needed()
    path = tmp_path / "agreement_groups_1366x768.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("GROUPS_SHOTS"):
        os.makedirs(os.environ["GROUPS_SHOTS"], exist_ok=True)
        shutil.copy(path, os.path.join(os.environ["GROUPS_SHOTS"], path.name))
    # the grid is a canvas: check the numbers through the JSON download
    with page.expect_download() as info:
        panel.get_by_role("button", name="groups.json").click()
    got = json.loads(info.value.path().read_text(encoding="utf-8"))["judges"]["tow/j"]
    assert [round(got[m]["value"], 3) for m in ("kendall_tau", "kendall_tau_b", "position_consistency",
                                                 "exact_match")] == [0.333, 0.0, 0.778, 0.667]
    body = page.inner_text("body")
    assert "Traceback" not in body
    lines = scored.read_text().splitlines()
    broken = tmp_path / "broken_3c.jsonl"
    broken.write_text("\n".join(lines[:4]) + "\n")  # the second group lacks two responses
    panel.locator("input[type='file']").set_input_files(str(broken))
    panel.get_by_text("line 4").first.wait_for(timeout=60_000)
    assert "Traceback" not in page.inner_text("body")
