"""Active time on a task, per showing, from the browser's heartbeats.

A *showing* is the annotator's work towards one revision of a task's answer: it begins when
the task is shown and ends when that revision is stored. Reloading the page, or opening the
task again before submitting, continues the same showing, so its time adds up; after a
submit, a revision is a new showing with its own time (:class:`~annotate.db.models.TaskShowing`,
keyed by ``(assignment, revision)``).

Time counts as *active* while the tab is visible and the person moved the mouse, typed or
scrolled within the last :func:`idle_seconds` (``ANNOTATE_ACTIVE_IDLE_S``, default 30). The
page's script measures that and sends what it counted every :func:`beat_seconds`
(``ANNOTATE_ACTIVE_BEAT_S``, default 5) while there is some. Each heartbeat is credited at
most

* what it claims,
* one interval (:func:`beat_seconds`), and
* the wall time since the showing's previous heartbeat,

so a repeated, replayed or parallel heartbeat (two tabs) adds nothing the clock did not
pass, and an idle stretch (no heartbeats) adds nothing. When the answer is stored, the time
since the last heartbeat (at most one interval; the submit itself is input) is added and
the total is copied to the answer's row (``active_s``).

Example (hand-counted: beats at t=100, 105, 110 claiming 5 s each; the first has no
previous beat, so only its claim and the interval bound it):
    >>> credit(claimed=5.0, since_last=None, interval=5.0), credit(claimed=5.0, since_last=5.0, interval=5.0)
    (5.0, 5.0)
    >>> credit(claimed=5.0, since_last=0.2, interval=5.0)  # a replay 0.2 s after the beat before
    0.2
    >>> credit(claimed=60.0, since_last=40.0, interval=5.0)  # after an idle gap, one interval at most
    5.0
"""

from __future__ import annotations

import logging
import os
import time

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from annotate.db.engine import transaction
from annotate.db.models import Assignment, Judgment, PointwiseRating, Study, TaskShowing, User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied
from annotate.services.core.roles import Role
from annotate.services.core.statuses import OPEN_TASK_STATUSES, StudyKind, StudyStatus, TaskStatus

log = logging.getLogger(__name__)

IDLE_ENV = "ANNOTATE_ACTIVE_IDLE_S"
DEFAULT_IDLE_S = 30.0
"""Seconds after the last input during which the time still counts as active."""
BEAT_ENV = "ANNOTATE_ACTIVE_BEAT_S"
DEFAULT_BEAT_S = 5.0
"""Seconds between two heartbeats of an active page (and the most one heartbeat is credited)."""


def _seconds_setting(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


def idle_seconds() -> float:
    """N: input within the last N seconds makes the time active (``ANNOTATE_ACTIVE_IDLE_S``).

    Example:
        >>> os.environ[IDLE_ENV] = "4"; idle_seconds()
        4.0
        >>> del os.environ[IDLE_ENV]; idle_seconds() == DEFAULT_IDLE_S
        True
    """
    return _seconds_setting(IDLE_ENV, DEFAULT_IDLE_S)


def beat_seconds() -> float:
    """The heartbeat interval (``ANNOTATE_ACTIVE_BEAT_S``)."""
    return _seconds_setting(BEAT_ENV, DEFAULT_BEAT_S)


def credit(*, claimed: float, since_last: float | None, interval: float) -> float:
    """The seconds one heartbeat adds: its claim, bounded by one interval and by the wall time
    since the showing's previous heartbeat (``None``: the first). See the module's example."""
    bounds = [max(0.0, claimed), interval]
    if since_last is not None:
        bounds.append(max(0.0, since_last))
    return min(bounds)


def _current_revision(session: Session, assignment: Assignment, kind: str) -> int:
    """The revision the next submit of ``assignment`` will store."""
    table = PointwiseRating if kind == StudyKind.POINTWISE else Judgment
    stored = session.exec(select(table.revision).where(table.assignment_id == assignment.id)).first()
    return int(stored or 0) + 1


def _showing(session: Session, assignment_id: int, revision: int) -> TaskShowing | None:
    return session.exec(select(TaskShowing).where(TaskShowing.assignment_id == assignment_id,
                                                  TaskShowing.revision == revision)).first()


def record_beat(*, session: Session, actor: User | None, assignment_id: int, revision: int, active_s: float,
                now: float | None = None, interval: float | None = None) -> float:
    """Credit one heartbeat of ``actor`` on their task ``assignment_id`` (see :func:`credit`);
    the showing's total active seconds.

    ``revision`` is the revision the page was working towards (the showing it measured); a
    heartbeat for a revision stored since (or not yet reachable) is refused.

    Raises:
        NotFound: no such task.
        PermissionDenied: the task is someone else's.
        Conflict: the showing has ended (its revision was stored), or the task is no longer open
            to answer (superseded, or its study closed).
        InputError: ``active_s`` is not a finite number >= 0.
    """
    user = require_role(actor, Role.ANNOTATOR)
    try:
        claimed = float(active_s)
    except (TypeError, ValueError):
        raise InputError(f"active seconds must be a number, not {active_s!r}", field="active_s") from None
    if not 0 <= claimed < float("inf"):
        raise InputError(f"active seconds must be a number >= 0, not {active_s!r}", field="active_s")
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"no task {assignment_id}")
    if assignment.annotator_id != user.id:
        raise PermissionDenied("this task is assigned to someone else")
    study = session.get(Study, assignment.study_id)
    if (study is None or study.status != StudyStatus.ACTIVE
            or assignment.status not in (*OPEN_TASK_STATUSES, TaskStatus.DONE)):
        raise Conflict("this task is not open for answers")
    if int(revision) != _current_revision(session, assignment, study.kind):
        raise Conflict("this showing of the task has ended; reload the page")
    current = time.time() if now is None else float(now)
    step = beat_seconds() if interval is None else float(interval)
    try:
        with transaction(session):
            showing = _showing(session, assignment_id, int(revision))
            if showing is None:
                showing = TaskShowing(assignment_id=assignment_id, revision=int(revision))
            since = None if showing.last_beat_at is None else current - showing.last_beat_at
            showing.active_s = round(showing.active_s + credit(claimed=claimed, since_last=since, interval=step), 3)
            showing.last_beat_at = max(current, showing.last_beat_at or current)
            session.add(showing)
            total = showing.active_s
    except IntegrityError:  # two first heartbeats of one showing at once: the other one counted
        raise Conflict("another heartbeat of this showing was stored at the same moment") from None
    return total


def close_showing(session: Session, assignment_id: int, revision: int, *, now: float | None = None,
                  interval: float | None = None) -> float | None:
    """End the showing of ``(assignment_id, revision)`` as its answer is stored; its active
    seconds, with the time since the last heartbeat (at most one interval) added, or ``None``
    when the page sent no heartbeat (a client without the script, such as the API).

    Called by the submit services inside their transaction; checks nothing about the actor.
    """
    showing = _showing(session, assignment_id, revision)
    if showing is None:
        return None
    current = time.time() if now is None else float(now)
    step = beat_seconds() if interval is None else float(interval)
    if showing.submitted_at is None and showing.last_beat_at is not None:
        tail = current - showing.last_beat_at
        if 0 <= tail <= step:
            showing.active_s = round(showing.active_s + tail, 3)
        showing.submitted_at = current
        session.add(showing)
        session.flush()
    return showing.active_s

