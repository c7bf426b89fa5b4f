"""A judgment made before an approved edit becomes stale; re-queueing gives exactly one new
assignment per affected annotator."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.db.engine import init_db
from annotate.db.models import (
    Assignment,
    InstructionVersion,
    JudgeRun,
    JudgeScore,
    Judgment,
    LLMModel,
    Query,
    Response,
    Study,
    StudyItem,
    User,
)
from annotate.services.core.errors import InputError, PermissionDenied
from annotate.services.core.taxonomy import seed_taxonomy, subdomain_index
from annotate.services.refine import instructions, review, staleness


@pytest.fixture()
def world(tmp_path: Path):
    """Two queries, each with a pair of responses; annotators a1, a2 judged query A, a3 judged B."""
    engine = init_db(f"sqlite:///{tmp_path / 's.db'}")
    with Session(engine, expire_on_commit=False) as s:
        seed_taxonomy(s)
        sub = next(iter(subdomain_index(s).values()))
        people = {n: User(username=n, role=r, password_hash="x") for n, r in
                  (("a1", "annotator"), ("a2", "annotator"), ("a3", "annotator"), ("e1", "expert"),
                   ("e2", "expert"), ("r1", "researcher"))}
        s.add_all(people.values())
        qa = Query(index=1, subdomain_id=sub, lang="en", original_text="Write about A.")
        qb = Query(index=2, subdomain_id=sub, lang="en", original_text="Write about B.")
        m1, m2 = LLMModel(name="m1"), LLMModel(name="m2")
        study = Study(name="s1")
        s.add_all([qa, qb, m1, m2, study])
        s.flush()
        for q in (qa, qb):
            s.add(InstructionVersion(query_id=q.id, version_no=1, text=q.original_text, status="approved"))
        ra1, ra2 = Response(query_id=qa.id, model_id=m1.id, text="x"), Response(query_id=qa.id, model_id=m2.id, text="y")
        rb1, rb2 = Response(query_id=qb.id, model_id=m1.id, text="x"), Response(query_id=qb.id, model_id=m2.id, text="y")
        s.add_all([ra1, ra2, rb1, rb2])
        s.flush()
        item_a = StudyItem(study_id=study.id, query_id=qa.id, response_a_id=ra1.id, response_b_id=ra2.id)
        item_b = StudyItem(study_id=study.id, query_id=qb.id, response_a_id=rb1.id, response_b_id=rb2.id)
        s.add_all([item_a, item_b])
        s.flush()
        assignments = {}
        for pos, (name, item) in enumerate((("a1", item_a), ("a2", item_a), ("a3", item_b), ("a1", item_b))):
            a = Assignment(study_id=study.id, item_id=item.id, annotator_id=people[name].id, position=pos,
                           status="done")
            s.add(a)
            s.flush()
            s.add(Judgment(assignment_id=a.id, winner="a", content_revision=1))
            assignments[(name, item.query_id)] = a
        run = JudgeRun(judge="j", method="dynamic")
        s.add(run)
        s.flush()
        for r in (ra1, rb1):
            s.add(JudgeScore(run_id=run.id, response_id=r.id, criterion="c", score=7, content_revision=1))
        s.commit()
        yield s, people, qa, qb, assignments
    engine.dispose()


def test_approved_edit_marks_older_judgments_stale_and_requeue_once(world) -> None:
    s, people, qa, qb, assignments = world
    v2 = instructions.propose_instruction(session=s, actor=people["e1"], query_id=qa.id, text="Write about A, briefly.",
                                   reason="realistic length", base_version_no=1)
    # a proposal alone changes nothing
    assert staleness.stale_counts(session=s) == {"judgments": 0, "ratings": 0, "judge_scores": 0}
    review.review_edit(session=s, actor=people["e2"], kind="instruction", version_id=v2.id, approve=True)
    assert s.get(Query, qa.id).content_revision == 2 and s.get(Query, qb.id).content_revision == 1
    stale = {a.annotator_id: j.stale for a, j in s.exec(
        select(Assignment, Judgment).join(Judgment, Judgment.assignment_id == Assignment.id)
        .join(StudyItem, StudyItem.id == Assignment.item_id).where(StudyItem.query_id == qa.id))}
    assert stale == {people["a1"].id: True, people["a2"].id: True}
    # query B's judgments (a3 and a1) and judge score stay fresh; A's judge score is stale
    assert staleness.stale_counts(session=s) == {"judgments": 2, "ratings": 0, "judge_scores": 1}

    with pytest.raises(PermissionDenied):
        staleness.requeue_stale(session=s, actor=people["a1"], query_id=qa.id)
    with pytest.raises(InputError):
        staleness.requeue_stale(session=s, actor=people["r1"])
    report = staleness.requeue_stale(session=s, actor=people["r1"], query_id=qa.id)
    assert (report.created, report.annotators) == (2, ["a1", "a2"])
    new = s.exec(select(Assignment).where(Assignment.requeued_from_id.is_not(None))).all()
    assert sorted((a.annotator_id, a.status) for a in new) == sorted(
        [(people["a1"].id, "pending"), (people["a2"].id, "pending")])
    for a in new:
        old = s.get(Assignment, a.requeued_from_id)
        assert old.status == "superseded" and old.item_id == a.item_id and old.annotator_id == a.annotator_id
    # a1's new task goes to the end of a1's queue (a1 had positions 0 and 3)
    assert next(a.position for a in new if a.annotator_id == people["a1"].id) == 4
    # running again creates nothing; the study-wide call only sees the same (already handled) work
    assert staleness.requeue_stale(session=s, actor=people["r1"], query_id=qa.id).created == 0
    assert staleness.requeue_stale(session=s, actor=people["r1"], study="s1").created == 0
    assert len(s.exec(select(Assignment)).all()) == 6


def test_material_approval_also_marks_stale_and_rejection_does_not(world) -> None:
    s, people, qa, qb, _ = world
    v2 = instructions.propose_instruction(session=s, actor=people["e1"], query_id=qb.id, text="Write about B!",
                                   reason="tone", base_version_no=1)
    review.review_edit(session=s, actor=people["e2"], kind="instruction", version_id=v2.id, approve=False,
                      note="not what the materials support")
    assert s.get(Query, qb.id).content_revision == 1
    assert staleness.stale_counts(session=s)["judgments"] == 0
    report = staleness.mark_content_changed(session=s, query_id=qb.id)
    s.commit()
    assert (report.content_revision, report.judgments, report.judge_scores) == (2, 2, 1)
    assert staleness.requeue_stale(session=s, actor=people["r1"], study="s1").annotators == ["a1", "a3"]
