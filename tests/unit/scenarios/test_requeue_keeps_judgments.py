"""The re-queue walk on the demo: both annotators judge all of demo-study, two queries are
edited and approved, a researcher re-queues, the annotators judge the returned pairs again.

Before the fix, ``annotate export votes --include-stale`` dropped from 30 to 26 rows after the
re-queue (the superseded tasks' judgments were left out), pairs were renumbered (a re-queued
task took the last number and every pair after the old one moved up), and the returned pair
said nothing about why it came back.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from annotate.commands import serve
from annotate.commands.cli import main
from annotate.db.engine import make_engine
from annotate.db.models import Assignment, Query, Study, User
from annotate.services.annotate import came_back, judgments, tasks
from annotate.services.refine import instructions, review, staleness, versions


def _export(db_url: str, path: Path, *extra: str) -> list[dict]:
    assert main(["--db", db_url, "export", "votes", "--study", "demo-study", *extra, str(path)]) == 0
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _judge_all(s: Session, user: User, study_id: int) -> list[int]:
    """Judge every open task of ``user`` ("A is better"); the assignment ids judged, in order."""
    done = []
    while (task := tasks.next_task(session=s, actor=user, study_id=study_id)) is not None:
        judgments.submit_judgment(session=s, actor=user, assignment_id=task.assignment_id, choice="left",
                                  instruction_version_no=task.instruction_version_no,
                                  content_revision=task.content_revision, submit_token=uuid.uuid4().hex,
                                  study_id=study_id)
        done.append(task.assignment_id)
    return done


def _people(s: Session) -> dict[str, User]:
    return {u.username: u for u in s.exec(select(User)).all()}


def _numbers(s: Session, user: User, study_id: int) -> dict[int, int]:
    """Query index -> the pair's number as the annotator's task list shows it."""
    rows = tasks.my_task_list(session=s, actor=user, study_id=study_id)
    out = {}
    for row in rows:
        view = tasks.get_task(session=s, actor=user, assignment_id=row.assignment_id)
        assert view.position == row.position  # the page heading and the list agree
        out[view.query_index] = row.position
    return out


def test_requeue_keeps_every_judgment_exportable_and_pair_numbers(db_url, tmp_path, monkeypatch):
    if not (serve.DEMO_DIR / "queries.jsonl").is_file():
        pytest.skip("annotate/data/demo/queries.jsonl not written yet")
    monkeypatch.setenv("ANNOTATE_DEMO_PASSWORD", "demo-test-password")
    assert main(["--db", db_url, "demo", "--no-serve"]) == 0
    engine = make_engine(db_url)
    with Session(engine) as s:
        people = _people(s)
        study_id = s.exec(select(Study.id).where(Study.name == "demo-study")).one()
        # demo-study: 15 pairs (one per subdomain), overlap 2: annotator1 and annotator2 each judge all 15
        for name in ("annotator1", "annotator2"):
            assert len(_judge_all(s, people[name], study_id)) == 15
        numbers_before = _numbers(s, people["annotator1"], study_id)
        assert sorted(numbers_before.values()) == list(range(1, 16))
    before = _export(db_url, tmp_path / "before.jsonl", "--include-stale")
    assert len(before) == 30  # 15 pairs x 2 annotators, overall rows only (no per-criterion choices)
    assert Counter(r["status"] for r in before) == {"current": 30}

    with Session(engine) as s:  # two experts edit and approve the first two queries
        people = _people(s)
        edited = [q.index for q in s.exec(select(Query).order_by(Query.index)).all()[:2]]
        for index in edited:
            query = s.exec(select(Query).where(Query.index == index)).one()
            head = versions.instruction_head(session=s, query_id=query.id)
            version = instructions.propose_instruction(
                session=s, actor=people["expert1"], query_id=query.id, text=head.text + " Keep it under 300 words.",
                reason="a length makes the task realistic", base_version_no=head.version_no)
            review.review_edit(session=s, actor=people["expert2"], kind="instruction", version_id=version.id,
                               approve=True)
        report = staleness.requeue_stale(session=s, actor=people["researcher1"], study="demo-study")
        # each edited query has one pair in demo-study, judged by both annotators: 2 x 2 = 4 tasks
        assert (report.created, report.annotators) == (4, ["annotator1", "annotator2"])

    after = _export(db_url, tmp_path / "after.jsonl", "--include-stale")
    # nothing acknowledged is lost: the same 30 judgments, 4 of them now superseded (was 26 rows)
    assert len(after) == 30
    assert Counter(r["status"] for r in after) == {"current": 26, "superseded": 4}
    assert {r["question_id"] for r in after if r["status"] == "superseded"} == set(edited)
    assert all(r["stale"] and r["instruction_version"] == 1 for r in after if r["status"] == "superseded")
    # without --include-stale only the 26 current votes remain
    assert len(_export(db_url, tmp_path / "fresh.jsonl")) == 26

    with Session(engine) as s:
        people = _people(s)
        ann1 = people["annotator1"]
        assert tasks.my_progress(session=s, actor=ann1, study_id=study_id) == (13, 15)  # 2 of 15 came back
        # ... and the drop is explained where progress is shown (Home: "2 came back: ...")
        [summary] = [x for x in tasks.my_studies(session=s, actor=ann1) if x.name == "demo-study"]
        assert (summary.done, summary.total, summary.came_back) == (13, 15, 2)
        # the pairs keep their numbers: the returned ones and every other one
        assert _numbers(s, ann1, study_id) == numbers_before
        task = tasks.next_task(session=s, actor=ann1, study_id=study_id)
        assert task is not None and task.query_index in edited
        assert task.position == numbers_before[task.query_index]
        # ... and the annotator is told why the pair is back, and what they chose then
        assert task.came_back == ("This query was changed since you judged it; your earlier judgment "
                                  "(A is better, on query version 1) is kept as stale.")
        assert came_back.judged_instruction_version(session=s, actor=ann1, assignment_id=task.assignment_id) == 1
        assert task.instruction_version_no == 2
        for name in ("annotator1", "annotator2"):
            assert len(_judge_all(s, people[name], study_id)) == 2
        assert tasks.my_progress(session=s, actor=ann1, study_id=study_id) == (15, 15)
        again = tasks.get_task(session=s, actor=ann1, assignment_id=task.assignment_id)
        assert again.came_back == ""  # judged again: the notice has done its work
        assert s.exec(select(Assignment).where(col(Assignment.requeued_from_id).is_not(None))).all()

    final = _export(db_url, tmp_path / "final.jsonl", "--include-stale")
    # 30 earlier judgments (26 current + 4 superseded) + the 4 new ones on the edited queries = 34
    assert len(final) == 34
    assert Counter(r["status"] for r in final) == {"current": 30, "superseded": 4}
    assert sorted((r["question_id"], r["judge"], r["instruction_version"]) for r in final
                  if r["question_id"] in edited) == sorted(
        (q, j, v) for q in edited for j in ("annotator1", "annotator2") for v in (1, 2))
    # every format carries the same rows and the status
    assert main(["--db", db_url, "export", "votes", "--study", "demo-study", "--include-stale", "--format", "csv",
                 str(tmp_path / "final.csv")]) == 0
    csv_lines = (tmp_path / "final.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == 1 + 34 and "status" in csv_lines[0].split(",")
    assert main(["--db", db_url, "export", "votes", "--study", "demo-study", "--include-stale", "--format",
                 "fastchat", str(tmp_path / "final.json")]) == 0
    fastchat = json.loads((tmp_path / "final.json").read_text(encoding="utf-8"))
    assert Counter(r["status"] for r in fastchat) == {"current": 30, "superseded": 4}
    engine.dispose()
