"""Stale judgments: what happens to earlier work when a query's content changes.

When a new instruction version or material version of a query is approved (or a
collected material is verified), :func:`mark_content_changed` bumps
``Query.content_revision`` and marks every pairwise judgment, pointwise rating and judge
score made on an older revision as ``stale``. Stale rows are kept: statistics include or
exclude them by an explicit choice (``include_stale``), and :func:`requeue_stale` gives
the affected annotators their tasks again.

Re-queueing creates exactly one new pending assignment for each affected assignment (so
one per annotator and study item) pointing at the old one with ``requeued_from_id``,
and marks the old one ``superseded``. Running it again creates nothing new.

Example:
    >>> from annotate.db.engine import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite:///:memory:"); upgrade(engine)
    >>> with session_scope(engine) as s:
    ...     stale_counts(session=s)
    {'judgments': 0, 'ratings': 0, 'judge_scores': 0}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from annotate.db.engine import transaction
from annotate.db.models import (
    Assignment,
    JudgeScore,
    Judgment,
    PointwiseRating,
    Query,
    Response,
    Study,
    StudyItem,
    User,
)
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError, NotFound
from annotate.services.core.roles import MANAGERS
from annotate.services.core.statuses import TaskStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaleReport:
    """What one content change marked stale."""

    query_id: int
    content_revision: int
    judgments: int
    ratings: int
    judge_scores: int


@dataclass(frozen=True)
class RequeueReport:
    """What :func:`requeue_stale` did: ``created`` new assignments, one per superseded one."""

    created: int
    superseded: int
    annotators: list[str]


def mark_content_changed(*, session: Session, query_id: int) -> StaleReport:
    """Bump the query's content revision and mark older work stale (no commit: the caller commits).

    Raises:
        NotFound: no such query.
    """
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    query.content_revision = int(query.content_revision or 1) + 1
    session.add(query)
    session.flush()
    revision = query.content_revision
    item_ids = select(StudyItem.id).where(StudyItem.query_id == query_id)
    assignment_ids = select(Assignment.id).where(col(Assignment.item_id).in_(item_ids))
    judgments = session.exec(
        update(Judgment).where(col(Judgment.assignment_id).in_(assignment_ids),
                               col(Judgment.content_revision) < revision, col(Judgment.stale).is_(False))
        .values(stale=True)).rowcount
    ratings = session.exec(
        update(PointwiseRating).where(col(PointwiseRating.assignment_id).in_(assignment_ids),
                                      col(PointwiseRating.content_revision) < revision,
                                      col(PointwiseRating.stale).is_(False))
        .values(stale=True)).rowcount
    response_ids = select(Response.id).where(Response.query_id == query_id)
    scores = session.exec(
        update(JudgeScore).where(col(JudgeScore.response_id).in_(response_ids),
                                 col(JudgeScore.content_revision) < revision,
                                 col(JudgeScore.stale).is_(False))
        .values(stale=True)).rowcount
    log.info("query %s now at content revision %s: %s judgments, %s ratings, %s judge scores stale",
             query_id, revision, judgments, ratings, scores)
    return StaleReport(query_id, revision, int(judgments or 0), int(ratings or 0), int(scores or 0))


def stale_counts(*, session: Session, study_id: int | None = None) -> dict[str, int]:
    """How many judgments, ratings and judge scores are stale (in one study, or everywhere)."""
    j = select(func.count(col(Judgment.id))).where(col(Judgment.stale).is_(True))
    r = select(func.count(col(PointwiseRating.id))).where(col(PointwiseRating.stale).is_(True))
    if study_id is not None:
        ids = select(Assignment.id).where(Assignment.study_id == study_id)
        j = j.where(col(Judgment.assignment_id).in_(ids))
        r = r.where(col(PointwiseRating.assignment_id).in_(ids))
    s = select(func.count(col(JudgeScore.id))).where(col(JudgeScore.stale).is_(True))
    return {"judgments": int(session.exec(j).one()), "ratings": int(session.exec(r).one()),
            "judge_scores": int(session.exec(s).one())}


def requeue_stale(*, session: Session, actor: User | None, query_id: int | None = None,
                  study: str | None = None) -> RequeueReport:
    """Give every assignment with a stale judgment or rating back to its annotator, once.

    Args:
        session: database session; this function commits.
        actor: a researcher or admin.
        query_id: only assignments on this query.
        study: only assignments of the study with this name.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        InputError: neither ``query_id`` nor ``study`` given.
        NotFound: unknown study or query.
    """
    require_role(actor, *MANAGERS)
    if query_id is None and study is None:
        raise InputError("say which query or which study to re-queue")
    stmt = (select(Assignment).join(StudyItem, col(StudyItem.id) == Assignment.item_id)
            .where(Assignment.status != TaskStatus.SUPERSEDED))
    if query_id is not None:
        if session.get(Query, query_id) is None:
            raise NotFound(f"no query with id {query_id}")
        stmt = stmt.where(StudyItem.query_id == query_id)
    if study is not None:
        row = session.exec(select(Study).where(Study.name == study)).first()
        if row is None:
            raise NotFound(f"no study named {study!r}")
        stmt = stmt.where(Assignment.study_id == row.id)
    stale_j = select(Judgment.assignment_id).where(col(Judgment.stale).is_(True))
    stale_r = select(PointwiseRating.assignment_id).where(col(PointwiseRating.stale).is_(True))
    stmt = stmt.where(col(Assignment.id).in_(stale_j) | col(Assignment.id).in_(stale_r))
    affected = list(session.exec(stmt.order_by(col(Assignment.id))))
    names: set[str] = set()
    with transaction(session):
        for old in affected:
            last = session.exec(select(func.max(Assignment.position)).where(
                Assignment.study_id == old.study_id, Assignment.annotator_id == old.annotator_id)).one()
            new = Assignment(study_id=old.study_id, item_id=old.item_id, annotator_id=old.annotator_id,
                             shown_left=old.shown_left, position=int(last or 0) + 1, status=TaskStatus.PENDING,
                             requeued_from_id=old.id)
            old.status = TaskStatus.SUPERSEDED
            session.add(old)
            session.add(new)
            session.flush()
            user = session.get(User, old.annotator_id)
            names.add(user.username if user else str(old.annotator_id))
    log.info("re-queued %d stale assignments for %s", len(affected), sorted(names))
    return RequeueReport(created=len(affected), superseded=len(affected), annotators=sorted(names))


def stale_by_study(*, session: Session) -> list[tuple[str, int]]:
    """``(study name, stale judgments and ratings on assignments not yet re-queued)`` per study with any."""
    result = []
    for study in session.exec(select(Study).order_by(Study.name)):
        ids = select(Assignment.id).where(Assignment.study_id == study.id, Assignment.status != TaskStatus.SUPERSEDED)
        n = session.exec(select(func.count(col(Judgment.id))).where(
            col(Judgment.stale).is_(True), col(Judgment.assignment_id).in_(ids))).one()
        n += session.exec(select(func.count(col(PointwiseRating.id))).where(
            col(PointwiseRating.stale).is_(True), col(PointwiseRating.assignment_id).in_(ids))).one()
        if n:
            result.append((study.name, int(n)))
    return result
