"""The paper's study design on WritingBench's real 1,000 queries: 300 queries x 5 annotators."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest
from sqlmodel import func, select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, StudyItem
from annotate.services.content.imports import import_queries, import_responses
from annotate.services.studies.design import StudyDesign, create_study, plan_study
from tests.fixtures.study_factory import make_users

pytestmark = [pytest.mark.shared, pytest.mark.slow]
ANNOTATORS = ["ann1", "ann2", "ann3", "ann4", "ann5"]


def _delta_has(index: int) -> bool:
    return index % 2 == 0 or index % 3 != 0


def test_300_queries_by_5_annotators(engine, shared_data_dir, tmp_path):
    queries_file = shared_data_dir / "benchmark_all.jsonl"
    records = [json.loads(line) for line in queries_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    responses = tmp_path / "responses.jsonl"
    with responses.open("w", encoding="utf-8") as fh:
        for r in records:
            for model in ("alpha", "beta", "gamma"):
                fh.write(json.dumps({"index": r["index"], "model": model, "response": f"{model} on {r['index']}"}) + "\n")
            if _delta_has(r["index"]):
                fh.write(json.dumps({"index": r["index"], "model": "delta", "response": "delta"}) + "\n")
    with session_scope(engine) as s:
        import_queries(session=s, path=queries_file)
        import_responses(session=s, path=responses)
        users = make_users(s, ANNOTATORS) | make_users(s, ["res"], role="researcher")
        design = StudyDesign(name="paper", per_subdomain=3, overlap=5, annotators=ANNOTATORS, seed=2024,
                             models=["alpha", "beta", "gamma"])
        plan = plan_study(session=s, design=design)
        # 100 subdomains x 3 = 300 queries, one pair each, 5 annotators each -> 1,500 judgments
        assert (plan.n_queries, plan.n_items, plan.n_assignments) == (300, 300, 1500)
        assert plan.per_annotator == dict.fromkeys(ANNOTATORS, 300)
        assert len(plan.per_subdomain) == 100 and set(plan.per_subdomain.values()) == {3}
        assert plan.warnings == []
        study = create_study(session=s, actor=users["res"], design=design)
        assert s.exec(select(func.count()).select_from(Assignment).where(Assignment.study_id == study.id)).one() == 1500
        sides = defaultdict(Counter)
        for item_id, side in s.exec(select(Assignment.item_id, Assignment.shown_left)
                                    .where(Assignment.study_id == study.id)).all():
            sides[item_id][side] += 1
        assert len(sides) == 300 and all(sorted(c.values()) == [2, 3] for c in sides.values())
        assert s.exec(select(func.count()).select_from(StudyItem).where(StudyItem.study_id == study.id)).one() == 300

        # Restricting to alpha and delta: a query is eligible only where delta answered.
        eligible = Counter(r["domain2"] for r in records if _delta_has(r["index"]))
        expected = sum(min(3, eligible[d2]) for d2 in {r["domain2"] for r in records})
        short = sorted(d2 for d2 in {r["domain2"] for r in records} if eligible[d2] < 3)
        plan2 = plan_study(session=s, design=StudyDesign(name="p2", per_subdomain=3, overlap=5,
                                                         annotators=ANNOTATORS, seed=1, models=["alpha", "delta"]))
        assert plan2.n_queries == expected
        assert len(plan2.warnings) == len(short) and set(plan2.per_model_pair) == {"alpha vs delta"}
