"""Study dashboard: competence and flags per annotator next to gold accuracy and left-choice rate
(the numbers of metaeval's Dawid–Skene fit of the study's votes), and the page stays short."""

from __future__ import annotations

import pytest

from annotate.db.engine import init_db, session_scope
from annotate.services.studies.competence import study_competence
from annotate.services.studies.dashboard import COMPETENCE_RESAMPLES
from tests.fixtures.apptest import PAGE_DIR, page_direct
from tests.fixtures.audit_seed import STUDY, seed_audit

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('dash_comp') / 'dash.db'}"
    engine = init_db(url)
    ids = seed_audit(engine)
    yield url, engine, ids
    engine.dispose()


def test_dashboard_shows_competence_and_flags(seeded, monkeypatch):
    url, engine, ids = seeded
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], "studies/study_dashboard.py", timeout=90)
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "Competence [95% CI]" in d.value.columns)
    cols = list(table.columns)
    # competence and flag sit next to gold accuracy and the left-choice rate
    assert cols.index("Left-choice rate") < cols.index("Gold accuracy") < cols.index("Competence [95% CI]") \
        < cols.index("Flag")
    with session_scope(engine) as session:
        ref = study_competence(session=session, study_name=STUDY, n_resamples=COMPETENCE_RESAMPLES).annotators
    assert list(table["Annotator"]) == ["ann1", "ann2", "ann3"]
    for _, row in table.iterrows():
        want = ref[row["Annotator"]]
        lo, hi = want["ci"]
        assert row["Competence [95% CI]"] == f"{100 * want['competence']:.0f}% [{100 * lo:.0f}–{100 * hi:.0f}%]"
        assert row["Flag"] == ("indistinguishable from random" if want["flagged"] else "")
    assert any("Competence: Dawid–Skene" in c.value for c in at.caption)


def test_dashboard_page_is_at_most_150_lines():
    assert len((PAGE_DIR / "studies/study_dashboard.py").read_text().splitlines()) <= 150
