"""Judgments are stored exactly once: tokens, threads, processes, crashes; revisions keep history."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from annotate.db.engine import make_engine, session_scope
from annotate.db.models import Assignment, Judgment, JudgmentRevision, Query, StudyItem, User
from annotate.services.annotate.judgments import judgment_history, submit_judgment
from annotate.services.annotate.tasks import get_task, my_progress, my_task_list, next_task, skip_task
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import grid_spec, make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)

PINS = {"instruction_version_no": 1, "content_revision": 1}


@pytest.fixture()
def study_env(engine):
    """3 subdomains x 2 queries (models m1, m2), annotators u1, u2, K=2: 6 tasks each."""
    with session_scope(engine) as s:
        make_benchmark(s, grid_spec(3, 2, ["m1", "m2"]), criteria=["Clarity", "Depth"])
        users = make_users(s, ["u1", "u2"])
        users |= make_users(s, ["res"], role="researcher")
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="s", per_subdomain=2, overlap=2, annotators=["u1", "u2"], seed=3, per_criterion=True))
    return engine, users, study


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _first_task(session, user):
    return next_task(session=session, actor=user)


def test_same_token_twice_stores_once(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        task = _first_task(s, users["u1"])
        first = submit_judgment(session=s, actor=users["u1"], assignment_id=task.assignment_id, choice="left",
                                submit_token="tok-A", **PINS)
        second = submit_judgment(session=s, actor=users["u1"], assignment_id=task.assignment_id, choice="right",
                                 submit_token="tok-A", **PINS)
        assert first.created and not second.created
        assert (second.judgment_id, second.revision) == (first.judgment_id, 1)
        assert _count(s, Judgment) == 1 and _count(s, JudgmentRevision) == 1
        # the replay did not change the stored answer (left stays left)
        assert get_task(session=s, actor=users["u1"], assignment_id=task.assignment_id).existing.choice == "left"
        assert my_progress(session=s, actor=users["u1"], study_id=task.study_id) == (1, 6)


def test_left_right_mapped_to_canonical_with_shown_left(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        u1 = users["u1"]
        rows = s.exec(select(Assignment).where(Assignment.annotator_id == u1.id)).all()
        on_b = next(a for a in rows if a.shown_left == "b")
        on_a = next(a for a in rows if a.shown_left == "a")
        submit_judgment(session=s, actor=u1, assignment_id=on_b.id, choice="left", submit_token="x1", **PINS)
        submit_judgment(session=s, actor=u1, assignment_id=on_a.id, choice="left", submit_token="x2", **PINS)
        # left on a "b-left" assignment means response b won; on an "a-left" one, response a
        assert s.exec(select(Judgment.winner).where(Judgment.assignment_id == on_b.id)).one() == "b"
        assert s.exec(select(Judgment.winner).where(Judgment.assignment_id == on_a.id)).one() == "a"


def test_revision_appends_history(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        u1 = users["u1"]
        task = _first_task(s, u1)
        aid = task.assignment_id
        submit_judgment(session=s, actor=u1, assignment_id=aid, choice="left", rationale="first",
                        submit_token="r1", **PINS)
        rev = submit_judgment(session=s, actor=u1, assignment_id=aid, choice="tie", both_poor=True,
                              per_criterion={"Clarity": "right"}, rationale="second", flags=["needs_expert"],
                              elapsed_s=12.5, submit_token="r2", **PINS)
        assert rev.revision == 2 and rev.created
        history = judgment_history(session=s, actor=u1, assignment_id=aid)
        assert [(h.revision, h.rationale) for h in history] == [(1, "first"), (2, "second")]
        assert history[1].winner == "tie" and history[1].both_poor and history[1].flags == ["needs_expert"]
        judgment = s.exec(select(Judgment).where(Judgment.assignment_id == aid)).one()
        assert (judgment.revision, judgment.rationale, judgment.elapsed_s) == (2, "second", 12.5)
        assert _count(s, Judgment) == 1
        # researchers may read the history; the other annotator may not
        assert len(judgment_history(session=s, actor=users["res"], assignment_id=aid)) == 2
        with pytest.raises(PermissionDenied):
            judgment_history(session=s, actor=users["u2"], assignment_id=aid)


def test_other_annotators_assignment_refused(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        theirs = _first_task(s, users["u2"]).assignment_id
        with pytest.raises(PermissionDenied):
            get_task(session=s, actor=users["u1"], assignment_id=theirs)
        with pytest.raises(PermissionDenied):
            submit_judgment(session=s, actor=users["u1"], assignment_id=theirs, choice="left",
                            submit_token="steal", **PINS)
        with pytest.raises(PermissionDenied):
            skip_task(session=s, actor=users["u1"], assignment_id=theirs)
        with pytest.raises(PermissionDenied):
            get_task(session=s, actor=users["res"], assignment_id=theirs)
        with pytest.raises(NotFound):
            get_task(session=s, actor=users["u1"], assignment_id=99999)
        assert _count(s, Judgment) == 0


def test_invalid_inputs_rejected(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        aid = _first_task(s, users["u1"]).assignment_id
        cases = [
            (dict(choice="up"), "choice"),
            (dict(choice="left", both_poor=True), "both_poor"),
            (dict(choice="left", flags=["nonsense"]), "flags"),
            (dict(choice="left", per_criterion={"Nope": "left"}), "per_criterion"),
            (dict(choice="left", per_criterion={"Clarity": "up"}), "per_criterion"),
            (dict(choice="left", submit_token=""), "submit_token"),
        ]
        for kwargs, field in cases:
            kwargs = {"submit_token": "t", **kwargs}
            with pytest.raises(InputError) as exc:
                submit_judgment(session=s, actor=users["u1"], assignment_id=aid, **PINS, **kwargs)
            assert exc.value.field == field
        assert _count(s, Judgment) == 0


def test_both_poor_is_one_rule_a_tie_of_two_poor_responses(study_env):
    """"Both are poor" is its own choice and stores a tie with both_poor; with A or B it is
    refused in plain words (no internal field name in the message the page shows)."""
    engine, users, _ = study_env
    with session_scope(engine) as s:
        aid = _first_task(s, users["u1"]).assignment_id
        with pytest.raises(InputError) as exc:
            submit_judgment(session=s, actor=users["u1"], assignment_id=aid, choice="right", both_poor=True,
                            submit_token="bp0", **PINS)
        assert "both_poor" not in exc.value.message and "Both are poor" in exc.value.message
        assert _count(s, Judgment) == 0
        submit_judgment(session=s, actor=users["u1"], assignment_id=aid, choice="both_poor", submit_token="bp1",
                        **PINS)
        stored = s.exec(select(Judgment)).all()
        assert [(j.winner, j.both_poor) for j in stored] == [("tie", True)]
        study_id = s.get(Assignment, aid).study_id
        rows = my_task_list(session=s, actor=users["u1"], study_id=study_id)
        first = next(r for r in rows if r.assignment_id == aid)
        assert (first.status, first.choice, first.both_poor) == ("done", "tie", True)
        assert all(r.choice is None for r in rows if r.assignment_id != aid)
        # The opening is the query's first words as imported (at most 8 words, "…" if cut).
        text = s.get(Query, s.get(StudyItem, s.get(Assignment, aid).item_id).query_id).original_text
        opening = first.opening.rstrip("…")
        assert opening and " ".join(text.split()).startswith(opening) and len(opening.split()) <= 8


def test_skip_then_served_after_pending(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        first = _first_task(s, users["u1"])
        skip_task(session=s, actor=users["u1"], assignment_id=first.assignment_id)
        seen = []
        while (task := next_task(session=s, actor=users["u1"])) is not None:
            seen.append(task.assignment_id)
            submit_judgment(session=s, actor=users["u1"], assignment_id=task.assignment_id, choice="tie",
                            submit_token=f"k{task.assignment_id}", **PINS)
        assert len(seen) == 6 and seen[-1] == first.assignment_id


def test_stale_when_content_changed_since_shown(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        task = _first_task(s, users["u1"])
        item = s.get(StudyItem, task.item_id)
        query = s.get(Query, item.query_id)
        query.content_revision = 2  # an approved expert edit after the page was shown
        s.add(query)
        s.commit()
        submit_judgment(session=s, actor=users["u1"], assignment_id=task.assignment_id, choice="left",
                        submit_token="st", instruction_version_no=1, content_revision=1)
        judgment = s.exec(select(Judgment)).one()
        assert judgment.stale and judgment.content_revision == 1


def test_two_threads_same_assignment(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        aid = _first_task(s, users["u1"]).assignment_id
    barrier = threading.Barrier(8)
    results, errors = [], []

    def submit(token: str) -> None:
        try:
            with session_scope(engine) as s:
                barrier.wait()
                results.append(submit_judgment(session=s, actor=users["u1"], assignment_id=aid, choice="left",
                                               submit_token=token, **PINS))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # 8 threads replay one submit (double click / refresh): one row, one revision
    threads = [threading.Thread(target=submit, args=("same",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.created for r in results) == 1
    # 8 threads with their own tokens (8 tabs): still one judgment, revisions 2..9, none lost
    barrier.reset()
    threads = [threading.Thread(target=submit, args=(f"tab{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(engine) as s:
        assert _count(s, Judgment) == 1
        revisions = s.exec(select(JudgmentRevision.revision).order_by(JudgmentRevision.revision)).all()
        assert revisions == list(range(1, 10))
        assert s.exec(select(Judgment.revision)).one() == 9


def _process_submit(url: str, user_id: int, aid: int, token: str, barrier) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    with session_scope(engine) as s:
        user = s.get(User, user_id)
        s.commit()  # end the read transaction (BEGIN IMMEDIATE holds SQLite's write lock) before waiting
        barrier.wait()
        submit_judgment(session=s, actor=user, assignment_id=aid, choice="right", submit_token=token, **PINS)
    engine.dispose()


def test_two_processes_same_assignment(study_env, db_url):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        aid = _first_task(s, users["u1"]).assignment_id
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    # four processes: two carry the same token (a re-sent request), two their own
    tokens = ["resent", "resent", "own-1", "own-2"]
    procs = [ctx.Process(target=_process_submit, args=(db_url, users["u1"].id, aid, tok, barrier)) for tok in tokens]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with session_scope(engine) as s:
        assert _count(s, Judgment) == 1
        stored = s.exec(select(JudgmentRevision.submit_token)).all()
        assert sorted(stored) == ["own-1", "own-2", "resent"]  # 3 distinct submits, 3 revisions
        assert s.exec(select(Judgment.revision)).one() == 3


def test_failure_mid_submit_leaves_nothing(study_env, monkeypatch):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        aid = _first_task(s, users["u1"]).assignment_id

        def boom(_conn, _cursor, statement, *_args):
            if _writes_revision(statement):  # after the judgment row, before its revision
                raise RuntimeError("server died")

        event.listen(engine, "before_cursor_execute", boom)
        with pytest.raises(RuntimeError):
            submit_judgment(session=s, actor=users["u1"], assignment_id=aid, choice="left",
                            submit_token="retry-me", **PINS)
        event.remove(engine, "before_cursor_execute", boom)
        assert _count(s, Judgment) == 0
        assert s.get(Assignment, aid).status == "pending"
        result = submit_judgment(session=s, actor=users["u1"], assignment_id=aid, choice="left",
                                 submit_token="retry-me", **PINS)
        assert result.created and result.revision == 1


def _writes_revision(statement: str) -> bool:
    """Is ``statement`` the insert of a judgment revision (the submit's last row)?"""
    return statement.lstrip().upper().startswith("INSERT INTO JUDGMENTREVISION")


def _crashing_submit(url: str, user_id: int, aid: int) -> None:
    def die(_conn, _cursor, statement, *_args):
        if _writes_revision(statement):
            os._exit(3)  # the process vanishes mid-transaction, holding SQLite's write lock

    engine = make_engine(url)  # only in this child process
    event.listen(engine, "before_cursor_execute", die)
    with session_scope(engine) as s:
        submit_judgment(session=s, actor=s.get(User, user_id), assignment_id=aid, choice="left",
                        submit_token="crash", **PINS)


def test_process_crash_mid_submit_then_retry(study_env, db_url):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        aid = _first_task(s, users["u1"]).assignment_id
    proc = multiprocessing.get_context("fork").Process(target=_crashing_submit, args=(db_url, users["u1"].id, aid))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 3
    with session_scope(engine) as s:
        assert _count(s, Judgment) == 0 and _count(s, JudgmentRevision) == 0
        result = submit_judgment(session=s, actor=users["u1"], assignment_id=aid, choice="left",
                                 submit_token="crash", **PINS)
        again = submit_judgment(session=s, actor=users["u1"], assignment_id=aid, choice="left",
                                submit_token="crash", **PINS)
        assert result.created and not again.created
        assert _count(s, Judgment) == 1 and _count(s, JudgmentRevision) == 1


def test_token_reused_on_another_task_is_a_conflict(study_env):
    engine, users, _ = study_env
    with session_scope(engine) as s:
        rows = s.exec(select(Assignment).where(Assignment.annotator_id == users["u1"].id)).all()
        submit_judgment(session=s, actor=users["u1"], assignment_id=rows[0].id, choice="left",
                        submit_token="dup", **PINS)
        with pytest.raises(Conflict):
            submit_judgment(session=s, actor=users["u1"], assignment_id=rows[1].id, choice="left",
                            submit_token="dup", **PINS)
