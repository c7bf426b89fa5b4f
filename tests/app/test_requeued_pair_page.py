"""AppTest of a pair that came back after a re-queue: Judge pairs shows it under
its own number (not the last one), says why it is back, and shows the change on request."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, StudyItem, User
from annotate.services.accounts import users
from annotate.services.annotate import judgments, tasks
from annotate.services.refine import instructions, review, staleness, versions
from tests.fixtures.apptest import page, shown
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study

DB_BACKENDS = ("sqlite", "postgres")  # the pair-number SQL on both (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)

ADDED = "Name the audience in the first sentence."


def test_a_requeued_pair_keeps_its_number_and_says_why(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = seed_accounts(engine, annotators=("ann1",))
    study_id = seed_study(engine, annotators=("ann1",), overlap=1)  # 15 pairs, all ann1's
    with session_scope(engine) as s:
        ann1 = s.get(User, ids["ann1"])
        first = tasks.next_task(session=s, actor=ann1, study_id=study_id)
        assert first is not None and first.position == 1
        task = first
        while task is not None:  # ann1 judges all 15 pairs: "A is better"
            judgments.submit_judgment(session=s, actor=ann1, assignment_id=task.assignment_id, choice="left",
                                      instruction_version_no=task.instruction_version_no,
                                      content_revision=task.content_revision, submit_token=uuid.uuid4().hex,
                                      study_id=study_id)
            task = tasks.next_task(session=s, actor=ann1, study_id=study_id)
        exp1 = users.create_user(session=s, username="exp1", role="expert", password=PASSWORD)
        exp2 = users.create_user(session=s, username="exp2", role="expert", password=PASSWORD)
        query_id = s.exec(select(StudyItem.query_id).where(StudyItem.id == first.item_id)).one()
        head = versions.instruction_head(session=s, query_id=query_id)
        version = instructions.propose_instruction(session=s, actor=exp1, query_id=query_id,
                                                   text=head.text + " " + ADDED, reason="audience",
                                                   base_version_no=head.version_no)
        review.review_edit(session=s, actor=exp2, kind="instruction", version_id=version.id, approve=True)
        staleness.requeue_stale(session=s, actor=s.get(User, ids["res"]), study="pilot")
        new = s.exec(select(Assignment).where(Assignment.requeued_from_id == first.assignment_id)).one()
        assert new.position == 15  # the new task is last in the queue ...

    at = page(ids["ann1"], "annotate/judge_pairs.py")
    assert not at.exception
    headings = [m.value for m in at.markdown if "Pair " in m.value]
    # ... but it is still pair 1 of 15 (before the fix: "Pair 15 of 15")
    assert any("Pair 1 of 15" in h for h in headings), headings
    warnings = [shown(w.value) for w in at.warning]
    assert any("This query was changed since you judged it; your earlier judgment (A is better, on query "
               f"version {head.version_no}) is kept as stale." in w for w in warnings), warnings
    assert any(e.label == "What changed in the query since you judged it" for e in at.expander)
