"""An annotator's queue: the next task, one task, skipping, progress.

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

from sqlalchemy import case, func
from sqlmodel import Session, select

from annotate.db.engine import read_transaction
from annotate.db.models import (
    Assignment,
    CriteriaSet,
    Criterion,
    Domain,
    Judgment,
    PointwiseRating,
    Query,
    Response,
    Study,
    StudyItem,
    Subdomain,
    User,
)
from annotate.navigation import ROLES
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, NotFound, PermissionDenied
from annotate.services.core.taxonomy import join_taxonomy

log = logging.getLogger(__name__)

OPEN_STATUSES = ("pending", "skipped")
COUNTED_STATUSES = ("pending", "skipped", "done")


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

    ``position`` is the 1-based place of the task in the annotator's queue of the study;
    ``done``/``total`` count the annotator's finished and assigned tasks in the study.
    For pointwise studies ``left_text`` is the response and ``right_text`` is empty.
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
    status: str = "pending"


@dataclass(frozen=True)
class TaskRow:
    """One line of the annotator's task list: where the task is, what they answered.

    ``choice`` is ``left``/``right``/``tie`` as they saw the pair (``None``: not judged);
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
    """A study the actor has tasks in, with their progress."""

    study_id: int
    name: str
    kind: str
    status: str
    done: int
    total: int


# --------------------------------------------------------------------------- content


def query_content(session: Session, query: Query) -> tuple[str, int, list[tuple[str, str]]]:
    """``(instruction text, instruction version, [(material title, kept text)])`` shown now.

    Uses :mod:`annotate.services.content.content` (current approved instruction and pruned
    materials); before that module exists, the imported text is version 1 with no materials.
    """
    try:
        from annotate.services.content import content
    except ImportError:  # foundation part not there yet
        return query.original_text, 1, []
    version = content.current_instruction(session=session, query_id=query.id)
    materials = [(doc.title, text) for doc, text in content.current_materials(session=session, query_id=query.id)]
    return version.text, version.version_no, materials


def query_criteria(session: Session, query: Query) -> list[tuple[str, str]]:
    """The query's dynamic criteria ``(name, description)``: its latest dynamic set (not a
    requirement subset's checklist), else the imported checklist."""
    set_id = session.exec(
        select(CriteriaSet.id).where(CriteriaSet.method == "dynamic", CriteriaSet.query_id == query.id,
                                     ~CriteriaSet.source.startswith("requirement:"))
        .order_by(CriteriaSet.id.desc())
    ).first()
    if set_id is not None:
        rows = session.exec(select(Criterion).where(Criterion.criteria_set_id == set_id)
                            .order_by(Criterion.position)).all()
        return [(c.name, c.description) for c in rows]
    checklist = (query.extra or {}).get("checklist") or []
    return [(str(c.get("name", "")), str(c.get("criteria_description", ""))) for c in checklist
            if isinstance(c, dict)]


# --------------------------------------------------------------------------- views


def _to_side(canonical: str, shown_left: str) -> str:
    if canonical == "tie":
        return "tie"
    return "left" if canonical == shown_left else "right"


def judgment_view(session: Session, assignment: Assignment, kind: str = "pairwise") -> JudgmentView | None:
    """The stored judgment or rating of ``assignment`` in left/right terms, or ``None``."""
    if kind == "pairwise":
        judgment = session.exec(select(Judgment).where(Judgment.assignment_id == assignment.id)).first()
        if judgment is None:
            return None
        return JudgmentView(
            choice=_to_side(judgment.winner, assignment.shown_left), both_poor=judgment.both_poor,
            per_criterion={k: _to_side(v, assignment.shown_left) for k, v in (judgment.per_criterion or {}).items()},
            rationale=judgment.rationale, flags=list(judgment.flags or []), elapsed_s=judgment.elapsed_s,
            revision=judgment.revision, stale=judgment.stale)
    rating = session.exec(select(PointwiseRating).where(PointwiseRating.assignment_id == assignment.id)).first()
    if rating is None:
        return None
    return JudgmentView(choice=None, both_poor=False, per_criterion={}, rationale=rating.rationale,
                        flags=[], elapsed_s=rating.elapsed_s, revision=rating.revision,
                        stale=rating.stale, score=rating.score, error_type=rating.error_type)


def _progress(session: Session, study_id: int, annotator_id: int) -> tuple[int, int]:
    done, total = session.exec(
        select(func.sum(case((Assignment.status == "done", 1), else_=0)), func.count(Assignment.id))
        .where(Assignment.study_id == study_id, Assignment.annotator_id == annotator_id,
               Assignment.status.in_(COUNTED_STATUSES))
    ).one()
    return int(done or 0), int(total or 0)


