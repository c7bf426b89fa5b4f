"""Prepared SQL for the annotator's hot path: show a task, lock it for a submit, read its
judgment state.

Each statement is built once, at import, in SQLAlchemy Core over the model tables, and run
with bound parameters on the session's connection: no ORM objects are made per request,
the statement's cache key is computed once (not on every call), and each read is one round
trip. A task view (:data:`TASK_BY_ID`, :data:`NEXT_TASK`) reads the assignment, its item,
study, query, taxonomy, both response texts, the current approved instruction, the stored
judgment or rating and the annotator's progress in a single ``SELECT``.

Example:
    >>> print(" ".join(str(LOCK_TASK).split())[:58])
    SELECT assignment.id, assignment.annotator_id, assignment.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import SQLModel

from annotate.db import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from annotate.services.core.statuses import (
    COUNTED_TASK_STATUSES,
    OPEN_TASK_STATUSES,
    DocumentStatus,
    StudyStatus,
    TaskStatus,
    VersionStatus,
)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


assignment = _table("assignment")
item = _table("studyitem")
study = _table("study")
query = _table("query")
subdomain = _table("subdomain")
domain = _table("domain")
judgment = _table("judgment")
judgment_revision = _table("judgmentrevision")
rating = _table("pointwiserating")
rating_revision = _table("pointwiseratingrevision")
instruction = _table("instructionversion")
material_document = _table("materialdocument")
response_a = _table("response").alias("response_a")
response_b = _table("response").alias("response_b")
counted = assignment.alias("counted")
origin = assignment.alias("origin")
first_of_item = assignment.alias("first_of_item")


def _status_in(column: ColumnElement[str], statuses: tuple[str, ...]) -> ColumnElement[bool]:
    # ``a = :p1 OR a = :p2``: plain bound parameters. ``IN`` takes an "expanding" parameter
    # that SQLAlchemy renders into the SQL again on every execution.
    return or_(*(column == status for status in statuses))


def _latest_approved_instruction() -> Select:
    """The query's approved instruction version with the highest number (correlated)."""
    return (select(instruction.c.version_no,
                   func.coalesce(instruction.c.text, query.c.original_text).label("text"))
            .where(instruction.c.query_id == query.c.id, instruction.c.status == VersionStatus.APPROVED)
            .order_by(instruction.c.version_no.desc()).limit(1))


def _settings_fields() -> tuple[ColumnElement[object], ...]:
    # The two settings a task needs, read in SQL: the whole settings document (design
    # parameters, every annotator's name) is large and costs a JSON decode per request.
    return (study.c.settings["per_criterion"].as_boolean().label("asks_per_criterion"),
            study.c.settings["error_types"].as_json().label("error_types"))


def _count(condition: ColumnElement[bool] | None = None) -> ScalarSelect[int]:
    """A correlated count of the annotator's counted tasks in the same study."""
    where = [counted.c.study_id == assignment.c.study_id, counted.c.annotator_id == assignment.c.annotator_id,
             _status_in(counted.c.status, COUNTED_TASK_STATUSES)]
    if condition is not None:
        where.append(condition)
    return select(func.count()).select_from(counted).where(*where).scalar_subquery()


def _pair_number_before() -> ScalarSelect[int]:
    """How many pairs come before this task's pair in the annotator's numbering of the study.

    The number is fixed when the study is made: a task's pair is numbered by the place of the
    annotator's *first* task on the same item (the smallest ``position``; a re-queued task goes
    to the end of the queue, so its first task is the original one) among the annotator's
    original tasks (``requeued_from_id`` empty, any status). Re-queueing, skipping and
    progress never renumber a pair.
    """
    first = (select(func.min(first_of_item.c.position))
             .where(first_of_item.c.study_id == assignment.c.study_id,
                    first_of_item.c.annotator_id == assignment.c.annotator_id,
                    first_of_item.c.item_id == assignment.c.item_id)
             .correlate_except(first_of_item).scalar_subquery())  # two levels up: correlate explicitly
    return (select(func.count()).select_from(origin)
            .where(origin.c.study_id == assignment.c.study_id, origin.c.annotator_id == assignment.c.annotator_id,
                   origin.c.requeued_from_id.is_(None), origin.c.position < first)
            .correlate_except(origin).scalar_subquery())


