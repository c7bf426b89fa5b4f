"""A task opens, is skipped and is judged only under the study it belongs to.

What this guards against: a page that keeps a task id from study A after the annotator
switches to study B would open it under B's title and revise A's judgment. Every service
that opens a task takes the study the page has open and refuses a task of another study
with a clear message, writing nothing.
"""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Judgment, JudgmentRevision
from annotate.services.annotate.judgments import submit_judgment, submit_rating
from annotate.services.annotate.tasks import get_task, skip_task
from annotate.services.core.errors import Conflict
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import grid_spec, make_benchmark, make_users

PINS = {"instruction_version_no": 1, "content_revision": 1}


@pytest.fixture()
def two_studies(engine):
    """u1 in two pairwise studies A and B and one pointwise study P."""
    with session_scope(engine) as s:
        make_benchmark(s, grid_spec(2, 2, ["m1", "m2"]))
        people = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        ids = {}
        for name, kind in (("A", "pairwise"), ("B", "pairwise"), ("P", "pointwise")):
            ids[name] = create_study(session=s, actor=people["res"], design=StudyDesign(
                name=name, kind=kind, per_subdomain=1, overlap=2, annotators=["u1", "u2"], seed=1)).id
    return engine, people, ids


def _task_of(session, user, study_id: int) -> Assignment:
    return session.exec(select(Assignment).where(Assignment.study_id == study_id,
                                                 Assignment.annotator_id == user.id)).first()


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_task_of_study_a_is_refused_under_study_b(two_studies):
    engine, people, ids = two_studies
    u1 = people["u1"]
    with session_scope(engine) as s:
        a_task = _task_of(s, u1, ids["A"])
        first = submit_judgment(session=s, actor=u1, assignment_id=a_task.id, choice="left",
                                submit_token="a-1", study_id=ids["A"], **PINS)
        assert first.created
        # opened under the study it belongs to: fine
        assert get_task(session=s, actor=u1, assignment_id=a_task.id, study_id=ids["A"]).study_id == ids["A"]
        # opened, revised or skipped under study B: refused, with a message a person understands
        with pytest.raises(Conflict, match="another study"):
            get_task(session=s, actor=u1, assignment_id=a_task.id, study_id=ids["B"])
        with pytest.raises(Conflict, match="another study"):
            submit_judgment(session=s, actor=u1, assignment_id=a_task.id, choice="right",
                            submit_token="b-1", study_id=ids["B"], **PINS)
        with pytest.raises(Conflict, match="another study"):
            skip_task(session=s, actor=u1, assignment_id=_task_of(s, u1, ids["A"]).id, study_id=ids["B"])
    with session_scope(engine) as s:
        # nothing was written: one judgment, one revision, still "left"
        assert _count(s, Judgment) == 1 and _count(s, JudgmentRevision) == 1
        assert s.exec(select(JudgmentRevision.winner)).one() == a_task.shown_left  # "left" = the side shown left
        assert all(a.status in ("pending", "done") for a in s.exec(select(Assignment)).all())


def test_rating_refused_under_another_study(two_studies):
    engine, people, ids = two_studies
    u1 = people["u1"]
    with session_scope(engine) as s:
        p_task = _task_of(s, u1, ids["P"])
        with pytest.raises(Conflict, match="another study"):
            submit_rating(session=s, actor=u1, assignment_id=p_task.id, score=4, submit_token="p-1",
                          study_id=ids["A"], **PINS)
        assert _count(s, Judgment) == 0
        stored = submit_rating(session=s, actor=u1, assignment_id=p_task.id, score=4, submit_token="p-2",
                               study_id=ids["P"], **PINS)
        assert stored.created
