"""An annotator's queue: the next task, one task, skipping, progress.

One word for the judging work: a *task* (this module, the page "Judge pairs", the API's
``/api/v1/tasks``). The table keeps the name ``Assignment``: renaming a table needs a migration.

A :class:`TaskView` holds everything the annotator page shows and nothing it must not:
model names never appear in it. Left and right are already resolved from the
assignment's ``shown_left``. Only the annotator who owns an assignment can open it.

Example:
    >>> task = next_task(session=s, actor=ann)            # doctest: +SKIP
    >>> task.left_text, task.right_text                    # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Row, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from annotate.db.engine import read_transaction
from annotate.db.models import (
    Assignment,
    CriteriaSet,
    Criterion,
    Judgment,
    Query,
    Study,
    StudyItem,
    User,
    id_of,
)
from annotate.services.annotate import came_back
from annotate.services.annotate import task_statements as sql
from annotate.services.content import content
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, NotFound, PermissionDenied
from annotate.services.core.roles import ROLES
from annotate.services.core.statuses import COUNTED_TASK_STATUSES, StudyKind, TaskStatus
from annotate.services.studies.design import error_types_of

log = logging.getLogger(__name__)

OwnedRow = TypeVar("OwnedRow", Assignment, Row[Any])



@dataclass(frozen=True)
class JudgmentView:
    """The annotator's stored answer on a task, in the terms they saw it.

    ``choice`` and ``per_criterion`` values are ``left``/``right``/``tie`` (pairwise);
    ``score``/``error_type`` are set for pointwise ratings.
    """

    choice: str | None
    both_poor: bool
    per_criterion: dict[str, str]
    rationale: str
    flags: list[str]
    elapsed_s: float | None
    revision: int
    stale: bool
    score: int | None = None
    error_type: str = ""


@dataclass(frozen=True)
class TaskView:
    """One task as the annotator page shows it (no model names).

    ``position`` is the pair's number for the annotator (1-based, fixed when the study is made:
    a re-queued task keeps its pair's number; see :func:`pair_numbers`);
    ``done``/``total`` count the annotator's finished and assigned tasks in the study.
    For pointwise studies ``left_text`` is the response and ``right_text`` is empty.
    ``requeued_from_id`` is the task this one replaced when it was re-queued (its query
    changed after the annotator judged it); ``came_back`` is then, until the pair is judged
    again, the sentence that tells the annotator why (:mod:`annotate.services.annotate.came_back`).
    """

    assignment_id: int
    study_name: str
    item_id: int
    query_index: int
    domain1: str
    domain2: str
    lang: str
    instruction: str
    materials: list[tuple[str, str]]
    left_text: str
    right_text: str
    shown_left: str
    criteria: list[tuple[str, str]]
    per_criterion: bool
    instruction_version_no: int
    content_revision: int
    position: int
    total: int
    done: int
    existing: JudgmentView | None
    is_qualification: bool
    kind: str = "pairwise"
    study_id: int = 0
    error_types: tuple[str, ...] = ()
    status: str = TaskStatus.PENDING
    requeued_from_id: int | None = None
    came_back: str = ""


@dataclass(frozen=True)
class TaskRow:
    """One line of the annotator's task list: where the task is, what they answered.

    ``position`` is the pair's number (:func:`pair_numbers`); ``choice`` is ``left``/``right``/``tie``
    as they saw the pair (``None``: not judged);
    ``opening`` is the first words of the query as imported.
    """

    assignment_id: int
    position: int
    status: str
    choice: str | None
    both_poor: bool
    opening: str


@dataclass(frozen=True)
class StudySummary:
    """A study the actor has tasks in, with their progress; ``came_back`` counts the open tasks
    that were re-queued (their query changed after the actor judged them)."""

    study_id: int
    name: str
    kind: str
    status: str
    done: int
    total: int
    came_back: int = 0


# --------------------------------------------------------------------------- content


def query_criteria(session: Session, query_id: int) -> list[tuple[str, str]]:
    """The query's dynamic criteria ``(name, description)``: its latest dynamic set (not a
    requirement subset's checklist), else the imported checklist."""
    set_id = session.exec(
        select(CriteriaSet.id).where(CriteriaSet.method == "dynamic", CriteriaSet.query_id == query_id,
                                     ~col(CriteriaSet.source).startswith("requirement:"))
        .order_by(col(CriteriaSet.id).desc())
    ).first()
    if set_id is not None:
        rows = session.exec(select(Criterion).where(Criterion.criteria_set_id == set_id)
                            .order_by(col(Criterion.position))).all()
        return [(c.name, c.description) for c in rows]
    extra = session.exec(select(Query.extra).where(Query.id == query_id)).first()
    checklist = (extra or {}).get("checklist") or []
    return [(str(c.get("name", "")), str(c.get("criteria_description", ""))) for c in checklist
            if isinstance(c, dict)]


