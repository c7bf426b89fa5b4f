"""Auditors' tags on disagreements: the editable cause list, tagging, summary and export.

A tag names a study item (the pair), the judge run (judge, method), a cause from the
active cause list, a note, its author and time. Tags are appended; the *current* cause of
a disagreement is its latest tag. The cause summary counts current causes per method and
judge.

Example:
    >>> add_tag(session=s, actor=researcher, item_id=3, judge="gpt-4o", method="dynamic",
    ...         cause="length bias", note="longer answer won")        # doctest: +SKIP
    >>> cause_summary(session=s, actor=researcher)                    # doctest: +SKIP
    [{'method': 'dynamic', 'judge': 'gpt-4o', 'cause': 'length bias', 'n': 1}]
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from annotate.db.models import AuditCause, AuditTag, LLMModel, Query, Response, Study, StudyItem, User, id_of
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, InputError, NotFound
from annotate.services.core.names import MAX_CAUSE, check_not_confusable, clean_name
from annotate.services.core.roles import MANAGERS
from metaeval import csv_safe

DEFAULT_CAUSES: tuple[str, ...] = ("judge error", "human error", "ambiguous query", "criteria missed a requirement",
                                   "length bias", "position bias", "material use", "other")
TAG_FIELDS = ("tag_id", "study", "item_id", "query", "model_a", "model_b", "method", "judge", "cause", "note",
              "author", "created_at")
MAX_NOTE = 5000


def ensure_default_causes(*, session: Session) -> int:
    """Add the default causes when the list is empty (idempotent); returns how many were added."""
    if session.exec(select(AuditCause.id).limit(1)).first() is not None:
        return 0
    for name in DEFAULT_CAUSES:
        session.add(AuditCause(name=name))
    session.commit()
    return len(DEFAULT_CAUSES)


def list_causes(*, session: Session, include_inactive: bool = False) -> list[AuditCause]:
    """The cause list in creation order (defaults first, seeded on first use)."""
    ensure_default_causes(session=session)
    stmt = select(AuditCause).order_by(col(AuditCause.id))
    if not include_inactive:
        stmt = stmt.where(AuditCause.active == True)  # noqa: E712
    return list(session.exec(stmt).all())


def add_cause(*, session: Session, actor: User | None, name: str) -> AuditCause:
    """Add a cause (or re-activate a retired one of that name)."""
    require_role(actor, *MANAGERS)
    name = clean_name(name, what="cause", max_len=MAX_CAUSE, field="cause")
    ensure_default_causes(session=session)
    cause = session.exec(select(AuditCause).where(AuditCause.name == name)).first()
    if cause is not None and cause.active:
        raise Conflict(f"the cause {name!r} is already in the list")
    if cause is None:
        check_not_confusable(name, session.exec(select(AuditCause.name)).all(), what="cause")
    cause = cause or AuditCause(name=name)
    cause.active = True
    session.add(cause)
    session.commit()
    session.refresh(cause)
    return cause


def set_cause_active(*, session: Session, actor: User | None, name: str, active: bool) -> AuditCause:
    """Retire (``active=False``) or restore a cause; tags keep their cause text either way."""
    require_role(actor, *MANAGERS)
    cause = session.exec(select(AuditCause).where(AuditCause.name == name)).first()
    if cause is None:
        raise NotFound(f"no cause named {name!r}")
    cause.active = active
    session.add(cause)
    session.commit()
    session.refresh(cause)
    return cause


def add_tag(*, session: Session, actor: User | None, item_id: int, judge: str, method: str, cause: str,
            note: str = "") -> AuditTag:
    """Tag one disagreement (item under judge run ``method/judge``) with an active cause."""
    actor = require_role(actor, *MANAGERS)
    if session.get(StudyItem, item_id) is None:
        raise NotFound(f"no study item {item_id}")
    active = {c.name for c in list_causes(session=session)}
    if cause not in active:
        raise InputError(f"{cause!r} is not in the cause list", field="cause")
    if not judge or not method:
        raise InputError("a tag needs the judge and the method", field="judge" if not judge else "method")
    if len(note or "") > MAX_NOTE:
        raise InputError(f"the note is longer than {MAX_NOTE} characters", field="note")
    tag = AuditTag(item_id=item_id, judge=judge, method=method, cause=cause, note=(note or "").strip(),
                   author_id=id_of(actor))
    session.add(tag)
    session.commit()
    session.refresh(tag)
    return tag


def _tag_rows(session: Session, *, study_name: str | None = None, item_id: int | None = None) -> list[dict]:
    ra, rb = aliased(Response), aliased(Response)
    ma, mb = aliased(LLMModel), aliased(LLMModel)
    stmt = (sa_select(AuditTag, col(User.username), col(Study.name), col(Query.index), col(ma.name), col(mb.name))
            .join(User, col(User.id) == AuditTag.author_id).join(StudyItem, col(StudyItem.id) == AuditTag.item_id)
            .join(Study, col(Study.id) == StudyItem.study_id).join(Query, col(Query.id) == StudyItem.query_id)
            .join(ra, col(ra.id) == StudyItem.response_a_id).join(rb, col(rb.id) == StudyItem.response_b_id)
            .join(ma, col(ma.id) == ra.model_id).join(mb, col(mb.id) == rb.model_id)
            .order_by(col(AuditTag.created_at), col(AuditTag.id)))
    if study_name is not None:
        stmt = stmt.where(col(Study.name) == study_name)
    if item_id is not None:
        stmt = stmt.where(col(AuditTag.item_id) == item_id)
    out = []
    for tag, author, study, index, a, b in session.execute(stmt).all():
        out.append({"tag_id": tag.id, "study": study, "item_id": tag.item_id, "query": index,
                    "model_a": min(a, b), "model_b": max(a, b), "method": tag.method, "judge": tag.judge,
                    "cause": tag.cause, "note": tag.note, "author": author,
                    "created_at": tag.created_at.isoformat(timespec="seconds")})
    return out


def tags_for_item(*, session: Session, item_id: int) -> list[dict]:
    """Every tag of one item, oldest first (rows of :data:`TAG_FIELDS`)."""
    return _tag_rows(session, item_id=item_id)


def list_tags(*, session: Session, actor: User | None, study_name: str | None = None) -> list[dict]:
    """Every tag (of one study), oldest first."""
    require_role(actor, *MANAGERS)
    return _tag_rows(session, study_name=study_name)


def cause_summary(*, session: Session, actor: User | None, study_name: str | None = None) -> list[dict]:
    """Number of disagreements per (method, judge, cause), counting each one's latest tag.

    Example: two tags on item 1 under dynamic/j (first "other", then "length bias") and one on
    item 2 -> item 1 counts once, as "length bias".
    """
    rows = list_tags(session=session, actor=actor, study_name=study_name)
    latest = {(r["item_id"], r["method"], r["judge"]): r["cause"] for r in rows}
    counts = Counter((m, j, c) for (_i, m, j), c in latest.items())
    return [{"method": m, "judge": j, "cause": c, "n": n} for (m, j, c), n in sorted(counts.items())]


def export_tags(*, session: Session, actor: User | None, study_name: str | None = None, fmt: str = "csv",
                path: str | Path | None = None) -> str:
    """Every tag as CSV or JSON Lines (columns :data:`TAG_FIELDS`); also written to ``path`` if given."""
    rows = list_tags(session=session, actor=actor, study_name=study_name)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv_safe.DictWriter(buf, fieldnames=TAG_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    elif fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        raise InputError(f"unknown format {fmt!r}; choose csv or jsonl", field="fmt")
    if path is not None:
        from metaeval.io import write_text_atomic

        write_text_atomic(path, text)
    return text