def _task_view_select() -> Select:
    latest = _latest_approved_instruction()
    return (
        select(
            assignment.c.id, assignment.c.study_id, assignment.c.annotator_id, assignment.c.shown_left,
            assignment.c.position, assignment.c.status, assignment.c.requeued_from_id,
            item.c.id.label("item_id"), item.c.response_b_id, item.c.is_qualification,
            study.c.name.label("study_name"), study.c.kind, *_settings_fields(),
            study.c.status.label("study_status"), query.c.id.label("query_id"), query.c.index.label("query_index"), query.c.lang,
            query.c.content_revision,
            subdomain.c.name.label("domain2"), domain.c.name.label("domain1"),
            response_a.c.text.label("text_a"), response_b.c.text.label("text_b"),
            latest.with_only_columns(instruction.c.version_no).scalar_subquery().label("instruction_version_no"),
            latest.with_only_columns(func.coalesce(instruction.c.text, query.c.original_text))
            .scalar_subquery().label("instruction"),
            exists().where(material_document.c.query_id == query.c.id,
                           material_document.c.status == DocumentStatus.ACTIVE).label("has_materials"),
            judgment.c.winner, judgment.c.both_poor, judgment.c.per_criterion.label("judgment_per_criterion"),
            judgment.c.rationale.label("judgment_rationale"), judgment.c.flags,
            judgment.c.elapsed_s.label("judgment_elapsed_s"), judgment.c.revision.label("judgment_revision"),
            judgment.c.stale.label("judgment_stale"),
            rating.c.score, rating.c.error_type, rating.c.rationale.label("rating_rationale"),
            rating.c.elapsed_s.label("rating_elapsed_s"), rating.c.revision.label("rating_revision"),
            rating.c.stale.label("rating_stale"),
            _count().label("total"),
            _count(counted.c.status == TaskStatus.DONE).label("done"),
            _pair_number_before().label("before"),
        )
        .select_from(
            assignment.join(item, item.c.id == assignment.c.item_id)
            .join(study, study.c.id == assignment.c.study_id)
            .join(query, query.c.id == item.c.query_id)
            .join(subdomain, subdomain.c.id == query.c.subdomain_id)
            .join(domain, domain.c.id == subdomain.c.domain_id)
            .join(response_a, response_a.c.id == item.c.response_a_id)
            .outerjoin(response_b, response_b.c.id == item.c.response_b_id)
            .outerjoin(judgment, judgment.c.assignment_id == assignment.c.id)
            .outerjoin(rating, rating.c.assignment_id == assignment.c.id))
    )


TASK_BY_ID = _task_view_select().where(assignment.c.id == bindparam("assignment_id"))
"""The view row of one assignment (parameter ``assignment_id``); ownership is checked by the caller."""

_NEXT_ORDER = (assignment.c.study_id, case((item.c.is_qualification, 0), else_=1),
               case((assignment.c.status == TaskStatus.PENDING, 0), else_=1), assignment.c.position)
_NEXT_WHERE = and_(assignment.c.annotator_id == bindparam("annotator_id"),
                   _status_in(assignment.c.status, OPEN_TASK_STATUSES), study.c.status == StudyStatus.ACTIVE)



def _next_open_task(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    # The choice of the task runs on the three tables it needs; the view's joins, JSON
    # reads and counts then run for that one row (as one statement they ran for every open
    # task of the annotator before the sort: ~8 ms on PostgreSQL with 20 open tasks).
    return (select(assignment.c.id)
            .select_from(assignment.join(item, item.c.id == assignment.c.item_id)
                         .join(study, study.c.id == assignment.c.study_id))
            .where(_NEXT_WHERE, *conditions).order_by(*_NEXT_ORDER).limit(1).scalar_subquery())


NEXT_TASK = _task_view_select().where(assignment.c.id == _next_open_task())
"""The view row of the annotator's next open task in any active study (``annotator_id``):
qualification items first, then pending, then skipped, in queue order."""

NEXT_TASK_IN_STUDY = _task_view_select().where(
    assignment.c.id == _next_open_task(assignment.c.study_id == bindparam("study_id")))
"""As :data:`NEXT_TASK`, within one study (``annotator_id``, ``study_id``)."""

LOCK_TASK = (
    select(assignment.c.id, assignment.c.annotator_id, assignment.c.study_id, assignment.c.shown_left,
           assignment.c.status, study.c.name.label("study_name"), study.c.kind, *_settings_fields(),
           study.c.status.label("study_status"), query.c.id.label("query_id"), query.c.content_revision)
    .select_from(assignment.join(item, item.c.id == assignment.c.item_id)
                 .join(study, study.c.id == assignment.c.study_id)
                 .join(query, query.c.id == item.c.query_id))
    .where(assignment.c.id == bindparam("assignment_id"))
    .with_for_update(of=assignment)
)
"""The assignment (``assignment_id``) with what a submit checks, its row locked ``FOR UPDATE``
on PostgreSQL (SQLite renders no lock: ``BEGIN IMMEDIATE`` already serialises writers)."""

_token_revision = judgment_revision.alias("token_revision")
_token_judgment = judgment.alias("token_judgment")
JUDGMENT_STATE = (
    select(judgment.c.id.label("judgment_id"), judgment.c.revision,
           _token_revision.c.judgment_id.label("token_judgment_id"),
           _token_revision.c.revision.label("token_revision"),
           _token_judgment.c.assignment_id.label("token_assignment_id"))
    .select_from(assignment.outerjoin(judgment, judgment.c.assignment_id == assignment.c.id)
                 .outerjoin(_token_revision, _token_revision.c.submit_token == bindparam("token"))
                 .outerjoin(_token_judgment, _token_judgment.c.id == _token_revision.c.judgment_id))
    .where(assignment.c.id == bindparam("assignment_id"))
)
"""After :data:`LOCK_TASK` (a fresh snapshot in the same transaction): the task's judgment
(id, revision) and, if ``token`` was recorded before, the judgment, revision and task it was
recorded on."""

MARK_DONE = (assignment.update().where(assignment.c.id == bindparam("assignment_id"),
                                       assignment.c.status != TaskStatus.DONE).values(status=TaskStatus.DONE))
"""Set a task's status to ``done`` (a no-op when it already is)."""
