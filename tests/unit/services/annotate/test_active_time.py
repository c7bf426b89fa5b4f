"""Active time per showing: reloads add up, a revision starts its own time, idle gaps and
replays add nothing, another annotator's task is refused.

Expected numbers are counted by hand from the heartbeat times in each test (interval 5 s).
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import (
    Assignment,
    Judgment,
    JudgmentRevision,
    PointwiseRating,
    PointwiseRatingRevision,
)
from annotate.services.annotate.active_time import close_showing, record_beat
from annotate.services.annotate.judgments import submit_judgment, submit_rating
from annotate.services.core.errors import Conflict, InputError, PermissionDenied
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")
PINS = {"instruction_version_no": 1, "content_revision": 1}
SPEC = {("Domain 0", "Sub 00"): {7: ["zeta", "alpha", "beta"]}}
STEP = 5.0


@pytest.fixture()
def studies(engine):
    with session_scope(engine) as s:
        make_benchmark(s, SPEC)
        users = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        ids = {}
        for kind in ("pairwise", "pointwise"):
            study = create_study(session=s, actor=users["res"], design=StudyDesign(
                name=kind, kind=kind, per_subdomain=1, overlap=1, annotators=["u1"], seed=1,
                error_types=["off-topic"]))
            ids[kind] = s.exec(select(Assignment.id).where(Assignment.study_id == study.id)
                               .order_by(Assignment.id)).first()
    return engine, users, ids


def beat(s, user, aid, at, claimed=STEP, revision=1):
    return record_beat(session=s, actor=user, assignment_id=aid, revision=revision, active_s=claimed, now=at,
                       interval=STEP)


def test_reloads_of_one_showing_add_up_and_a_revision_keeps_its_own_time(studies):
    engine, users, ids = studies
    u1, aid = users["u1"], ids["pairwise"]
    with session_scope(engine) as s:
        # First page load: beats at 100, 105, 110 (5 s each: 15 s).
        for t in (100.0, 105.0, 110.0):
            beat(s, u1, aid, t)
        # Reload at ~112: the new page's first beat at 117 claims 5 s; wall time since 110 is 7 s -> 5.
        # Then 122 -> 5 more: 25 s in all.
        assert beat(s, u1, aid, 117.0) == 20.0
        assert beat(s, u1, aid, 122.0) == 25.0
        # Submit at 124: 2 s since the last beat (<= one interval) are added: 27 s.
        assert close_showing(s, aid, 1, now=124.0, interval=STEP) == 27.0
        # The submit finds the showing ended: it stores those 27 s.
        submit_judgment(session=s, actor=u1, assignment_id=aid, choice="left", submit_token="r1", **PINS)
        s.commit()
        assert s.exec(select(Judgment.active_s)).one() == 27.0
        # Revision 2 is a new showing: beats at 200 and 205 claiming 5 and 3 s -> 8 s, then submit at 230
        # (25 s after the last beat: more than one interval, so nothing is added) -> 8 s.
        beat(s, u1, aid, 200.0, revision=2)
        beat(s, u1, aid, 205.0, claimed=3.0, revision=2)
        assert close_showing(s, aid, 2, now=230.0, interval=STEP) == 8.0


def test_submit_stores_the_showings_active_seconds_on_each_revision(studies):
    # The beats are stamped in 1970 and the submits happen now: the time between them is far more than one
    # interval, so no tail is added and each revision stores exactly its beats' seconds.
    engine, users, ids = studies
    u1, aid = users["u1"], ids["pairwise"]
    with session_scope(engine) as s:
        for t in (1000.0, 1005.0):
            beat(s, u1, aid, t)  # 10 s
        r1 = submit_judgment(session=s, actor=u1, assignment_id=aid, choice="left", submit_token="a1", **PINS)
        s.commit()
        with pytest.raises(Conflict):  # revision 1 is stored: its showing takes no more time
            beat(s, u1, aid, 1010.0, revision=1)
        s.rollback()
        beat(s, u1, aid, 2000.0, claimed=4.0, revision=2)  # 4 s
        r2 = submit_judgment(session=s, actor=u1, assignment_id=aid, choice="right", submit_token="a2", **PINS)
        s.commit()
        judgment = s.exec(select(Judgment).where(Judgment.assignment_id == aid)).one()
        revs = s.exec(select(JudgmentRevision).where(JudgmentRevision.judgment_id == judgment.id)
                      .order_by(JudgmentRevision.revision)).all()
    assert (r1.revision, r2.revision) == (1, 2)
    assert [r.active_s for r in revs] == [10.0, 4.0]
    assert judgment.active_s == 4.0


def test_idle_gaps_and_replays_add_nothing(studies):
    engine, users, ids = studies
    u1, aid = users["u1"], ids["pairwise"]
    with session_scope(engine) as s:
        beat(s, u1, aid, 100.0)  # 5
        beat(s, u1, aid, 105.0)  # 10
        # Idle from ~105 to 160 (no heartbeats); input again, the next beat at 165 claims 5 s but a client
        # that claimed the whole gap (60 s) is bounded by one interval: 15.
        assert beat(s, u1, aid, 165.0, claimed=60.0) == 15.0
        # A replay of that beat 0.5 s later: only the 0.5 s of wall time: 15.5.
        assert beat(s, u1, aid, 165.5) == 15.5
        # A second tab beating at the same instant adds nothing: 15.5.
        assert beat(s, u1, aid, 165.5) == 15.5


def test_a_foreign_task_and_bad_claims_are_refused(studies):
    engine, users, ids = studies
    with session_scope(engine) as s:
        with pytest.raises(PermissionDenied):
            beat(s, users["u2"], ids["pairwise"], 100.0)
        with pytest.raises(InputError):
            beat(s, users["u1"], ids["pairwise"], 100.0, claimed=-1.0)
        with pytest.raises(InputError):
            beat(s, users["u1"], ids["pairwise"], 100.0, claimed=float("nan"))
        with pytest.raises(Conflict):  # a showing not reached yet (no revision 1 stored)
            beat(s, users["u1"], ids["pairwise"], 100.0, revision=2)


def test_ratings_store_the_active_time_of_their_showing(studies):
    engine, users, ids = studies
    u1, aid = users["u1"], ids["pointwise"]
    with session_scope(engine) as s:
        beat(s, u1, aid, 50.0, claimed=3.0)  # 3 s
        submit_rating(session=s, actor=u1, assignment_id=aid, score=4, submit_token="p1", **PINS)
        s.commit()
        rating = s.exec(select(PointwiseRating).where(PointwiseRating.assignment_id == aid)).one()
        rev = s.exec(select(PointwiseRatingRevision).where(PointwiseRatingRevision.rating_id == rating.id)).one()
    assert (rating.active_s, rev.active_s) == (3.0, 3.0)


def test_without_heartbeats_nothing_is_stored(studies):
    engine, users, ids = studies
    with session_scope(engine) as s:
        submit_judgment(session=s, actor=users["u1"], assignment_id=ids["pairwise"], choice="tie",
                        submit_token="n1", **PINS)
        s.commit()
        assert s.exec(select(Judgment.active_s)).one() is None
