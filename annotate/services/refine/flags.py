"""The expert queue of annotators' flags: "Problem with the query", "A response is cut off",
"Needs an expert".

An annotator sets flags on a pairwise judgment (:data:`annotate.services.annotate.judgments.FLAGS`).
Each ``(judgment, flag)`` is open until an expert resolves it with a note; a resolved flag can be
reopened, again with a note. Every decision is a new :class:`~annotate.db.models.FlagResolution`
row (who, when, note, status), never an update: the newest row is the flag's state and the rows
before it are its history, like the versions of other expert edits.

Example:
    >>> [f.flag for f in flag_queue(session=s, actor=expert)]                  # doctest: +SKIP
    ['query_problem']
    >>> resolve_flag(session=s, actor=expert, judgment_id=4, flag="query_problem",
    ...              note="the query now says which year").status                # doctest: +SKIP
    'resolved'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from annotate.db.models import Assignment, FlagResolution, Judgment, Query, Study, StudyItem, User, id_of
from annotate.services.annotate.judgments import FLAGS
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError, NotFound
from annotate.services.core.roles import EDITORS
from annotate.services.core.statuses import FlagStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlaggedItem:
    """One flag of one judgment, with where it came from and its current state.

    ``status`` is :class:`FlagStatus`; ``note``, ``expert`` and ``decided_at`` come from the
    newest decision (empty or ``None`` while no expert has decided).
    """

    judgment_id: int
    flag: str
    study: str
    query_index: int
    annotator: str
    rationale: str
    status: str
    note: str = ""
    expert: str = ""
    decided_at: datetime | None = None


def _flagged_judgments(session: Session) -> list[tuple]:
    """``(judgment id, flags, rationale, username, study name, query index)`` of judgments with flags."""
    stmt = (sa_select(col(Judgment.id), col(Judgment.flags), col(Judgment.rationale), col(User.username),
                      col(Study.name), col(Query.index))
            .join(Assignment, col(Assignment.id) == Judgment.assignment_id)
            .join(User, col(User.id) == Assignment.annotator_id)
            .join(Study, col(Study.id) == Assignment.study_id)
            .join(StudyItem, col(StudyItem.id) == Assignment.item_id)
            .join(Query, col(Query.id) == StudyItem.query_id)
            .order_by(col(Study.name), col(Query.index), col(Judgment.id)))
    return [tuple(row) for row in session.execute(stmt).all() if row[1]]


def _latest(session: Session, judgment_ids: list[int]) -> dict[tuple[int, str], tuple[FlagResolution, str]]:
    """``(judgment id, flag)`` -> (newest decision, the deciding expert's username)."""
    if not judgment_ids:
        return {}
    rows = session.exec(select(FlagResolution, User.username)
                        .join(User, col(User.id) == FlagResolution.expert_id)
                        .where(col(FlagResolution.judgment_id).in_(judgment_ids))
                        .order_by(col(FlagResolution.id))).all()
    return {(row.judgment_id, row.flag): (row, name) for row, name in rows}


def flag_queue(*, session: Session, actor: User | None, include_resolved: bool = False) -> list[FlaggedItem]:
    """Flags set on judgments, by study, query and judgment; open ones only unless asked (experts).

    Raises:
        PermissionDenied: the actor is not an expert.
    """
    require_role(actor, *EDITORS)
    judged = _flagged_judgments(session)
    latest = _latest(session, [jid for jid, *_ in judged])
    out: list[FlaggedItem] = []
    for jid, flags, rationale, username, study, index in judged:
        for flag in flags:
            decision = latest.get((jid, flag))
            status = FlagStatus(decision[0].status) if decision else FlagStatus.OPEN
            if status == FlagStatus.RESOLVED and not include_resolved:
                continue
            out.append(FlaggedItem(jid, str(flag), str(study), int(index), str(username), rationale or "", status,
                                   decision[0].note if decision else "", decision[1] if decision else "",
                                   decision[0].created_at if decision else None))
    return out


@dataclass(frozen=True)
class FlagDecision:
    """One version of a flag's state: who decided what, when, and why."""

    status: str
    note: str
    expert: str
    created_at: datetime


def flag_history(*, session: Session, actor: User | None, judgment_id: int, flag: str) -> list[FlagDecision]:
    """Every decision on one flag of a judgment, oldest first (experts)."""
    require_role(actor, *EDITORS)
    rows = session.exec(select(FlagResolution, User.username)
                        .join(User, col(User.id) == FlagResolution.expert_id)
                        .where(FlagResolution.judgment_id == judgment_id, FlagResolution.flag == flag)
                        .order_by(col(FlagResolution.id))).all()
    return [FlagDecision(row.status, row.note, str(name), row.created_at) for row, name in rows]


def _decide(session: Session, actor: User | None, judgment_id: int, flag: str, note: str,
            status: FlagStatus) -> FlagResolution:
    expert = require_role(actor, *EDITORS)
    if flag not in FLAGS:
        raise InputError(f"unknown flag {flag!r}; flags are {', '.join(FLAGS)}", field="flag")
    judgment = session.get(Judgment, judgment_id)
    if judgment is None:
        raise NotFound(f"no judgment with id {judgment_id}")
    if flag not in (judgment.flags or []):
        raise InputError(f"judgment {judgment_id} does not carry the flag {flag!r}", field="flag")
    if not note.strip():
        raise InputError("write a note: what was done, or why the flag needs no change"
                         if status == FlagStatus.RESOLVED else "write a note: why the flag is reopened",
                         field="note")
    latest = session.exec(select(FlagResolution)
                          .where(FlagResolution.judgment_id == judgment_id, FlagResolution.flag == flag)
                          .order_by(col(FlagResolution.id).desc())).first()
    current = FlagStatus(latest.status) if latest else FlagStatus.OPEN
    if current == status:
        raise InputError(f"the flag is already {status}; reload the page to see who decided it", field="flag")
    row = FlagResolution(judgment_id=judgment_id, flag=flag, status=status, note=note.strip(),
                         expert_id=id_of(expert))
    session.add(row)
    session.commit()
    session.refresh(row)
    log.info("flag %s of judgment %d %s by user %d", flag, judgment_id, status, id_of(expert))
    return row


def resolve_flag(*, session: Session, actor: User | None, judgment_id: int, flag: str, note: str) -> FlagResolution:
    """Resolve an open flag with a required note; returns the new decision row (experts).

    Raises:
        PermissionDenied: the actor is not an expert.
        NotFound: no such judgment.
        InputError: unknown flag, a flag the judgment does not carry, an empty note, or a flag
            already resolved.
    """
    return _decide(session, actor, judgment_id, flag, note, FlagStatus.RESOLVED)


def reopen_flag(*, session: Session, actor: User | None, judgment_id: int, flag: str, note: str) -> FlagResolution:
    """Reopen a resolved flag, saying why; returns the new decision row (experts).

    Raises:
        PermissionDenied, NotFound, InputError: as :func:`resolve_flag` (a flag already open).
    """
    return _decide(session, actor, judgment_id, flag, note, FlagStatus.OPEN)
