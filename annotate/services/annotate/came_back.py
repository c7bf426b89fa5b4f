"""Why a pair came back to its annotator, and what they judged on it before.

When an approved edit changes a query (its instruction or materials), the judgments made on
the older version turn *stale*; a researcher's "Re-queue" then gives each affected annotator a
new task on the same pair (``Assignment.requeued_from_id`` points at the one it replaces, now
``superseded``). The earlier judgment is kept, exported as ``superseded`` (docs/formats.md),
and the pair keeps its number. This module tells the annotator why the pair is back
(:data:`REASON`), what they chose then (:func:`earlier_judgment`), and which instruction
version they saw (:func:`judged_instruction_version`), so a page can show the change.

Example:
    >>> earlier = earlier_judgment(session=s, actor=ann, assignment_id=42)   # doctest: +SKIP
    >>> came_back_notice(earlier)                                             # doctest: +SKIP
    'This query was changed since you judged it; your earlier judgment (A is better, query version 1) is kept as stale.'
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from annotate.db.models import Assignment, Judgment, JudgmentRevision, PointwiseRating, User
from annotate.services.core.authz import has_role, require_role
from annotate.services.core.errors import NotFound, PermissionDenied
from annotate.services.core.roles import MANAGERS, ROLES

REASON = "This query was changed since you judged it; your earlier judgment is kept as stale."
"""What the annotator reads on a pair that came back after a re-queue."""

CHOICE_WORDS = {"left": "A is better", "right": "B is better", "tie": "Equivalent", "both_poor": "Both are poor"}
"""The annotator's words for a stored choice (as they saw the pair)."""

MAX_CHAIN = 100
"""A guard on following ``requeued_from_id`` (a pair re-queued more often is not plausible)."""


@dataclass(frozen=True)
class EarlierJudgment:
    """The annotator's judgment on the task a re-queued task replaced.

    ``choice`` is ``left``/``right``/``tie``/``both_poor`` as the annotator saw the pair then
    (``None`` for a pointwise rating, whose ``score`` is set instead); the versions are those
    the judgment saw.
    """

    assignment_id: int
    choice: str | None
    score: int | None
    instruction_version_no: int
    content_revision: int


def _own(session: Session, actor: User | None, assignment_id: int) -> Assignment:
    user = require_role(actor, *ROLES)
    task = session.get(Assignment, assignment_id)
    if task is None:
        raise NotFound(f"there is no task {assignment_id}")
    if task.annotator_id != user.id and not has_role(user, *MANAGERS):
        raise PermissionDenied("this task is assigned to someone else")
    return task


def _side(canonical: str, shown_left: str) -> str:
    return "tie" if canonical == "tie" else ("left" if canonical == shown_left else "right")


def earlier_judgment(*, session: Session, actor: User | None, assignment_id: int) -> EarlierJudgment | None:
    """The judgment (or rating) on the nearest task that ``assignment_id`` replaced by a re-queue,
    or ``None`` when the task was not re-queued (or the earlier task had no answer).

    Raises:
        PermissionDenied: the task is someone else's (researchers and admins may read any).
        NotFound: no such task.
    """
    return earlier_of(session, _own(session, actor, assignment_id).requeued_from_id)


def earlier_of(session: Session, previous_id: int | None) -> EarlierJudgment | None:
    """As :func:`earlier_judgment`, from the replaced task's id (no ownership check: for
    services that checked it already)."""
    for _ in range(MAX_CHAIN):
        if previous_id is None:
            return None
        previous = session.get(Assignment, previous_id)
        if previous is None:
            return None
        judgment = session.exec(select(Judgment).where(Judgment.assignment_id == previous_id)).first()
        if judgment is not None:
            choice = "both_poor" if judgment.both_poor else _side(judgment.winner, previous.shown_left)
            return EarlierJudgment(previous_id, choice, None, judgment.instruction_version_no,
                                   judgment.content_revision)
        rating = session.exec(select(PointwiseRating).where(PointwiseRating.assignment_id == previous_id)).first()
        if rating is not None:
            return EarlierJudgment(previous_id, None, rating.score, rating.instruction_version_no,
                                   rating.content_revision)
        previous_id = previous.requeued_from_id
    return None


def came_back_notice(earlier: EarlierJudgment) -> str:
    """The sentence shown on a pair that came back: :data:`REASON` with the earlier answer.

    Example:
        >>> came_back_notice(EarlierJudgment(7, "left", None, 1, 1))
        'This query was changed since you judged it; your earlier judgment (A is better, on query version 1) is kept as stale.'
        >>> came_back_notice(EarlierJudgment(7, None, 4, 2, 3))
        'This query was changed since you rated it; your earlier rating (4, on query version 2) is kept as stale.'
    """
    if earlier.choice is None:  # a pointwise rating: the annotator rated, not judged, the response
        what = f"your earlier rating ({earlier.score}, on query version {earlier.instruction_version_no})"
        return REASON.replace("your earlier judgment", what).replace("you judged it", "you rated it")
    what = (f"your earlier judgment ({CHOICE_WORDS.get(earlier.choice, earlier.choice)}, "
            f"on query version {earlier.instruction_version_no})")
    return REASON.replace("your earlier judgment", what)


def judged_instruction_version(*, session: Session, actor: User | None, assignment_id: int) -> int | None:
    """The instruction version the annotator's latest judgment on this pair saw: on this task,
    or, while it has none and it was re-queued, on the task it replaced; ``None`` if neither.

    Raises:
        PermissionDenied, NotFound: as :func:`earlier_judgment`.
    """
    _own(session, actor, assignment_id)
    latest = session.exec(select(JudgmentRevision.instruction_version_no).join(Judgment)
                          .where(Judgment.assignment_id == assignment_id)
                          .order_by(col(JudgmentRevision.revision).desc())).first()
    if latest is not None:
        return int(latest)
    earlier = earlier_judgment(session=session, actor=actor, assignment_id=assignment_id)
    return None if earlier is None else earlier.instruction_version_no