# --------------------------------------------------------------------------- views


def _to_side(canonical: str, shown_left: str) -> str:
    if canonical == "tie":
        return "tie"
    return "left" if canonical == shown_left else "right"


def _existing(row: Row[Any]) -> JudgmentView | None:
    """The stored judgment (pairwise) or rating (pointwise) of a task view row, or ``None``."""
    if row.kind == StudyKind.PAIRWISE:
        if row.judgment_revision is None:
            return None
        return JudgmentView(
            choice=_to_side(row.winner, row.shown_left), both_poor=bool(row.both_poor),
            per_criterion={k: _to_side(v, row.shown_left) for k, v in (row.judgment_per_criterion or {}).items()},
            rationale=row.judgment_rationale, flags=list(row.flags or []), elapsed_s=row.judgment_elapsed_s,
            revision=row.judgment_revision, stale=bool(row.judgment_stale))
    if row.rating_revision is None:
        return None
    return JudgmentView(choice=None, both_poor=False, per_criterion={}, rationale=row.rating_rationale,
                        flags=[], elapsed_s=row.rating_elapsed_s, revision=row.rating_revision,
                        stale=bool(row.rating_stale), score=row.score, error_type=row.error_type)


def _progress(session: Session, study_id: int, annotator_id: int) -> tuple[int, int]:
    done, total = session.exec(
        select(func.sum(case((col(Assignment.status) == TaskStatus.DONE, 1), else_=0)), func.count(col(Assignment.id)))
        .where(Assignment.study_id == study_id, Assignment.annotator_id == annotator_id,
               col(Assignment.status).in_(COUNTED_TASK_STATUSES))
    ).one()
    return int(done or 0), int(total or 0)


def _task_view(session: Session, row: Row[Any]) -> TaskView:
    """Assemble the :class:`TaskView` of a :mod:`task_statements` view row (no ownership check)."""
    if row.instruction_version_no is None:
        raise NotFound(f"query {row.query_index} has no approved instruction")
    materials = ([(doc.title, text) for doc, text in content.current_materials(session=session,
                                                                                query_id=row.query_id)]
                 if row.has_materials else [])
    if row.response_b_id is not None:
        left_text, right_text = (row.text_a, row.text_b) if row.shown_left == "a" else (row.text_b, row.text_a)
    else:
        left_text, right_text = row.text_a, ""
    per_criterion = bool(row.asks_per_criterion)
    existing = _existing(row)
    earlier = came_back.earlier_of(session, row.requeued_from_id) if existing is None else None
    return TaskView(
        assignment_id=row.id, study_name=row.study_name, item_id=row.item_id, query_index=row.query_index,
        domain1=row.domain1, domain2=row.domain2, lang=row.lang, instruction=row.instruction,
        materials=materials, left_text=left_text, right_text=right_text, shown_left=row.shown_left,
        criteria=query_criteria(session, row.query_id) if per_criterion else [], per_criterion=per_criterion,
        instruction_version_no=row.instruction_version_no, content_revision=row.content_revision,
        position=int(row.before or 0) + 1, total=int(row.total or 0), done=int(row.done or 0),
        existing=existing, is_qualification=bool(row.is_qualification), kind=row.kind,
        study_id=row.study_id,
        error_types=(tuple(error_types_of({"error_types": row.error_types})) if row.kind == StudyKind.POINTWISE
                     else ()),
        status=row.status, requeued_from_id=row.requeued_from_id,
        came_back=came_back.came_back_notice(earlier) if earlier is not None else "",
    )


def own_assignment(session: Session, actor: User | None, assignment_id: int, *,
                   study_id: int | None = None) -> Assignment:
    """The assignment if it belongs to ``actor`` (and to study ``study_id``, when given).

    A page always names the study it shows: a task id left over from another study (a
    widget that kept its value when the study changed) is refused, never opened or revised
    under the wrong study's title.

    Raises:
        PermissionDenied: nobody logged in, or the assignment is someone else's.
        NotFound: no such assignment.
        Conflict: the assignment belongs to another study than ``study_id``.
    """
    user = require_role(actor, *ROLES)
    assignment = session.get(Assignment, assignment_id)
    return _check_owner(assignment, user, assignment_id, study_id)


def _check_owner(row: OwnedRow | None, actor: User, assignment_id: int, study_id: int | None) -> OwnedRow:
    """``row`` (an assignment or a task row); refused if there is none, it is someone else's,
    or it is of another study."""
    if row is None:
        raise NotFound(f"there is no task {assignment_id}")
    if row.annotator_id != actor.id:
        raise PermissionDenied("this task is assigned to someone else")
    if study_id is not None and row.study_id != study_id:
        raise Conflict("this task belongs to another study than the one you have open; "
                       "choose that study to open it")
    return row


