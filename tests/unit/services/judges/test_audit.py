"""The disagreement audit service: list, filters, detail, tags, summary, export.

Hand-made scenario (two pairs, three annotators, two judge runs); expected values worked
out by hand in the comments.
"""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, LLMModel, Query, Response, StudyItem
from annotate.services.accounts import users
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.core.errors import InputError, PermissionDenied
from annotate.services.judges.audit import AuditFilters, audit_detail, audit_rows
from annotate.services.judges.audit_tags import (
    add_cause,
    add_tag,
    cause_summary,
    export_tags,
    list_causes,
    set_cause_active,
)
from annotate.services.judges.judge_runs import import_scores
from tests.fixtures.pairwise_seed import seed_accounts, seed_content, seed_study

ANN = ("ann1", "ann2", "ann3")
# canonical choices per item (A = response of the model whose name sorts first)
VOTES = [("a", "a", "a"),      # item 1: unanimous A, strength 3/3
         ("a", "b", "tie")]    # item 2: exact three-way split -> majority tie, strength 1/3


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


@pytest.fixture()
def scenario(engine, tmp_path):
    seed_content(engine)
    seed_accounts(engine, ANN)
    seed_study(engine, name="s", annotators=ANN, overlap=3, subdomains=["Abstract", "Financial Reports"])
    with session_scope(engine) as s:
        items = s.exec(select(StudyItem).order_by(StudyItem.id)).all()
        assert len(items) == 2
        info = []
        for item, choices in zip(items, VOTES, strict=True):
            q = s.get(Query, item.query_id)
            ma = s.get(LLMModel, s.get(Response, item.response_a_id).model_id).name
            mb = s.get(LLMModel, s.get(Response, item.response_b_id).model_id).name
            assert ma < mb  # items are stored in canonical order
            info.append((item.id, q.index, ma, mb))
            asg = s.exec(select(Assignment).where(Assignment.item_id == item.id).order_by(Assignment.id)).all()
            for a, canonical in zip(sorted(asg, key=lambda x: x.annotator_id), choices, strict=True):
                actor = users.get_user(session=s, user_id=a.annotator_id)
                choice = "tie" if canonical == "tie" else ("left" if canonical == a.shown_left else "right")
                submit_judgment(session=s, actor=actor, assignment_id=a.id, choice=choice, rationale=f"why {canonical}",
                                elapsed_s=42.0, instruction_version_no=1, content_revision=1,
                                submit_token=uuid.uuid4().hex)
    (i1, q1, a1, b1), (i2, q2, a2, b2) = info
    # run dynamic/j: item 1 A mean (4+6)/2 = 5 < B mean (8+6)/2 = 7 -> verdict B, margin -2 (disagrees with A)
    #                item 2 A = B = 6 -> tie (agrees with the tie majority)
    # run static-global/k: item 1 A 8 > B 6 -> A (agrees); item 2 A 9 > B 4 -> A, margin +5 (disagrees with tie)
    rows = []
    for (q, m, crit, sc) in [(q1, a1, "Facts", 4), (q1, a1, "Form", 6), (q1, b1, "Facts", 8), (q1, b1, "Form", 6),
                             (q2, a2, "Facts", 6), (q2, b2, "Facts", 6)]:
        rows.append({"index": q, "model": m, "criterion": crit, "score": sc, "reason": f"{m} {crit}"})
    krows = [{"index": q1, "model": a1, "criterion": "G", "score": 8}, {"index": q1, "model": b1, "criterion": "G", "score": 6},
             {"index": q2, "model": a2, "criterion": "G", "score": 9}, {"index": q2, "model": b2, "criterion": "G", "score": 4}]
    for name, rs, judge, method in (("j.jsonl", rows, "j", "dynamic"), ("k.jsonl", krows, "k", "static-global")):
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rs), encoding="utf-8")
        with session_scope(engine) as s:
            import_scores(session=s, path=path, judge=judge, method=method)
    with session_scope(engine) as s:
        res = users.get_user_by_username(session=s, username="res")
    return engine, res, info


def test_list_holds_exactly_the_disagreements_strongest_first(scenario):
    engine, res, ((i1, q1, a1, b1), (i2, q2, _a2, _b2)) = scenario
    with session_scope(engine) as s:
        rows = audit_rows(session=s, actor=res, study_name="s")
    got = rows[["item_id", "query", "method", "judge", "human", "votes", "verdict", "margin", "unanimous"]]
    assert got.to_dict("records") == [
        {"item_id": i1, "query": str(q1), "method": "dynamic", "judge": "j", "human": "A", "votes": "3/3",
         "verdict": "B", "margin": -2.0, "unanimous": True},
        {"item_id": i2, "query": str(q2), "method": "static-global", "judge": "k", "human": "tie", "votes": "1/3",
         "verdict": "A", "margin": 5.0, "unanimous": False},
    ]
    assert list(rows["strength"]) == [1.0, 0.333]


