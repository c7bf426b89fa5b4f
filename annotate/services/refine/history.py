"""Query history: every version of a query's instruction and materials, with who, when and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from annotate.db.models import MaterialDocument, Query, id_of
from annotate.services.content.content import join_segments
from annotate.services.core.errors import NotFound
from annotate.services.refine.versions import (
    estimate_tokens,
    instruction_versions,
    material_versions,
    newly_removed,
    segments_of,
    text_diff,
    username_of,
)


@dataclass(frozen=True)
class HistoryEntry:
    """One version of the instruction or of a material, with who, when, why and the diff."""

    kind: str
    document_id: int | None
    document_title: str
    version_no: int
    base_version_no: int | None
    status: str
    author: str
    reviewer: str
    created_at: datetime
    reviewed_at: datetime | None
    reason: str
    review_note: str
    diff: str
    chars: int
    tokens: int
    removals: dict = field(default_factory=dict)  # segments this version removed from its base
    verifier: str = ""  # material: who verified (or rejected) the collected document
    collector: str = ""  # material: who collected it
    document_status: str = ""  # material: pending (not verified yet), active (verified) or rejected


def query_history(*, session: Session, query_id: int) -> list[HistoryEntry]:
    """Every version of the query's instruction and materials, in the order they were saved."""
    if session.get(Query, query_id) is None:
        raise NotFound(f"no query with id {query_id}")
    entries: list[HistoryEntry] = []
    versions = instruction_versions(session=session, query_id=query_id)
    texts = {v.version_no: v.text for v in versions}
    for v in versions:
        ref = v.base_version_no if v.base_version_no is not None else v.version_no - 1
        base = texts.get(ref, "")
        entries.append(HistoryEntry(
            "instruction", None, "", v.version_no, v.base_version_no, v.status, username_of(session, v.author_id),
            username_of(session, v.reviewer_id) if v.reviewer_id else "", v.created_at, v.reviewed_at, v.reason,
            v.review_note, text_diff(base, v.text, f"version {ref}", f"version {v.version_no}") if ref >= 1 else "",
            len(v.text), estimate_tokens(v.text)))
    documents = session.exec(select(MaterialDocument).where(MaterialDocument.query_id == query_id)
                             .order_by(col(MaterialDocument.id))).all()
    for document in documents:
        segments = segments_of(session=session, document_id=id_of(document))
        collector = username_of(session, document.collector_id) if document.collector_id else ""
        verifier = username_of(session, document.verified_by_id) if document.verified_by_id else ""
        mversions = material_versions(session=session, document_id=id_of(document))
        kept_of = {m.version_no: m.kept for m in mversions}
        for m in mversions:
            text = join_segments(segments, m.kept)
            ref = m.base_version_no if m.base_version_no is not None else m.version_no - 1
            diff = ""
            if ref in kept_of:
                diff = text_diff(join_segments(segments, kept_of[ref]), text, f"version {ref}",
                                 f"version {m.version_no}")
            entries.append(HistoryEntry(
                "material", document.id, document.title, m.version_no, m.base_version_no, m.status,
                username_of(session, m.author_id), username_of(session, m.reviewer_id) if m.reviewer_id else "",
                m.created_at, m.reviewed_at, m.reason, m.review_note or "", diff, len(text), estimate_tokens(text),
                newly_removed(m.removals, kept_of.get(ref) if m.version_no > 1 else None, m.kept),
                verifier=verifier, collector=collector, document_status=document.status))
    entries.sort(key=lambda e: (e.created_at, e.kind, e.version_no))
    return entries