@dataclass(frozen=True)
class LockedTask:
    """An assignment locked for a submit, with what the submit checks and stores."""

    assignment_id: int
    study_id: int
    shown_left: str
    status: str
    study_name: str
    kind: str
    per_criterion: bool
    error_types: list[str]
    study_status: str
    query_id: int
    content_revision: int


def lock_task(session: Session, actor: User | None, assignment_id: int, *,
              study_id: int | None = None) -> LockedTask:
    """The actor's assignment with its study and query, in one query, the assignment row
    locked ``FOR UPDATE`` (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
    writers) so that concurrent submits on it queue up. Checks and errors as
    :func:`own_assignment`."""
    user = require_role(actor, *ROLES)
    row = session.connection().execute(sql.LOCK_TASK, {"assignment_id": assignment_id}).first()
    row = _check_owner(row, user, assignment_id, study_id)
    return LockedTask(row.id, row.study_id, row.shown_left, row.status, row.study_name, row.kind,
                      bool(row.asks_per_criterion), error_types_of({"error_types": row.error_types}),
                      row.study_status, row.query_id, row.content_revision)


# --------------------------------------------------------------------------- public API


def next_task(*, session: Session, actor: User | None, study_id: int | None = None) -> TaskView | None:
    """The actor's next task: qualification items first, then pending, then skipped ones.

    Only active studies serve tasks; ``None`` when nothing is left.
    """
    user = require_role(actor, *ROLES)
    # One query for the task and everything its view shows (task_statements.NEXT_TASK).
    # A plain read, with no row lock and no write lock: a task belongs to one annotator,
    # so there is nothing to claim. (A lock here, FOR UPDATE SKIP LOCKED on PostgreSQL,
    # gave every call a transaction id and a WAL flush at commit, ~8 ms each; on SQLite
    # BEGIN IMMEDIATE made every read queue behind every writer.) A submit in flight on
    # the queue's head is not waited for: the task is served until that submit commits,
    # and answering it again stores a new revision, never a second judgment.
    if study_id is None:
        stmt, params = sql.NEXT_TASK, {"annotator_id": user.id}
    else:
        stmt, params = sql.NEXT_TASK_IN_STUDY, {"annotator_id": user.id, "study_id": study_id}
    with read_transaction(session):
        row = session.connection().execute(stmt, params).first()
        view = None if row is None else _task_view(session, row)
    return view


def get_task(*, session: Session, actor: User | None, assignment_id: int,
             study_id: int | None = None) -> TaskView:
    """One of the actor's own tasks (to revisit or revise it), in study ``study_id`` if given.

    Raises:
        PermissionDenied: the assignment belongs to another annotator.
        NotFound: no such assignment.
        Conflict: the assignment belongs to another study than ``study_id``.
    """
    user = require_role(actor, *ROLES)
    with read_transaction(session):
        row = session.connection().execute(sql.TASK_BY_ID, {"assignment_id": assignment_id}).first()
        view = _task_view(session, _check_owner(row, user, assignment_id, study_id))
    return view


def skip_task(*, session: Session, actor: User | None, assignment_id: int,
              study_id: int | None = None) -> None:
    """Put a pending task at the back of the queue (served again after the pending ones).

    Raises:
        Conflict: the assignment belongs to another study than ``study_id``.
    """
    assignment = own_assignment(session, actor, assignment_id, study_id=study_id)
    if assignment.status == TaskStatus.PENDING:
        assignment.status = TaskStatus.SKIPPED
        session.add(assignment)
        session.commit()


def my_progress(*, session: Session, actor: User | None, study_id: int) -> tuple[int, int]:
    """``(done, total)`` of the actor's tasks in a study."""
    return _progress(session, study_id, id_of(require_role(actor, *ROLES)))


def pair_numbers(session: Session, study_id: int, annotator_id: int) -> dict[int, int]:
    """Study item id -> the pair's number (1-based) for one annotator in one study.

    A pair's number is the place of the annotator's first task on it (the smallest
    ``position``) among their items, so it is fixed when the study is made: re-queueing a
    task (which appends a new task on the same item at the end of the queue), skipping and
    progress never change it. Ties of position break by item id.

    Example:
        >>> from types import SimpleNamespace as T
        >>> rows = [T(item_id=10, position=0), T(item_id=11, position=1), T(item_id=12, position=2),
        ...         T(item_id=10, position=3)]        # item 10 re-queued to the end of the queue
        >>> _numbers(rows)
        {10: 1, 11: 2, 12: 3}
    """
    rows = session.exec(select(Assignment.item_id, Assignment.position).where(
        Assignment.study_id == study_id, Assignment.annotator_id == annotator_id)).all()
    return _numbers(rows)


