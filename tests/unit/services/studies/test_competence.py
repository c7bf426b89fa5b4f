"""Competence and flags on the study dashboard: the same numbers as metaeval's Dawid–Skene fit of
votes written out by hand from the dashboard test's vote table, gold accuracy from the gold pair."""

from __future__ import annotations

import math

import pytest

from annotate.services.studies.competence import gold_outcomes, study_competence
from annotate.services.studies.dashboard import COMPETENCE_RESAMPLES, study_dashboard
from metaeval.stats.annotators import annotator_competence
from tests.unit.services.studies.test_dashboard import VOTES, study  # noqa: F401 - the fixture

DB_BACKENDS = ("sqlite",)
WINNER = {"a": "model_a", "b": "model_b", "tie": "tie"}


def _hand_votes(indexes: list[int]) -> list[dict]:
    # column k of VOTES is the item of query indexes[k] (three real pairs, then the gold pair, answer a);
    # models m1 < m2; sorted by query then person (the order of the study's vote export)
    return [{"question_id": q, "model_a": "m1", "model_b": "m2", "winner": WINNER[VOTES[u][k]], "judge": u}
            for k, q in sorted(enumerate(indexes), key=lambda t: str(t[1])) for u in ("u1", "u2", "u3")]


def test_dashboard_competence_matches_metaeval(study):  # noqa: F811
    engine, users, ordered = study
    from annotate.db.engine import session_scope
    from annotate.db.models import Query

    with session_scope(engine) as s:
        indexes = [s.get(Query, it.query_id).index for it in ordered]
        dash = study_dashboard(session=s, actor=users["res"], study_name="dash")
        gold = {(str(indexes[3]), "m1", "m2"): 1}
        assert gold_outcomes(session=s, study_name="dash") == gold
        res = study_competence(session=s, study_name="dash", n_resamples=50)
    ref = annotator_competence(_hand_votes(indexes), gold=gold, n_resamples=COMPETENCE_RESAMPLES)
    by_name = {a.annotator: a for a in dash.by_annotator}
    for name, want in ref.annotators.items():
        got = by_name[name]
        assert got.competence == pytest.approx(want["competence"])
        assert got.competence_ci == pytest.approx(tuple(want["ci"]))
        assert got.flagged is want["flagged"]
    # gold accuracy by hand: u1 a (right), u2 b (wrong), u3 a (right)
    assert {k: v["gold_accuracy"] for k, v in res.annotators.items()} == {"u1": 1.0, "u2": 0.0, "u3": 1.0}
    assert all(0 <= a.competence <= 1 and not math.isnan(a.competence) for a in dash.by_annotator)
