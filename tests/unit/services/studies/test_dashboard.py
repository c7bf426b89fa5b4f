"""Dashboard figures on a hand-built study, every expected value worked out by hand."""

from __future__ import annotations

import math

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Adjudication, Assignment, Query, StudyItem
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.core.errors import PermissionDenied
from annotate.services.studies.dashboard import record_adjudication, split_items, study_dashboard
from annotate.services.studies.design import StudyDesign, create_study, set_gold_answer
from tests.fixtures.study_factory import make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")

# Canonical votes (a / b / tie) on the three real pairs I1 < I2 < I3 (by query index) and the gold pair G
# (known answer a); u3 always sees b on the left, u2 sees b on the left on I2, everyone else sees a.
#            I1   I2   I3    G
# u1         a    a    tie   a      seen: left, left, tie, left
# u2         a    a    tie   b      seen: left, right, tie, right
# u3         a    b    b     a      seen: right, left, left, right
VOTES = {"u1": ["a", "a", "tie", "a"], "u2": ["a", "a", "tie", "b"], "u3": ["a", "b", "b", "a"]}
ELAPSED = {"u1": [10, 20, 30, 40], "u2": [5, 5, 5, 5], "u3": [1, 2, 3, 100]}
B_LEFT = {("u3", 0), ("u3", 1), ("u3", 2), ("u3", 3), ("u2", 1)}


def _side(canonical: str, shown_left: str) -> str:
    if canonical == "tie":
        return "tie"
    return "left" if canonical == shown_left else "right"


@pytest.fixture()
def study(engine):
    with session_scope(engine) as s:
        make_benchmark(s, {("D", "Sub 00"): {i: ["m1", "m2"] for i in (1, 2, 3, 4)}})
        users = make_users(s, ["u1", "u2", "u3"]) | make_users(s, ["res"], role="researcher")
        # N=3 of 4 queries; gold rate 0.25 -> round(0.25 * 3 / 0.75) = 1 gold pair (the 4th query)
        st = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="dash", per_subdomain=3, overlap=3, annotators=["u1", "u2", "u3"], seed=8, gold_rate=0.25))
        items = s.exec(select(StudyItem, Query.index).join(Query, Query.id == StudyItem.query_id)
                       .where(StudyItem.study_id == st.id)).all()
        ordered = [it for it, _ in sorted(items, key=lambda t: (t[0].is_gold, t[1]))]
        assert [it.is_gold for it in ordered] == [False, False, False, True]
        set_gold_answer(session=s, actor=users["res"], item_id=ordered[3].id, winner="a")
        for name in ("u1", "u2", "u3"):
            for k, item in enumerate(ordered):
                a = s.exec(select(Assignment).where(Assignment.item_id == item.id,
                                                    Assignment.annotator_id == users[name].id)).one()
                a.shown_left = "b" if (name, k) in B_LEFT else "a"
                s.add(a)
                s.commit()
                submit_judgment(session=s, actor=users[name], assignment_id=a.id,
                                choice=_side(VOTES[name][k], a.shown_left), elapsed_s=ELAPSED[name][k],
                                instruction_version_no=1, content_revision=1, submit_token=f"{name}-{k}")
    return engine, users, ordered


def test_rates_gold_and_times(study):
    engine, users, _ = study
    with session_scope(engine) as s:
        dash = study_dashboard(session=s, actor=users["res"], study_name="dash")
    stats = {a.annotator: a for a in dash.by_annotator}
    assert (dash.done, dash.total) == (12, 12)
    assert [(a.done, a.total) for a in dash.by_annotator] == [(4, 4)] * 3
    assert dash.by_subdomain == [{"domain1": "D", "domain2": "Sub 00", "done": 12, "total": 12, "share": 1.0}]
    # tie rate over the 3 real pairs: u1 1/3, u2 1/3, u3 0
    assert [stats[u].tie_rate for u in ("u1", "u2", "u3")] == pytest.approx([1 / 3, 1 / 3, 0.0])
    # left share of non-tie real choices: u1 left,left = 1; u2 left,right = 1/2; u3 right,left,left = 2/3
    assert [stats[u].left_rate for u in ("u1", "u2", "u3")] == pytest.approx([1.0, 0.5, 2 / 3])
    # gold pair (answer a): u1 a, u2 b, u3 a
    assert [(stats[u].gold_n, stats[u].gold_accuracy) for u in ("u1", "u2", "u3")] == [(1, 1.0), (1, 0.0), (1, 1.0)]
    # medians: u1 of 10,20,30,40 = 25; u2 5; u3 of 1,2,3,100 = 2.5; all 12 values -> (5 + 5) / 2 = 5
    assert [stats[u].median_elapsed_s for u in ("u1", "u2", "u3")] == [25.0, 5.0, 2.5]
    assert dash.median_elapsed_s == 5.0