def _numbers(rows: Any) -> dict[int, int]:
    first: dict[int, int] = {}
    for row in rows:
        first[row.item_id] = min(first.get(row.item_id, row.position), row.position)
    return {item: n for n, item in enumerate(sorted(first, key=lambda i: (first[i], i)), start=1)}


def my_tasks(*, session: Session, actor: User | None, study_id: int) -> list[tuple[int, int, str]]:
    """The actor's tasks in a study as ``(assignment_id, pair number, status)`` in the pairs' order
    (:func:`pair_numbers`)."""
    user = require_role(actor, *ROLES)
    rows = session.exec(
        select(col(Assignment.id), Assignment.status, Assignment.item_id).where(
            Assignment.study_id == study_id, Assignment.annotator_id == user.id,
            col(Assignment.status).in_(COUNTED_TASK_STATUSES))
    ).all()
    numbers = pair_numbers(session, study_id, id_of(user))
    return sorted(((cast(int, aid), numbers[item], status) for aid, status, item in rows),  # stored ids
                  key=lambda r: r[1])


OPENING_CHARS = 120
"""How much of a query :func:`my_task_list` reads (the list shows its first words)."""


def opening_words(text: str, words: int = 8, chars: int = 48) -> str:
    """The first ``words`` words of ``text`` (at most ``chars`` characters), with "…" when cut.

    Chinese has no spaces between words, so the character limit also applies.

    Example:
        >>> opening_words("Write a short poem about the sea at night, in rhyme")
        'Write a short poem about the sea at…'
        >>> opening_words("请写一篇关于秋天校园的散文", chars=6)
        '请写一篇关于…'
    """
    parts = " ".join((text or "").split()).split(" ")
    head = " ".join(parts[:words])
    cut = len(parts) > words
    if len(head) > chars:
        head, cut = head[:chars].rstrip(), True
    return head + ("…" if cut else "")


def my_task_list(*, session: Session, actor: User | None, study_id: int) -> list[TaskRow]:
    """The actor's tasks in a study by pair number (:func:`pair_numbers`), each with its answer
    and the opening of its query (for the "skipped" and "my judgments" lists)."""
    user = require_role(actor, *ROLES)
    rows = session.execute(  # seven columns: more than sqlmodel's select() is typed for
        sa_select(col(Assignment.id), col(Assignment.status), col(Assignment.shown_left), col(Judgment.winner),
                  col(Judgment.both_poor), func.substr(col(Query.original_text), 1, OPENING_CHARS),
                  col(Assignment.item_id))
        .join(StudyItem, col(StudyItem.id) == Assignment.item_id).join(Query, col(Query.id) == StudyItem.query_id)
        .outerjoin(Judgment, col(Judgment.assignment_id) == Assignment.id)
        .where(col(Assignment.study_id) == study_id, col(Assignment.annotator_id) == user.id,
               col(Assignment.status).in_(COUNTED_TASK_STATUSES))
    ).all()
    numbers = pair_numbers(session, study_id, id_of(user))
    out = [TaskRow(aid, numbers[item], status, None if winner is None else _to_side(winner, shown_left),
                   bool(both_poor), opening_words(text or ""))
           for aid, status, shown_left, winner, both_poor, text, item in rows]
    return sorted(out, key=lambda row: row.position)


def my_studies(*, session: Session, actor: User | None) -> list[StudySummary]:
    """Studies the actor has tasks in, with their progress, oldest first."""
    user = require_role(actor, *ROLES)
    returned = case((col(Assignment.requeued_from_id).is_not(None) & (col(Assignment.status) != TaskStatus.DONE), 1),
                    else_=0)
    rows = session.execute(  # seven columns: more than sqlmodel's select() is typed for
        sa_select(col(Study.id), col(Study.name), col(Study.kind), col(Study.status),
                  func.sum(case((col(Assignment.status) == TaskStatus.DONE, 1), else_=0)), func.count(col(Assignment.id)),
                  func.sum(returned))
        .join(Assignment, col(Assignment.study_id) == Study.id)
        .where(col(Assignment.annotator_id) == user.id, col(Assignment.status).in_(COUNTED_TASK_STATUSES))
        .group_by(col(Study.id), col(Study.name), col(Study.kind), col(Study.status)).order_by(col(Study.id))
    ).all()
    return [StudySummary(sid, name, kind, status, int(done or 0), int(total), int(back or 0))
            for sid, name, kind, status, done, total, back in rows]
