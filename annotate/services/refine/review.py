"""Review edits: a second expert approves or rejects pending instruction and material versions.

Approving a version calls :func:`annotate.services.refine.staleness.mark_content_changed`;
rejecting one also rejects the pending versions built on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from annotate.db.engine import transaction
from annotate.db.models import (
    InstructionVersion,
    MaterialDocument,
    MaterialVersion,
    Query,
    User,
    id_of,
    utcnow,
)
from annotate.services.content.content import join_segments
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied
from annotate.services.core.roles import EDITORS
from annotate.services.core.statuses import VersionStatus
from annotate.services.refine.staleness import mark_content_changed
from annotate.services.refine.versions import (
    document_row,
    newly_removed,
    query_row,
    segments_of,
    text_diff,
    username_of,
)

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class PendingEdit:
    """A version waiting for review, with what changed."""

    kind: str  # instruction | material
    version_id: int
    version_no: int
    base_version_no: int | None
    query_id: int
    query_index: int
    document_title: str
    author: str
    author_id: int | None
    reason: str
    created_at: datetime
    diff: str
    removals: dict = field(default_factory=dict)
    waits_for: int | None = None  # the base version, while it is itself still pending
    document_id: int | None = None  # the material document (None for the instruction)
    base_text: str = ""  # the text of the base version (for the side-by-side diff)
    new_text: str = ""  # the text of this version


def _query_of_material(session: Session, version: MaterialVersion) -> tuple[MaterialDocument, Query]:
    document = document_row(session, version.document_id)
    return document, query_row(session, document.query_id)


def _version_text(session: Session, kind: str, query_id: int, ref: int | None, document_id: int | None) -> str:
    if ref is None:
        return ""
    if kind == "instruction":
        row = session.exec(select(InstructionVersion).where(
            InstructionVersion.query_id == query_id, InstructionVersion.version_no == ref)).first()
        return row.text if row else ""
    if document_id is None:
        raise ValueError("the text of a material version needs its document_id")
    material = session.exec(select(MaterialVersion).where(
        MaterialVersion.document_id == document_id, MaterialVersion.version_no == ref)).first()
    return join_segments(segments_of(session=session, document_id=document_id), material.kept) if material else ""


def pending_edits(*, session: Session, actor: User | None) -> list[PendingEdit]:
    """Every pending instruction and material version, oldest first (experts only)."""
    require_role(actor, *EDITORS)
    result: list[PendingEdit] = []
    instructions = list(session.exec(select(InstructionVersion).where(InstructionVersion.status == VersionStatus.PENDING)))
    pending_instructions = {(v.query_id, v.version_no) for v in instructions}
    for v in instructions:
        query = query_row(session, v.query_id)
        base = _version_text(session, "instruction", v.query_id, v.base_version_no, None)
        waits = v.base_version_no if (v.query_id, v.base_version_no) in pending_instructions else None
        result.append(PendingEdit("instruction", id_of(v), v.version_no, v.base_version_no, v.query_id, query.index,
                                  "", username_of(session, v.author_id), v.author_id, v.reason, v.created_at,
                                  text_diff(base, v.text, f"version {v.base_version_no}", f"version {v.version_no}"),
                                  waits_for=waits, base_text=base, new_text=v.text))
    materials = list(session.exec(select(MaterialVersion).where(MaterialVersion.status == VersionStatus.PENDING)))
    pending_materials = {(m.document_id, m.version_no) for m in materials}
    for m in materials:
        document, query = _query_of_material(session, m)
        document_id, query_id = id_of(document), id_of(query)
        segments = segments_of(session=session, document_id=document_id)
        base = _version_text(session, "material", query_id, m.base_version_no, document_id)
        base_row = session.exec(select(MaterialVersion).where(
            MaterialVersion.document_id == document_id, MaterialVersion.version_no == m.base_version_no)).first()
        new = join_segments(segments, m.kept)
        result.append(PendingEdit("material", id_of(m), m.version_no, m.base_version_no, query_id, query.index,
                                  document.title, username_of(session, m.author_id), m.author_id, m.reason,
                                  m.created_at,
                                  text_diff(base, new, f"version {m.base_version_no}", f"version {m.version_no}"),
                                  newly_removed(m.removals, base_row.kept if base_row else None, m.kept),
                                  waits_for=m.base_version_no if (m.document_id, m.base_version_no)
                                  in pending_materials else None, document_id=m.document_id,
                                  base_text=base, new_text=new))
    result.sort(key=lambda e: e.created_at)
    return result


def versions_built_on(pending: list[PendingEdit], edit: PendingEdit) -> list[int]:
    """Numbers of the pending versions in ``pending`` that build on ``edit``, directly or
    through each other: rejecting ``edit`` rejects them too (see :func:`review_edit`).

    Example:
        >>> from datetime import datetime
        >>> def pe(no, waits):
        ...     return PendingEdit("instruction", no, no, no - 1, 1, 5, "", "e", 1, "", datetime(2025, 1, 1), "",
        ...                        waits_for=waits)
        >>> chain = [pe(2, None), pe(3, 2), pe(4, 3)]
        >>> versions_built_on(chain, chain[0]), versions_built_on(chain, chain[1])
        ([3, 4], [4])
    """
    found: list[int] = []
    todo = [edit.version_no]
    while todo:
        base = todo.pop()
        for other in pending:
            same = (other.kind, other.query_id, other.document_id) == (edit.kind, edit.query_id, edit.document_id)
            if same and other.waits_for == base:
                found.append(other.version_no)
                todo.append(other.version_no)
    return sorted(found)


def review_edit(*, session: Session, actor: User | None, kind: str, version_id: int, approve: bool,
                note: str = "") -> InstructionVersion | MaterialVersion:
    """Approve or reject a pending version; the reviewer must be an expert other than its author.

    Approval makes the version current and marks older judgments of the query stale. A
    version is built on an earlier one (``base_version_no``), which may still be pending:
    it can only be approved once its base is approved, and rejecting a version also rejects
    the pending versions built on it (they carry its changes), with a note saying so.

    A rejection needs a ``note`` saying why (the author reads it in the query history).

    Raises:
        PermissionDenied: not an expert, or the actor wrote the version.
        InputError: a rejection without a note.
        Conflict: the version is no longer pending, or its base is not approved.
        NotFound: no such version.
    """
    actor = require_role(actor, *EDITORS)
    if not approve and not (note or "").strip():
        raise InputError("say why you reject this version: the author reads it in the query history",
                         field="note")
    version: InstructionVersion | MaterialVersion | None
    if kind == "instruction":
        version = session.get(InstructionVersion, version_id)
    elif kind == "material":
        version = session.get(MaterialVersion, version_id)
    else:
        raise InputError(f"unknown edit kind {kind!r}", field="kind")
    if version is None:
        raise NotFound(f"no {kind} version with id {version_id}")
    if version.author_id == actor.id:
        raise PermissionDenied("you cannot review your own edit; another expert must approve or reject it")
    if version.status != VersionStatus.PENDING:
        raise Conflict(f"this version was already {version.status}")
    siblings = _sibling_versions(session, version)
    base = siblings.get(version.base_version_no) if version.base_version_no is not None else None
    if approve and base is not None and base.status != VersionStatus.APPROVED:
        raise Conflict(f"version {version.version_no} is built on version {base.version_no}, which is "
                       f"{base.status}: review version {base.version_no} first")
    with transaction(session):
        now = utcnow()
        version.status = VersionStatus.APPROVED if approve else VersionStatus.REJECTED
        version.reviewer_id = actor.id
        version.reviewed_at = now
        version.review_note = (note or "").strip()
        if isinstance(version, InstructionVersion):
            query_id = version.query_id
        else:
            query_id = document_row(session, version.document_id).query_id
        session.add(version)
        if approve:
            mark_content_changed(session=session, query_id=query_id)
        else:
            _reject_built_on(session, kind, version.version_no, siblings, actor, now)
    session.refresh(version)
    log.info("%s %s %s version %d", actor.username, version.status, kind, version.version_no)
    return version


def _sibling_versions(session: Session, version: InstructionVersion | MaterialVersion,
                      ) -> dict[int, InstructionVersion | MaterialVersion]:
    """Every version of the same instruction or material document, by number."""
    if isinstance(version, InstructionVersion):
        return {row.version_no: row for row in session.exec(
            select(InstructionVersion).where(InstructionVersion.query_id == version.query_id))}
    return {row.version_no: row for row in session.exec(
        select(MaterialVersion).where(MaterialVersion.document_id == version.document_id))}


def _reject_built_on(session: Session, kind: str, rejected_no: int,
                     siblings: dict[int, InstructionVersion | MaterialVersion], actor: User,
                     now: datetime) -> None:
    """Reject the pending versions built (directly or through others) on ``rejected_no``."""
    todo = [rejected_no]
    while todo:
        base_no = todo.pop()
        for row in siblings.values():
            if row.base_version_no == base_no and row.status == VersionStatus.PENDING:
                row.status, row.reviewer_id, row.reviewed_at = VersionStatus.REJECTED, actor.id, now
                row.review_note = f"Rejected with version {base_no}, which it builds on."
                session.add(row)
                log.info("%s rejected %s version %d with its base %d", actor.username, kind, row.version_no,
                         base_no)
                todo.append(row.version_no)