def build_task_view(session: Session, assignment: Assignment,
                    rows: tuple[StudyItem, Study, Query, str, str] | None = None) -> TaskView:
    """Assemble the :class:`TaskView` of ``assignment`` (no ownership check: callers do it).

    ``rows`` is ``(item, study, query, domain2, domain1)`` of the assignment when the caller
    has already read them (as :func:`next_task` does); otherwise they are read here.
    """
    from annotate.services.studies.studies import study_error_types

    if rows is None:
        rows = session.exec(join_taxonomy(
            select(StudyItem, Study, Query, Subdomain.name, Domain.name)
            .join(Study, Study.id == StudyItem.study_id)
            .join(Query, Query.id == StudyItem.query_id))
            .where(StudyItem.id == assignment.item_id)
        ).one()
    item, study, query, d2, d1 = rows
    instruction, version_no, materials = query_content(session, query)
    wanted = [rid for rid in (item.response_a_id, item.response_b_id) if rid is not None]
    texts = dict(session.exec(select(Response.id, Response.text).where(Response.id.in_(wanted))).all())
    if item.response_b_id is not None:
        text_a, text_b = texts[item.response_a_id], texts[item.response_b_id]
        left_text, right_text = (text_a, text_b) if assignment.shown_left == "a" else (text_b, text_a)
    else:
        left_text, right_text = texts[item.response_a_id], ""
    settings = study.settings or {}
    per_criterion = bool(settings.get("per_criterion"))
    done, total, before = session.exec(
        select(func.sum(case((Assignment.status == "done", 1), else_=0)), func.count(Assignment.id),
               func.sum(case((Assignment.position < assignment.position, 1), else_=0)))
        .where(Assignment.study_id == study.id, Assignment.annotator_id == assignment.annotator_id,
               Assignment.status.in_(COUNTED_STATUSES))
    ).one()
    return TaskView(
        assignment_id=assignment.id, study_name=study.name, item_id=item.id, query_index=query.index,
        domain1=d1, domain2=d2, lang=query.lang, instruction=instruction,
        materials=materials, left_text=left_text, right_text=right_text, shown_left=assignment.shown_left,
        criteria=query_criteria(session, query) if per_criterion else [], per_criterion=per_criterion,
        instruction_version_no=version_no, content_revision=query.content_revision,
        position=int(before or 0) + 1, total=int(total or 0), done=int(done or 0),
        existing=judgment_view(session, assignment, study.kind),
        is_qualification=item.is_qualification, kind=study.kind, study_id=study.id,
        error_types=tuple(study_error_types(study)) if study.kind == "pointwise" else (),
        status=assignment.status,
    )


def own_assignment(session: Session, actor: User | None, assignment_id: int, *,
                   lock: bool = False, study_id: int | None = None) -> Assignment:
    """The assignment if it belongs to ``actor`` (and to study ``study_id``, when given).

    With ``lock=True`` the row is read ``FOR UPDATE`` (PostgreSQL), so concurrent submits
    on one assignment queue up; SQLite's ``BEGIN IMMEDIATE`` already serialises writers.
    A page always names the study it shows: a task id left over from another study (a
    widget that kept its value when the study changed) is refused, never opened or revised
    under the wrong study's title.

    Raises:
        PermissionDenied: nobody logged in, or the assignment is someone else's.
        NotFound: no such assignment.
        Conflict: the assignment belongs to another study than ``study_id``.
    """
    require_role(actor, *ROLES)
    if lock:
        assignment = session.exec(
            select(Assignment).where(Assignment.id == assignment_id).with_for_update()
            .execution_options(populate_existing=True)).first()
    else:
        assignment = session.get(Assignment, assignment_id)
    return _check_own(assignment, actor, assignment_id, study_id)


def _check_own(assignment: Assignment | None, actor: User, assignment_id: int,
               study_id: int | None) -> Assignment:
    if assignment is None:
        raise NotFound(f"there is no task {assignment_id}")
    if assignment.annotator_id != actor.id:
        raise PermissionDenied("this task is assigned to someone else")
    if study_id is not None and assignment.study_id != study_id:
        raise Conflict("this task belongs to another study than the one you have open; "
                       "choose that study to open it")
    return assignment


def lock_own_task(session: Session, actor: User | None, assignment_id: int, *,
                  study_id: int | None = None) -> tuple[Assignment, Study, StudyItem, Query]:
    """The actor's assignment with its study, item and query, in one query, the assignment
    row locked ``FOR UPDATE`` (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
    writers) so that concurrent submits on it queue up. Checks and errors as
    :func:`own_assignment`."""
    require_role(actor, *ROLES)
    row = session.exec(
        select(Assignment, Study, StudyItem, Query)
        .join(StudyItem, StudyItem.id == Assignment.item_id)
        .join(Study, Study.id == StudyItem.study_id)
        .join(Query, Query.id == StudyItem.query_id)
        .where(Assignment.id == assignment_id)
        .with_for_update(of=Assignment)
        .execution_options(populate_existing=True)).first()
    assignment = _check_own(None if row is None else row[0], actor, assignment_id, study_id)
    return assignment, row[1], row[2], row[3]


# --------------------------------------------------------------------------- public API


