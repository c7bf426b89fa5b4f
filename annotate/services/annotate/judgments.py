"""Submitting judgments exactly once, revising them with history, pointwise ratings.

Exactly-once rests on three things, none of which depends on the page behaving:

1. ``Judgment.assignment_id`` (and ``PointwiseRating.assignment_id``) is unique, so two
   processes cannot both create the first judgment of a task: the loser gets an
   ``IntegrityError``, rolls back and retries, and then sees the winner's row.
2. Every submit carries a ``submit_token`` made by the page when it shows the task. A
   token already stored (on a :class:`JudgmentRevision` or a
   :class:`PointwiseRatingRevision`, any revision) means "this very submit was already
   recorded": the stored result is returned and nothing is written. A
   double click, a refresh that re-sends the form, or a retry after a crash therefore
   never adds a row.
3. One transaction per submit: the judgment, its revision row and the assignment status
   are committed together or not at all (a crash mid-submit leaves nothing).

A submit with a new token on an already judged task is a *revision*: the judgment is
updated in place, ``revision`` goes up by one and a :class:`JudgmentRevision` (for a rating,
a :class:`PointwiseRatingRevision`) is appended.

Example:
    >>> r = submit_judgment(session=s, actor=ann, assignment_id=1, choice="left",
    ...                     instruction_version_no=1, content_revision=1,
    ...                     submit_token="tok-1")              # doctest: +SKIP
    >>> (r.revision, r.created)                                # doctest: +SKIP
    (1, True)
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from annotate.db.models import (
    Assignment,
    Judgment,
    JudgmentRevision,
    PointwiseRating,
    PointwiseRatingRevision,
    User,
    id_of,
    utcnow,
)
from annotate.services.annotate import active_time
from annotate.services.annotate import task_statements as sql
from annotate.services.annotate.tasks import LockedTask, lock_task, query_criteria
from annotate.services.core.authz import has_role, require_role
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied
from annotate.services.core.roles import MANAGERS, ROLES
from annotate.services.core.statuses import StudyStatus, TaskStatus
from annotate.services.core.write_gate import sqlite_turn

log = logging.getLogger(__name__)

CHOICES = ("left", "right", "tie")
BOTH_POOR = "both_poor"
"""The fourth choice, "Both are poor": stored as a tie with ``both_poor`` (exported as
``tie (bothbad)``, as in Chatbot Arena). The one rule everywhere: "both are poor" is a
tie, never A or B; ``choice="tie", both_poor=True`` means the same."""
FLAGS = ("query_problem", "response_cut_off", "needs_expert", "needs_materials")
MAX_ATTEMPTS = 5
LOW_SCORE = 2
"""Pointwise ratings at or below this need an error type."""


@dataclass(frozen=True)
class SubmitResult:
    """What a submit stored: the judgment (or rating) id, its revision, and whether this
    call wrote it (``False`` when the token had been recorded before)."""

    judgment_id: int
    revision: int
    created: bool


def to_canonical(choice: str, shown_left: str) -> str:
    """Map a left/right/tie choice to the canonical ``a``/``b``/``tie``.

    Example:
        >>> to_canonical("left", "b"), to_canonical("right", "b"), to_canonical("tie", "a")
        ('b', 'a', 'tie')
    """
    if choice == "tie":
        return "tie"
    other = "b" if shown_left == "a" else "a"
    return shown_left if choice == "left" else other


def _check_token(submit_token: str) -> str:
    token = (submit_token or "").strip()
    if not token or len(token) > 100:
        raise InputError("a submit token of 1 to 100 characters is required", field="submit_token")
    return token


def _check_flags(flags: Iterable[str]) -> list[str]:
    flags = list(flags or [])
    unknown = [f for f in flags if f not in FLAGS]
    if unknown:
        raise InputError(f"unknown flags {unknown}; allowed: {', '.join(FLAGS)}", field="flags")
    return sorted(set(flags), key=flags.index)


def _check_elapsed(elapsed_s: float | None) -> float | None:
    if elapsed_s is None:
        return None
    value = float(elapsed_s)
    if not value >= 0:
        raise InputError(f"elapsed time must be >= 0 seconds, not {elapsed_s}", field="elapsed_s")
    return value


def _open_task(session: Session, actor: User | None, assignment_id: int, kind: str,
               study_id: int | None = None) -> LockedTask:
    # Lock the task row for the rest of the submit transaction: on PostgreSQL two servers
    # submitting the same task queue up here (SELECT ... FOR UPDATE) instead of both
    # reading the same revision; SQLite renders no FOR UPDATE (BEGIN IMMEDIATE already
    # serialises writers).
    task = lock_task(session, actor, assignment_id, study_id=study_id)
    if task.kind != kind:
        raise Conflict(f"study {task.study_name!r} is a {task.kind} study")
    if task.study_status != StudyStatus.ACTIVE:
        raise Conflict(f"study {task.study_name!r} is closed")
    if task.status == TaskStatus.SUPERSEDED:
        raise Conflict("this task was replaced by another one")
    return task


def _mark_done(session: Session, task: LockedTask) -> None:
    """The task's status becomes ``done`` (in the submit's transaction)."""
    if task.status != TaskStatus.DONE:
        session.connection().execute(sql.MARK_DONE, {"assignment_id": task.assignment_id})


def _forget_loaded(session: Session, *rows: tuple[type, int]) -> None:
    """Expire the session's copies of rows a submit changed with SQL (so a caller that loaded
    them before reads the stored values, not the old ones)."""
    for model, key in rows:
        loaded = session.identity_map.get(identity_key(model, key))
        if loaded is not None:
            session.expire(loaded)


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return "database is locked" in text or "database is busy" in text


def _with_retries(session: Session, work: Callable[[], SubmitResult]) -> SubmitResult:
    """Run ``work()`` and commit, all in one transaction.

    On a unique-constraint race (another process stored the first judgment or the same
    revision number first) or an SQLite busy timeout, roll back and run it again: the
    token check then finds what the other writer stored. Each retry is logged as a warning.
    On SQLite, submits of one process take turns in arrival order (:mod:`write_gate`).
    """
    with sqlite_turn(session):
        return _attempts(session, work)


def _attempts(session: Session, work: Callable[[], SubmitResult]) -> SubmitResult:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            result = work()
            session.commit()
            return result
        except IntegrityError:
            session.rollback()
            log.warning("submit raced with another writer (attempt %d); retrying", attempt)
        except OperationalError as exc:
            session.rollback()
            if not _is_busy(exc) or attempt == MAX_ATTEMPTS:
                raise
            log.warning("database busy (attempt %d); retrying", attempt)
            time.sleep(random.uniform(0.01, 0.1) * attempt)
        except BaseException:
            session.rollback()
            raise
    raise Conflict("the judgment could not be stored (too many concurrent submits); please retry")


def submit_judgment(*, session: Session, actor: User | None, assignment_id: int, choice: str,
                    both_poor: bool = False, per_criterion: dict[str, str] | None = None,
                    rationale: str = "", flags: Iterable[str] = (), elapsed_s: float | None = None,
                    instruction_version_no: int, content_revision: int, submit_token: str,
                    study_id: int | None = None) -> SubmitResult:
    """Store the actor's pairwise judgment on one of their tasks, exactly once.

    Args:
        choice: ``left``, ``right`` or ``tie`` as the annotator saw the pair, or
            ``both_poor`` (:data:`BOTH_POOR`: a tie of two poor responses).
        both_poor: with ``tie``, the same as ``choice="both_poor"``; refused with
            ``left``/``right`` (a poor pair has no better side).
        per_criterion: criterion name -> ``left``/``right``/``tie`` (per-criterion studies).
        flags: any of :data:`FLAGS`.
        instruction_version_no, content_revision: the versions that were shown.
        submit_token: unique per submit; the same token twice stores once.
        study_id: the study the page (or API client) has open; a task of another study is
            refused and nothing is written.

    Raises:
        PermissionDenied: the task belongs to another annotator.
        NotFound: no such task.
        InputError: a value is invalid (names the field).
        Conflict: the study is closed or not pairwise, the task belongs to another study
            than ``study_id``, or the token belongs to another task.
    """
    token = _check_token(submit_token)
    if choice == BOTH_POOR:
        choice, both_poor = "tie", True
    if choice not in CHOICES:
        raise InputError("the choice must be A is better, B is better, Equivalent or Both are poor "
                         f"(left, right, tie or both_poor), not {choice!r}", field="choice")
    if both_poor and choice != "tie":
        raise InputError("“Both are poor” is a tie of two poor responses, so it cannot go with "
                         "“A is better” or “B is better”; choose Equivalent or Both are poor", field="both_poor")
    flag_list = _check_flags(flags)
    elapsed = _check_elapsed(elapsed_s)
    per_criterion = dict(per_criterion or {})
    bad = {k: v for k, v in per_criterion.items() if v not in CHOICES}
    if bad:
        raise InputError(f"each criterion needs A is better, B is better or Equivalent (left, right or tie): {bad}",
                         field="per_criterion")

    def work() -> SubmitResult:
        task = _open_task(session, actor, assignment_id, "pairwise", study_id)
        connection = session.connection()
        state = connection.execute(sql.JUDGMENT_STATE, {"assignment_id": task.assignment_id, "token": token}).one()
        if state.token_judgment_id is not None:
            if state.token_assignment_id != task.assignment_id:
                raise Conflict("this submit token was used for another task")
            return SubmitResult(state.token_judgment_id, state.token_revision, False)
        if per_criterion:
            if not task.per_criterion:
                raise InputError("this study does not ask for per-criterion choices", field="per_criterion")
            names = {name for name, _ in query_criteria(session, task.query_id)}
            unknown = sorted(set(per_criterion) - names)
            if unknown:
                raise InputError(f"unknown criteria {unknown}", field="per_criterion")
        now = utcnow()
        fields = dict(
            winner=to_canonical(choice, task.shown_left), both_poor=bool(both_poor),
            per_criterion={k: to_canonical(v, task.shown_left) for k, v in per_criterion.items()},
            rationale=rationale or "", flags=flag_list, elapsed_s=elapsed,
            instruction_version_no=int(instruction_version_no), content_revision=int(content_revision),
            submit_token=token, created_at=now,
        )
        stale = int(content_revision) < task.content_revision
        revision = 1 if state.judgment_id is None else state.revision + 1
        fields["active_s"] = active_time.close_showing(session, task.assignment_id, revision)
        if state.judgment_id is None:
            inserted = connection.execute(sql.judgment.insert().values(
                assignment_id=task.assignment_id, revision=1, stale=stale, updated_at=now, **fields))
            judgment_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]  # always set on INSERT
        else:
            judgment_id = state.judgment_id
            changed = {k: v for k, v in fields.items() if k != "created_at"}
            connection.execute(sql.judgment.update().where(sql.judgment.c.id == judgment_id).values(
                revision=revision, stale=stale, updated_at=now, **changed))
        connection.execute(sql.judgment_revision.insert().values(judgment_id=judgment_id, revision=revision,
                                                                 **fields))
        _mark_done(session, task)
        _forget_loaded(session, (Assignment, task.assignment_id), (Judgment, judgment_id))
        return SubmitResult(judgment_id, revision, True)

    return _with_retries(session, work)


def _check_history_reader(session: Session, actor: User | None, assignment_id: int) -> None:
    """The task's owner, researchers and admins may read its history; anyone else is refused."""
    user = require_role(actor, *ROLES)
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"no assignment {assignment_id}")
    if assignment.annotator_id != user.id and not has_role(user, *MANAGERS):
        raise PermissionDenied("this task is assigned to someone else")


