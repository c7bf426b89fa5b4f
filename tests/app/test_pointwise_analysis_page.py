"""Agreement and Audit pages on a pointwise study: the Agreement page switches to correlations
(item, system, global; ceiling; paired comparisons; breakdowns) by the study's kind, and Audit
lists the responses where a judge and the people differ most. Numbers checked against scipy on
the study's ratings and the runs' mean scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from annotate.db.engine import init_db, session_scope
from annotate.services.judges.pointwise_view import pointwise_inputs
from tests.fixtures.apptest import page_direct
from tests.fixtures.pointwise_seed import POINTWISE_STUDY, seed_pointwise

pytestmark = pytest.mark.usefixtures("cheap_hashing")
TIMEOUT = 300


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("pointwise_pages") / "pages.db"
    url = f"sqlite:///{path}"
    engine = init_db(url)
    ids = seed_pointwise(engine)
    mp = pytest.MonkeyPatch()
    mp.setenv("ANNOTATE_DB_URL", url)
    yield engine, ids
    mp.undo()
    engine.dispose()


def _frame(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _inputs(engine):
    with session_scope(engine) as s:
        return pointwise_inputs(session=s, study_name=POINTWISE_STUDY)


def test_agreement_page_shows_pointwise_correlations(seeded):
    engine, ids = seeded
    at = page_direct(ids["res"], "judges/agreement.py", timeout=TIMEOUT)
    assert not at.exception, at.exception
    box = at.selectbox(key="agr_study")
    assert POINTWISE_STUDY in box.options[-1]  # listed after the pairwise studies, kind shown
    box.set_value(POINTWISE_STUDY)
    at.number_input(key="agr_boot").set_value(100)
    at.run(timeout=TIMEOUT)
    assert not at.exception, at.exception
    table = _frame(at, "Pearson [95% CI]")
    human, judges, _ = _inputs(engine)
    assert set(table["Judge run"]) == set(judges) and set(table["Level"]) == {"item", "system", "global"}
    people = human.groupby(["item_id", "system"])["score"].mean()
    for name, frame in judges.items():
        j = frame.set_index(["item_id", "system"])["score"].reindex(people.index)
        row = table[(table["Judge run"] == name) & (table["Level"] == "global")].iloc[0]
        assert row["n"] == len(people)
        assert row["Pearson [95% CI]"].startswith(f"{stats.pearsonr(people, j)[0]:.3f} [")
        assert row["Kendall tau-b [95% CI]"].startswith(f"{stats.kendalltau(people, j)[0]:.3f} [")
    # the ceiling: two raters on every response; Pearson between them by scipy
    wide = human.pivot_table(index=["item_id", "system"], columns="rater", values="score")
    r = stats.pearsonr(wide["ann1"], wide["ann2"])[0]
    assert any(f"Pearson {r:.3f} [" in m.value.replace("\\", "") for m in at.markdown)
    # 3 models per query: the system level is flagged as degenerate
    assert any("only 3 systems" in w.value for w in at.warning)
    labels = [t.label for t in at.tabs]
    assert labels == ["Paired comparisons", "By domain", "By language"]
    cmp = _frame(at, "A - B [95% CI]")
    assert len(cmp) == 3 * len(judges) * (len(judges) - 1) // 2
    by_domain = _frame(at, "Domain")
    assert set(by_domain["Domain"]) == set(human["domain1"])


def test_audit_lists_pointwise_gaps_largest_first(seeded):
    engine, ids = seeded
    at = page_direct(ids["res"], "judges/audit.py", timeout=TIMEOUT)
    assert not at.exception, at.exception
    at.selectbox(key="audit_study").set_value(POINTWISE_STUDY)
    at.run(timeout=TIMEOUT)
    assert not at.exception, at.exception
    rows = _frame(at, "gap")
    gaps = rows["gap"].abs().to_numpy()
    assert (np.diff(gaps) <= 1e-12).all()
    human, judges, _ = _inputs(engine)
    first = rows.iloc[0]
    people = human[(human["item_id"] == first["query"]) & (human["system"] == first["model"])]["score"].mean()
    j = judges[first["run"]]
    judge = j[(j["item_id"] == first["query"]) & (j["system"] == first["model"])]["score"].mean()
    # both on 0..1: people (x - 1) / 4, judge (x - 1) / 9
    assert first["people"] == pytest.approx(people)
    assert first["gap"] == pytest.approx((judge - 1) / 9 - (people - 1) / 4)
