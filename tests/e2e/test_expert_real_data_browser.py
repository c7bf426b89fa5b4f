"""The expert pages on the real WritingBench file (1,000 queries): the query picker finds a
query by typing part of its label, and the status filter narrows the list. Screenshots of
*Adapt queries* on the longest real query go to ``$EXPERT_SCREENSHOTS`` at 1366x768 and 1400x900."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlmodel import Session

from annotate.services.accounts import users
from annotate.services.content.imports import import_queries
from annotate.services.core.taxonomy import seed_taxonomy
from annotate.services.refine.query_list import first_words
from tests.e2e.conftest import pick, wait_for_app
from tests.e2e.test_expert_walk_browser import SIZES
from tests.e2e.test_refine_browser import PASSWORD, log_in, open_page

pytestmark = pytest.mark.shared


def test_picker_finds_any_of_a_thousand_queries(live_server, browser_context, shared_data_dir: Path,
                                                 tmp_path: Path) -> None:
    shots = Path(os.environ.get("EXPERT_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    bench = shared_data_dir / "benchmark_all.jsonl"
    records = [json.loads(line) for line in bench.read_text("utf-8").splitlines() if line.strip()]
    with Session(live_server.engine, expire_on_commit=False) as s:
        seed_taxonomy(s)
        import_queries(session=s, path=bench)
        users.create_user(session=s, username="exp1", role="expert", password=PASSWORD)
    longest = max(records, key=lambda r: len(r["query"]))
    page = browser_context.new_page()
    log_in(page, live_server.base_url, "exp1")
    open_page(page, "Adapt queries")
    page.get_by_text(f"Query ({len(records):,} shown; type to search)").wait_for()
    # type what a person remembers: the domain path and the first words (the label's own parts)
    typed = f"{longest['domain2']} · {first_words(longest['query'])[:30]}"
    box = page.get_by_role("combobox", name="Query (").first
    box.click()
    box.fill(typed)
    option = page.get_by_role("option").first
    option.wait_for()
    assert option.inner_text().startswith(f"{longest['index']} · {longest['domain1']} › {longest['domain2']}")
    option.click()
    wait_for_app(page)
    page.get_by_text(f"Query {longest['index']}").first.wait_for()
    page.get_by_text(f"{len(longest['query']):,} characters").first.wait_for()
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        wait_for_app(page)
        page.screenshot(path=str(shots / f"adapt_query_real_{width}x{height}.png"))
    # the status filter: nothing is flagged or edited yet
    pick(page, "Show", "pending edit")
    page.get_by_text("No query has the status “pending edit”.").wait_for()