def rating_history(*, session: Session, actor: User | None, assignment_id: int) -> list[PointwiseRatingRevision]:
    """Every revision of the pointwise rating on a task, oldest first (the owner, researchers, admins)."""
    _check_history_reader(session, actor, assignment_id)
    return list(session.exec(
        select(PointwiseRatingRevision).join(PointwiseRating)
        .where(PointwiseRating.assignment_id == assignment_id)
        .order_by(PointwiseRatingRevision.revision)).all())  # type: ignore[arg-type]


def judgment_history(*, session: Session, actor: User | None, assignment_id: int) -> list[JudgmentRevision]:
    """Every revision of the judgment on a task, oldest first (the owner, researchers, admins)."""
    _check_history_reader(session, actor, assignment_id)
    return list(session.exec(
        select(JudgmentRevision).join(Judgment)
        .where(Judgment.assignment_id == assignment_id)
        .order_by(JudgmentRevision.revision)).all())  # type: ignore[arg-type]


def submit_rating(*, session: Session, actor: User | None, assignment_id: int, score: int,
                  error_type: str = "", rationale: str = "", elapsed_s: float | None = None,
                  instruction_version_no: int, content_revision: int, submit_token: str,
                  study_id: int | None = None) -> SubmitResult:
    """Store the actor's pointwise rating (1-5) of one response, exactly once.

    A rating at or below :data:`LOW_SCORE` needs an ``error_type`` from the study's list.
    A new token on a rated task replaces the rating and bumps its revision.

    Raises:
        InputError: score out of range, missing or unknown error type.
        PermissionDenied, NotFound, Conflict: as :func:`submit_judgment`.
    """
    token = _check_token(submit_token)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InputError(f"score must be an integer from 1 to 5, not {score!r}", field="score")
    elapsed = _check_elapsed(elapsed_s)
    error_type = (error_type or "").strip()

    def work() -> SubmitResult:
        task = _open_task(session, actor, assignment_id, "pointwise", study_id)
        previous = session.exec(select(PointwiseRatingRevision)
                                .where(PointwiseRatingRevision.submit_token == token)).first()
        if previous is not None:
            stored = session.get(PointwiseRating, previous.rating_id)
            if stored is None or stored.assignment_id != task.assignment_id:
                raise Conflict("this submit token was used for another task")
            return SubmitResult(id_of(stored), previous.revision, False)
        rating = session.exec(select(PointwiseRating)
                              .where(PointwiseRating.assignment_id == task.assignment_id)).first()
        types = task.error_types
        if score <= LOW_SCORE and not error_type:
            raise InputError(f"a rating of {score} needs an error type", field="error_type")
        if error_type and error_type not in types:
            raise InputError(f"unknown error type {error_type!r}; allowed: {', '.join(types)}", field="error_type")
        stale = int(content_revision) < task.content_revision
        now = utcnow()
        if rating is None:
            rating = PointwiseRating(assignment_id=task.assignment_id, revision=1, score=score, created_at=now)
        else:
            rating.revision += 1
        rating.active_s = active_time.close_showing(session, task.assignment_id, rating.revision)
        rating.score, rating.error_type, rating.rationale = score, error_type, rationale or ""
        rating.elapsed_s, rating.stale, rating.submit_token, rating.updated_at = elapsed, stale, token, now
        rating.instruction_version_no, rating.content_revision = int(instruction_version_no), int(content_revision)
        session.add(rating)
        session.flush()
        session.add(PointwiseRatingRevision(
            rating_id=id_of(rating), revision=rating.revision, score=score, error_type=error_type,
            rationale=rating.rationale, elapsed_s=elapsed, active_s=rating.active_s,
            instruction_version_no=rating.instruction_version_no,
            content_revision=rating.content_revision, submit_token=token, created_at=now))
        session.flush()
        _mark_done(session, task)
        _forget_loaded(session, (Assignment, task.assignment_id))
        return SubmitResult(id_of(rating), rating.revision, True)

    return _with_retries(session, work)
