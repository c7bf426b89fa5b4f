"""The audit's column-wise vote loader (``bridge.overall_votes_frame``): the overall votes of
``votes_for_study`` as a DataFrame - same values, same order, stale and gold rules."""

from __future__ import annotations

import pandas as pd
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, LLMModel, Query, Response, StudyItem
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.judges.bridge import VOTE_FIELDS, overall_votes_frame, votes_for_study
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import make_benchmark, make_users

PINS = {"instruction_version_no": 1, "content_revision": 1}
SPEC = {("Domain 0", "Sub 00"): {7: ["zeta", "alpha"]}, ("Domain 0", "Sub 01"): {3: ["beta", "gamma"]}}

# Written by hand. Query 7: u1 saw zeta (response b, stored first) on the left and chose left ->
# zeta wins -> in canonical order (alpha < zeta) "model_b"; u2 saw alpha on the left, chose
# "tie" with both poor -> "tie (bothbad)". Query 3: u1 saw beta on the left and chose right ->
# gamma -> "model_b"; u2 chose left with gamma on the left -> "model_b". Rows sorted by the
# query index as text ("3" < "7"), then judge; per-criterion choices are not rows here.
Q7 = {"question_id": 7, "model_a": "alpha", "model_b": "zeta", "domain1": "Domain 0", "domain2": "Sub 00",
      "lang": "en", "query_version": 1, "stale": False}
Q3 = {**Q7, "question_id": 3, "model_a": "beta", "model_b": "gamma", "domain2": "Sub 01"}
EXPECTED = [
    {**Q3, "winner": "model_b", "judge": "u1", "shown_left": "model_a", "rationale": "", "elapsed_s": 5.0,
     "active_seconds": None},
    {**Q3, "winner": "model_b", "judge": "u2", "shown_left": "model_b", "rationale": "", "elapsed_s": 6.0,
     "active_seconds": None},
    {**Q7, "winner": "model_b", "judge": "u1", "shown_left": "model_b", "rationale": "zeta is better",
     "elapsed_s": 30.0, "active_seconds": None},
    {**Q7, "winner": "tie (bothbad)", "judge": "u2", "shown_left": "model_a", "rationale": "", "elapsed_s": 10.0,
     "active_seconds": None},
]


def _vote(engine):
    with session_scope(engine) as s:
        make_benchmark(s, SPEC, criteria=["Clarity"])
        users = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="pilot", per_subdomain=1, overlap=2, annotators=["u1", "u2"], seed=1, per_criterion=True))
        rows = s.exec(select(Assignment, Query.index, StudyItem).join(StudyItem, StudyItem.id == Assignment.item_id)
                      .join(Query, Query.id == StudyItem.query_id).where(Assignment.study_id == study.id)).all()
        by = {}
        for a, index, item in rows:
            models = {"a": item.response_a_id, "b": item.response_b_id}
            by[(index, a.annotator_id)] = (a, models)
        plan = {  # (query, user) -> (response shown left: the one of this model, choice, extra)
            (7, "u1"): ("zeta", "left", {"rationale": "zeta is better", "elapsed_s": 30.0,
                                         "per_criterion": {"Clarity": "right"}}),
            (7, "u2"): ("alpha", "tie", {"both_poor": True, "elapsed_s": 10.0}),
            (3, "u1"): ("beta", "right", {"elapsed_s": 5.0}),
            (3, "u2"): ("gamma", "left", {"elapsed_s": 6.0}),
        }
        model_of = {r.id: m for r, m in s.exec(select(Response, LLMModel.name).join(LLMModel)).all()}
        for (index, user), (left_model, choice, extra) in plan.items():
            a, models = by[(index, users[user].id)]
            a.shown_left = "a" if model_of[models["a"]] == left_model else "b"
            s.add(a)
            s.commit()
            submit_judgment(session=s, actor=users[user], assignment_id=a.id, choice=choice,
                            submit_token=f"{index}{user}", **PINS, **extra)
    return users


def test_frame_matches_hand_built_rows_and_the_dict_export(engine):
    _vote(engine)
    with session_scope(engine) as s:
        frame = overall_votes_frame(session=s, study_name="pilot")
        dicts = [v for v in votes_for_study(session=s, study_name="pilot") if v.get("criterion") is None]
    assert list(frame.columns) == list(VOTE_FIELDS)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    assert records == EXPECTED
    assert records == dicts


def test_stale_and_gold_rules(engine):
    _vote(engine)
    with session_scope(engine) as s:
        query = s.exec(select(Query).where(Query.index == 7)).one()
        query.content_revision = 2  # an approved edit after the votes: query 7's votes turn stale
        s.add(query)
        s.commit()
        fresh = overall_votes_frame(session=s, study_name="pilot")
        assert fresh["question_id"].tolist() == [3, 3]
        with_stale = overall_votes_frame(session=s, study_name="pilot", include_stale=True)
        assert with_stale["stale"].tolist() == [False, False, True, True]
        item = s.exec(select(StudyItem).join(Query, Query.id == StudyItem.query_id).where(Query.index == 3)).one()
        item.is_gold = True  # a control item: left out unless asked for
        s.add(item)
        s.commit()
        assert overall_votes_frame(session=s, study_name="pilot").empty
        assert overall_votes_frame(session=s, study_name="pilot", include_gold=True)["judge"].tolist() == ["u1", "u2"]
        assert isinstance(overall_votes_frame(session=s, study_name="pilot"), pd.DataFrame)


def test_list_runs_without_counts_names_only(engine):
    from annotate.db.models import JudgeRun
    from annotate.services.judges.judge_runs import list_runs

    with session_scope(engine) as s:
        s.add_all([JudgeRun(judge="j2", method="static-global"), JudgeRun(judge="j1", method="dynamic")])
        s.commit()
        # sorted by method, then judge: "dynamic" < "static-global"; no score rows -> counts 0
        assert [(r.label, r.n_scores) for r in list_runs(session=s)] == [("dynamic/j1", 0), ("static-global/j2", 0)]
        assert [(r.label, r.n_scores, r.n_responses) for r in list_runs(session=s, with_counts=False)] == [
            ("dynamic/j1", None, None), ("static-global/j2", None, None)]