def next_task(*, session: Session, actor: User | None, study_id: int | None = None) -> TaskView | None:
    """The actor's next task: qualification items first, then pending, then skipped ones.

    Only active studies serve tasks; ``None`` when nothing is left.
    """
    require_role(actor, *ROLES)
    # The task and what its view shows about it (item, study, query, domains) in one query.
    stmt = join_taxonomy(
        select(Assignment, StudyItem, Study, Query, Subdomain.name, Domain.name)
        .join(StudyItem, StudyItem.id == Assignment.item_id)
        .join(Study, Study.id == Assignment.study_id)
        .join(Query, Query.id == StudyItem.query_id)
    ).where(Assignment.annotator_id == actor.id, Assignment.status.in_(OPEN_STATUSES),
            Study.status == "active")
    if study_id is not None:
        stmt = stmt.where(Assignment.study_id == study_id)
    stmt = stmt.order_by(
        Assignment.study_id,
        case((StudyItem.is_qualification, 0), else_=1),
        case((Assignment.status == "pending", 0), else_=1),
        Assignment.position,
    )
    # A plain read, with no row lock and no write lock: a task belongs to one annotator,
    # so there is nothing to claim. (A lock here, FOR UPDATE SKIP LOCKED on PostgreSQL,
    # gave every call a transaction id and a WAL flush at commit, ~8 ms each; on SQLite
    # BEGIN IMMEDIATE made every read queue behind every writer.) A submit in flight on
    # the queue's head is not waited for: the task is served until that submit commits,
    # and answering it again stores a new revision, never a second judgment.
    with read_transaction(session):
        row = session.exec(stmt.limit(1)).first()
        view = None if row is None else build_task_view(session, row[0], tuple(row[1:]))
    return view


def get_task(*, session: Session, actor: User | None, assignment_id: int,
             study_id: int | None = None) -> TaskView:
    """One of the actor's own tasks (to revisit or revise it), in study ``study_id`` if given.

    Raises:
        PermissionDenied: the assignment belongs to another annotator.
        NotFound: no such assignment.
        Conflict: the assignment belongs to another study than ``study_id``.
    """
    with read_transaction(session):
        view = build_task_view(session, own_assignment(session, actor, assignment_id, study_id=study_id))
    return view


def skip_task(*, session: Session, actor: User | None, assignment_id: int,
              study_id: int | None = None) -> None:
    """Put a pending task at the back of the queue (served again after the pending ones).

    Raises:
        Conflict: the assignment belongs to another study than ``study_id``.
    """
    assignment = own_assignment(session, actor, assignment_id, study_id=study_id)
    if assignment.status == "pending":
        assignment.status = "skipped"
        session.add(assignment)
        session.commit()


def my_progress(*, session: Session, actor: User | None, study_id: int) -> tuple[int, int]:
    """``(done, total)`` of the actor's tasks in a study."""
    require_role(actor, *ROLES)
    return _progress(session, study_id, actor.id)


def my_tasks(*, session: Session, actor: User | None, study_id: int) -> list[tuple[int, int, str]]:
    """The actor's tasks in a study as ``(assignment_id, position 1-based, status)`` in queue order."""
    require_role(actor, *ROLES)
    rows = session.exec(
        select(Assignment.id, Assignment.status).where(
            Assignment.study_id == study_id, Assignment.annotator_id == actor.id,
            Assignment.status.in_(COUNTED_STATUSES)).order_by(Assignment.position)
    ).all()
    return [(aid, pos + 1, status) for pos, (aid, status) in enumerate(rows)]


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
    """The actor's tasks in a study in queue order, each with its answer and the opening of
    its query (for the "skipped" and "my judgments" lists)."""
    require_role(actor, *ROLES)
    rows = session.exec(
        select(Assignment.id, Assignment.status, Assignment.shown_left, Judgment.winner, Judgment.both_poor,
               func.substr(Query.original_text, 1, OPENING_CHARS))
        .join(StudyItem, StudyItem.id == Assignment.item_id).join(Query, Query.id == StudyItem.query_id)
        .outerjoin(Judgment, Judgment.assignment_id == Assignment.id)
        .where(Assignment.study_id == study_id, Assignment.annotator_id == actor.id,
               Assignment.status.in_(COUNTED_STATUSES)).order_by(Assignment.position)
    ).all()
    return [TaskRow(aid, pos + 1, status, None if winner is None else _to_side(winner, shown_left),
                    bool(both_poor), opening_words(text or ""))
            for pos, (aid, status, shown_left, winner, both_poor, text) in enumerate(rows)]


def my_studies(*, session: Session, actor: User | None) -> list[StudySummary]:
    """Studies the actor has tasks in, with their progress, oldest first."""
    require_role(actor, *ROLES)
    rows = session.exec(
        select(Study.id, Study.name, Study.kind, Study.status,
               func.sum(case((Assignment.status == "done", 1), else_=0)), func.count(Assignment.id))
        .join(Assignment, Assignment.study_id == Study.id)
        .where(Assignment.annotator_id == actor.id, Assignment.status.in_(COUNTED_STATUSES))
        .group_by(Study.id, Study.name, Study.kind, Study.status).order_by(Study.id)
    ).all()
    return [StudySummary(sid, name, kind, status, int(done or 0), int(total)) for sid, name, kind, status, done, total
            in rows]
