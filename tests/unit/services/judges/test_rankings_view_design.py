"""The Agreement page's Rankings and Annotators tabs after an adaptive extension: both fits use
the study's design, say so, and give the numbers `metaeval rankings|annotators` give on the
exported votes."""

from __future__ import annotations

import json

import pytest

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.judges.rankings_view import (
    ESTIMATOR_CAPTION,
    annotators_view,
    estimator_caption,
    rankings_view,
)
from annotate.services.studies.competence import study_competence
from annotate.services.studies.votes_export import export_votes
from metaeval.cli import main
from tests.fixtures.audit_seed import STUDY
from tests.unit.services.judges.test_agreement_view_design import _seed

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def _cli(command: str, votes, out) -> dict:
    assert main([command, "--votes", str(votes), "--bootstrap", "40", "--format", "json", "--output", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("extended", [True, False])
def test_tabs_use_the_design_like_the_cli_on_the_exported_votes(tmp_path, extended):
    engine = _seed(tmp_path, extended=extended)
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        view = rankings_view(session=session, actor=res, study_name=STUDY, n_resamples=40)
        ann = annotators_view(session=session, actor=res, study_name=STUDY, n_resamples=40)
        competence = study_competence(session=session, study_name=STUDY, n_resamples=40)
        export_votes(session=session, actor=res, study_name=STUDY, path=tmp_path / "v.jsonl")
    expected = "design-based" if extended else "pooled"
    assert view.result.settings["estimator"] == expected
    assert ann.estimator == expected
    assert estimator_caption(ann.estimator) == (ESTIMATOR_CAPTION if extended else None)
    cli_rank = _cli("rankings", tmp_path / "v.jsonl", tmp_path / "r.json")
    cli_ann = _cli("annotators", tmp_path / "v.jsonl", tmp_path / "a.json")
    assert cli_rank["settings"]["estimator"] == expected
    assert cli_ann["settings"]["estimator"] == expected
    # the people's Bradley–Terry strengths: the same fit on the same weighted votes
    page = view.result.to_json_dict()["rankings"]["human"]["models"]
    assert {m: d["strength"] for m, d in page.items()} == pytest.approx(
        {m: d["strength"] for m, d in cli_rank["rankings"]["human"]["models"].items()}, abs=1e-9)
    # competence per annotator: the same (design-weighted) latent-class fit and bootstrap
    page_ann = competence.to_json_dict()["annotators"]
    assert set(page_ann) == set(cli_ann["annotators"])
    for name, a in page_ann.items():
        assert a["competence"] == pytest.approx(cli_ann["annotators"][name]["competence"], abs=1e-9)
        assert a["ci"] == pytest.approx(cli_ann["annotators"][name]["ci"], abs=1e-9)
        assert a["signal"] == pytest.approx(cli_ann["annotators"][name]["signal"], abs=1e-9)