def test_agreement_and_disagreeing_annotators(study):
    engine, users, _ = study
    with session_scope(engine) as s:
        dash = study_dashboard(session=s, actor=users["res"], study_name="dash")
    # Units (a=+1, tie=0, b=-1): I1 (1,1,1), I2 (1,1,-1), I3 (0,0,-1). Coincidences (each ordered pair
    # weighs 1/(3-1)): o11=4, o00=1, o(1,-1)=o(-1,1)=1, o(0,-1)=o(-1,0)=1; n1=5, n0=2, n-1=2, n=9.
    # nominal: Do = 4/9, De = (81-25-4-4)/72 = 2/3, alpha = 1 - (4/9)/(2/3) = 1/3.
    assert dash.alpha_nominal == pytest.approx(1 / 3)
    # ordinal: d(-1,0)=(4-2)^2=4, d(0,1)=(7-3.5)^2=12.25, d(-1,1)=(9-3.5)^2=30.25;
    # Do = (2*30.25 + 2*4)/9 = 68.5/9; De = 2*(2*2*4 + 2*5*12.25 + 2*5*30.25)/72 = 12.25;
    # alpha = 1 - 68.5/110.25 = 0.378685
    assert dash.alpha_ordinal == pytest.approx(1 - 68.5 / 110.25)
    # comparisons with the others on real pairs: u3 differs 4 of 6 times, u1 and u2 2 of 6
    assert dash.most_disagreeing == [("u3", pytest.approx(2 / 3)), ("u1", pytest.approx(1 / 3)),
                                     ("u2", pytest.approx(1 / 3))]


def test_split_pairs_and_adjudication(study):
    engine, users, ordered = study
    with session_scope(engine) as s:
        split = split_items(session=s, actor=users["res"], study_name="dash")
        # I2 (a,a,b) has majority a; I3 (tie,tie,b) majority tie; I1 is unanimous; gold is not listed
        assert [(x.item_id, x.counts, x.majority) for x in split] == [
            (ordered[1].id, {"a": 2, "b": 1, "tie": 0}, "a"),
            (ordered[2].id, {"a": 0, "b": 1, "tie": 2}, "tie"),
        ]
        record_adjudication(session=s, actor=users["res"], item_id=ordered[2].id, winner="b", note="u3 is right")
        record_adjudication(session=s, actor=users["res"], item_id=ordered[2].id, winner="tie", note="on reflection")
        assert s.exec(select(Adjudication)).all()[0].winner == "tie"
        assert len(s.exec(select(Adjudication)).all()) == 1
        split = split_items(session=s, actor=users["res"], study_name="dash")
        assert (split[1].adjudicated, split[1].note) == ("tie", "on reflection")
        # the votes themselves are untouched
        dash = study_dashboard(session=s, actor=users["res"], study_name="dash")
        assert dash.alpha_nominal == pytest.approx(1 / 3)
        with pytest.raises(PermissionDenied):
            study_dashboard(session=s, actor=users["u1"], study_name="dash")
        with pytest.raises(PermissionDenied):
            record_adjudication(session=s, actor=users["u1"], item_id=ordered[1].id, winner="a")


def test_empty_study_has_nan_agreement(engine):
    with session_scope(engine) as s:
        make_benchmark(s, {("D", "S"): {1: ["m1", "m2"]}})
        users = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        create_study(session=s, actor=users["res"], design=StudyDesign(
            name="e", per_subdomain=1, overlap=2, annotators=["u1", "u2"]))
        dash = study_dashboard(session=s, actor=users["res"], study_name="e")
    assert math.isnan(dash.alpha_nominal) and math.isnan(dash.median_elapsed_s)
    assert (dash.done, dash.total) == (0, 2) and dash.split_items == []
