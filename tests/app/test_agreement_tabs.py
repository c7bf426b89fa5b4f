"""Agreement page: the Rankings tab (table, forest plot, judge-vs-people rank agreement, per-domain
breakdown) and the Annotators tab (competence, flag, gold accuracy), every figure downloadable as CSV
and JSON; the numbers are metaeval's, recomputed here from the study's votes and verdicts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from annotate.db.engine import init_db, session_scope
from annotate.services.judges.agreement_view import agreement_inputs
from metaeval.stats.annotators import annotator_competence
from metaeval.stats.rankings import rankings_study
from tests.fixtures.apptest import page_direct, shown
from tests.fixtures.audit_seed import STUDY, seed_audit

pytestmark = pytest.mark.usefixtures("cheap_hashing")
TIMEOUT = 120


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("agreement_tabs") / "pages.db"
    url = f"sqlite:///{path}"
    engine = init_db(url)
    ids = seed_audit(engine)
    yield url, engine, ids
    engine.dispose()


@pytest.fixture(scope="module")
def agreement_page(seeded):
    url, _engine, ids = seeded
    mp = pytest.MonkeyPatch()
    mp.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], "judges/agreement.py", timeout=TIMEOUT)
    yield at
    mp.undo()


def _frame(at, column: str) -> pd.DataFrame:
    """The first table with ``column`` (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_tabs_exist_and_page_is_short(agreement_page):
    at = agreement_page
    assert not at.exception, at.exception
    labels = [t.label for t in at.tabs]
    assert labels[-2:] == ["Rankings", "Annotators"]
    from tests.fixtures.apptest import PAGE_DIR

    assert len((PAGE_DIR / "judges/agreement.py").read_text().splitlines()) <= 150


def test_rankings_tab_matches_metaeval(agreement_page, seeded):
    at = agreement_page
    _url, engine, _ids = seeded
    table = _frame(at, "Strength [95% CI]")
    with session_scope(engine) as session:
        votes, judges, _ = agreement_inputs(session=session, study_name=STUDY)
    ref = rankings_study(votes, judges, n_resamples=1000, seed=0, by="domain1").to_json_dict()
    # one row per (source, model): the people and the four judge runs, three demo models each
    assert len(table) == 5 * 3
    human = table[table["Source"] == "human"]
    for _, row in human.iterrows():
        want = ref["rankings"]["human"]["models"][row["Model"]]
        assert row["Strength [95% CI]"] == f"{want['strength']:.2f} [{want['ci'][0]:.2f}, {want['ci'][1]:.2f}]"
        assert row["Elo"] == round(want["elo"])
        assert row["n"] == want["n"]
    vs = _frame(at, "Statistic")
    assert set(vs["Judge"]) == set(judges)
    tau = vs[(vs["Judge"] == "static-domain/demo-judge") & (vs["Statistic"] == "Kendall tau-b")].iloc[0]
    want = ref["vs_human"]["static-domain/demo-judge"]["kendall_tau_b"]
    assert tau["Value [95% CI]"] == f"{want['value']:.2f} [{want['ci'][0]:.2f}, {want['ci'][1]:.2f}]"
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Bradley–Terry strength with 95% bootstrap interval" in titles
    assert "Bradley–Terry strength by domain (95% interval)" in titles
    assert "Competence: P(label = true label), 95% bootstrap interval" in titles


def test_every_rankings_and_annotators_figure_downloads_csv_and_json(agreement_page):
    labels = [shown(b.label) for b in agreement_page.get("download_button")]  # labels are plain_label text
    for stem in ("rankings", "vs_human", "rankings_by_domain", "rankings_report", "annotators"):
        assert f"{stem}.csv" in labels, stem
        assert f"{stem}.json" in labels, stem


def test_download_data_is_the_table(seeded):
    """The CSV and JSON behind the forest plot hold the same numbers as metaeval's result."""
    from annotate.services.accounts import users
    from annotate.services.judges.rankings_view import annotators_view, rankings_view

    _url, engine, _ids = seeded
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        view = rankings_view(session=session, actor=res, study_name=STUDY, n_resamples=200, seed=3)
        votes, judges, _ = agreement_inputs(session=session, study_name=STUDY)
        ann = annotators_view(session=session, actor=res, study_name=STUDY, n_resamples=100, seed=2)
    ref = rankings_study(votes, judges, n_resamples=200, seed=3, by="domain1").to_json_dict()
    from io import StringIO

    csv = pd.read_csv(StringIO(view.downloads["rankings_csv"].data))
    records = json.loads(view.downloads["rankings_json"].data)
    assert len(csv) == len(records) == 15
    for rec in records:
        want = ref["rankings"][rec["source"]]["models"][rec["model"]]
        assert rec["strength"] == pytest.approx(want["strength"])
        assert [rec["ci_lo"], rec["ci_hi"]] == pytest.approx(want["ci"])
        assert [rec["rank"], rec["rank_lo"], rec["rank_hi"]] == [want["rank"], *want["rank_ci"]]
    by_dom = json.loads(view.downloads["rankings_by_domain_json"].data)
    assert {r["group"] for r in by_dom} == set(ref["by"]["groups"])
    ann_ref = annotator_competence([v for v in votes if v.get("criterion") is None], n_resamples=100, seed=2)
    got = {r["annotator"]: r for r in json.loads(ann.downloads["annotators_json"].data)}
    for name, want in ann_ref.annotators.items():
        assert got[name]["competence"] == pytest.approx(want["competence"])
        assert got[name]["flagged"] is want["flagged"]


def test_annotators_tab_shows_competence(agreement_page, seeded):
    at = agreement_page
    table = _frame(at, "Competence [95% CI]")
    assert list(table["Annotator"]) == ["ann1", "ann2", "ann3"]
    assert list(table["Votes"]) == [15, 15, 15]
    assert table["Competence [95% CI]"].str.match(r"^0\.\d\d \[0\.\d\d, [01]\.\d\d\]$").all()
    at.radio(key="an_model").set_value("mace").run()
    assert not at.exception, at.exception
    assert "mace" in " ".join(c.value for c in at.caption)
