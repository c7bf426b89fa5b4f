"""The pointwise analysis service on SQLite and PostgreSQL: the study's ratings against the judge
runs' mean scores, every figure checked against scipy or a hand rule on the same data."""

from __future__ import annotations

import itertools

import pytest
from scipy import stats

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.core.errors import InputError, PermissionDenied
from annotate.services.judges.bridge import ratings_for_study
from annotate.services.judges.judge_runs import list_runs, load_score_means
from annotate.services.judges.pointwise_view import pointwise_disagreements, pointwise_view
from tests.fixtures.audit_seed import STUDY as PAIRWISE_STUDY
from tests.fixtures.pointwise_seed import POINTWISE_STUDY, seed_pointwise

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("cheap_hashing")


def test_view_matches_scipy_and_refuses_annotators(engine):
    seed_pointwise(engine)
    with session_scope(engine) as s:
        res = users.get_user_by_username(session=s, username="res")
        ann = users.get_user_by_username(session=s, username="ann1")
        runs = list_runs(session=s, with_counts=False)
        view = pointwise_view(session=s, actor=res, study_name=POINTWISE_STUDY, n_resamples=60)
        ratings = ratings_for_study(session=s, study_name=POINTWISE_STUDY)
        means = load_score_means(session=s, run_ids=[r.run_id for r in runs])
        gaps = pointwise_disagreements(session=s, actor=res, study_name=POINTWISE_STUDY)
        with pytest.raises(PermissionDenied):
            pointwise_view(session=s, actor=ann, study_name=POINTWISE_STUDY)
        with pytest.raises(InputError):  # a pairwise study has votes, not ratings
            pointwise_view(session=s, actor=res, study_name=PAIRWISE_STUDY)
    # people: mean rating per (query, model); judge: the run's mean criterion score
    people: dict[tuple[int, str], list[float]] = {}
    for r in ratings:
        people.setdefault((int(r["item_id"]), r["system"]), []).append(r["score"])
    keys = sorted(people)
    for run in runs:
        sub = means[means["run_id"] == run.run_id]
        judge = {(int(i), m): float(v) for i, m, v in zip(sub["index"], sub["model"], sub["score"], strict=True)}
        x = [sum(people[k]) / len(people[k]) for k in keys]
        y = [judge[k] for k in keys]
        row = next(r for r in view.rows if r["judge"] == run.label and r["level"] == "global")
        assert row["n"] == len(keys)
        assert row["pearson"] == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
        assert row["spearman"] == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    # the ceiling: ann1 against ann2 over every response both rated
    by = {(int(r["item_id"]), r["system"], r["rater"]): r["score"] for r in ratings}
    a = [by[(i, m, "ann1")] for i, m in keys]
    b = [by[(i, m, "ann2")] for i, m in keys]
    assert view.ceiling["pearson"] == pytest.approx(stats.pearsonr(a, b)[0], abs=1e-12)
    # paired comparisons: every two runs at each of the three levels; Holm by its definition
    assert len(view.comparisons) == 3 * len(list(itertools.combinations(runs, 2)))
    for level in ("item", "system", "global"):
        fam = [c for c in view.comparisons if c["level"] == level and c["p_value"] is not None]
        order = sorted(range(len(fam)), key=lambda k: fam[k]["p_value"])
        run_max = 0.0
        for rank, k in enumerate(order):
            run_max = max(run_max, min(1.0, fam[k]["p_value"] * (len(fam) - rank)))
            assert fam[k]["p_holm"] == pytest.approx(run_max)
    assert {r["group"] for r in view.breakdowns["lang"]} == {r["lang"] for r in ratings}
    # audit: largest |gap| first, gap = (judge - 1) / 9 - (people - 1) / 4
    top = gaps.iloc[0]
    assert abs(top["gap"]) == pytest.approx(gaps["gap"].abs().max())
    sub = means[means["run_id"] == next(r.run_id for r in runs if r.label == top["run"])]
    judge_top = float(sub[(sub["index"] == top["query"]) & (sub["model"] == top["model"])]["score"].iloc[0])
    p = people[(int(top["query"]), top["model"])]
    assert top["gap"] == pytest.approx((judge_top - 1) / 9 - (sum(p) / len(p) - 1) / 4)


def test_exported_ratings_carry_domain_and_language_for_metaeval(engine, tmp_path):
    import json

    from annotate.services.studies.votes_export import export_votes
    from metaeval.cli import main

    seed_pointwise(engine)
    with session_scope(engine) as s:
        res = users.get_user_by_username(session=s, username="res")
        export_votes(session=s, actor=res, study_name=POINTWISE_STUDY, path=tmp_path / "r.jsonl")
        ratings = ratings_for_study(session=s, study_name=POINTWISE_STUDY)
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(x["domain1"] and x["domain2"] and x["lang"] for x in lines)
    out = tmp_path / "c.json"
    assert main(["correlation", "--ratings", str(tmp_path / "r.jsonl"), "--judge", f"self={tmp_path / 'r.jsonl'}",
                 "--by", "domain1", "--by", "lang", "--level", "global", "--bootstrap", "20", "--format", "json",
                 "--output", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {(b["by"], b["group"]) for b in data["breakdowns"]} == (
        {("domain1", r["domain1"]) for r in ratings} | {("lang", r["lang"]) for r in ratings})
    # the people against themselves: every group's global Pearson is 1
    assert all(b["pearson"] == pytest.approx(1.0) for b in data["breakdowns"])