@pytest.mark.parametrize(("filters", "expected_methods"), [
    (AuditFilters(unanimous_only=True), ["dynamic"]),
    (AuditFilters(min_margin=3.0), ["static-global"]),
    (AuditFilters(max_margin=3.0), ["dynamic"]),
    (AuditFilters(judges=("k",)), ["static-global"]),
    (AuditFilters(methods=("dynamic",)), ["dynamic"]),
    (AuditFilters(subdomains=("Financial Reports",)), None),  # depends on which item got which subdomain
    (AuditFilters(langs=("zh",)), []),  # both queries are English
])
def test_filters(scenario, filters, expected_methods):
    engine, res, _info = scenario
    with session_scope(engine) as s:
        rows = audit_rows(session=s, actor=res, study_name="s", filters=filters)
    if expected_methods is None:
        assert set(rows["subdomain"]) == {"Financial Reports"} and len(rows) == 1
    else:
        assert list(rows["method"]) == expected_methods


def test_detail_shows_votes_scores_and_driver(scenario):
    engine, res, ((i1, q1, a1, b1), _second) = scenario
    with session_scope(engine) as s:
        d = audit_detail(session=s, actor=res, item_id=i1)
    assert (d.query_index, d.model_a, d.model_b, d.human) == (q1, a1, b1, "A")
    assert [(v.annotator, v.choice, v.rationale, v.elapsed_s) for v in d.votes] == [
        (u, "A", "why a", 42.0) for u in ANN]
    assert {v.shown_left for v in d.votes} <= {"A", "B"}
    run = next(r for r in d.runs if r.label == "dynamic/j")
    assert (run.mean_a, run.mean_b, run.verdict) == (5.0, 7.0, "B")
    # gaps A-B: Facts 4-8 = -4, Form 6-6 = 0 -> Facts drove the B verdict
    assert [(c.name, c.score_a, c.score_b, c.gap, c.driver) for c in run.criteria] == [
        ("Facts", 4, 8, -4.0, True), ("Form", 6, 6, 0.0, False)]
    assert run.criteria[0].reason_a == f"{a1} Facts"
    assert d.length_a == len(d.response_a) > 0


def test_tags_summary_uses_latest_and_exports(scenario):
    engine, res, ((i1, *_), (i2, *_)) = scenario
    with session_scope(engine) as s:
        add_tag(session=s, actor=res, item_id=i1, judge="j", method="dynamic", cause="other", note="first look")
        add_tag(session=s, actor=res, item_id=i1, judge="j", method="dynamic", cause="length bias", note="longer won")
        add_tag(session=s, actor=res, item_id=i2, judge="k", method="static-global", cause="ambiguous query")
        # item 1 counts once, under its latest cause
        assert cause_summary(session=s, actor=res, study_name="s") == [
            {"method": "dynamic", "judge": "j", "cause": "length bias", "n": 1},
            {"method": "static-global", "judge": "k", "cause": "ambiguous query", "n": 1}]
        rows = audit_rows(session=s, actor=res, study_name="s")
        assert list(rows["cause"]) == ["length bias", "ambiguous query"]
        assert len(audit_rows(session=s, actor=res, study_name="s", filters=AuditFilters(untagged_only=True))) == 0
        text = export_tags(session=s, actor=res, study_name="s", fmt="csv")
        jsonl = export_tags(session=s, actor=res, study_name="s", fmt="jsonl")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["item_id"], r["cause"], r["note"], r["author"]) for r in table] == [
        (str(i1), "other", "first look", "res"), (str(i1), "length bias", "longer won", "res"),
        (str(i2), "ambiguous query", "", "res")]
    assert [json.loads(line)["cause"] for line in jsonl.splitlines()] == [r["cause"] for r in table]


def test_causes_are_editable_and_checked(scenario):
    engine, res, ((i1, *_), _second) = scenario
    with session_scope(engine) as s:
        assert [c.name for c in list_causes(session=s)][:2] == ["judge error", "human error"]
        add_cause(session=s, actor=res, name="  prompt   cut ")
        set_cause_active(session=s, actor=res, name="other", active=False)
        names = [c.name for c in list_causes(session=s)]
        assert "prompt cut" in names and "other" not in names
        with pytest.raises(InputError, match="not in the cause list"):
            add_tag(session=s, actor=res, item_id=i1, judge="j", method="dynamic", cause="other")


def test_annotators_cannot_audit(scenario):
    engine, _res, ((i1, *_), _second) = scenario
    with session_scope(engine) as s:
        ann = users.get_user_by_username(session=s, username="ann1")
        with pytest.raises(PermissionDenied):
            audit_rows(session=s, actor=ann, study_name="s")
        with pytest.raises(PermissionDenied):
            audit_detail(session=s, actor=ann, item_id=i1)
        with pytest.raises(PermissionDenied):
            add_tag(session=s, actor=ann, item_id=i1, judge="j", method="dynamic", cause="other")
