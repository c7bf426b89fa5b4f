"""Material documents: splitting imported queries, collecting new materials, verification.

* :func:`confirm_split` records an expert's instruction/material boundary for an imported
  query (proposed by :mod:`annotate.services.refine.splitter`): a material document (origin
  ``imported``) with its paragraph segments and version 1 keeping all of them, and a new
  approved instruction version without the material. The original text stays in
  ``Query.original_text`` and instruction version 1, and the split query renders back to
  the text it had before, byte for byte.
* :func:`add_material` stores a material collected by an annotator or expert (pasted or
  extracted from an upload by
  :func:`annotate.services.refine.uploads.extract_upload`), with source and licence, keeping
  only the chosen segments. It stays ``pending`` until a *second* person verifies it
  (:func:`verify_material`); only then do annotators see it.

Reading uploaded files is :mod:`annotate.services.refine.uploads`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from annotate.db.engine import transaction
from annotate.db.models import (
    InstructionVersion,
    MaterialDocument,
    MaterialSegment,
    MaterialVersion,
    Query,
    User,
    id_of,
    utcnow,
)
from annotate.services.content.content import render_query_text
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied
from annotate.services.core.names import MAX_TITLE, check_not_confusable, clean_name
from annotate.services.core.roles import COLLECTORS, EDITORS, MATERIAL_FLAGGERS
from annotate.services.core.statuses import DocumentStatus, VersionStatus
from annotate.services.refine.splitter import segment_paragraphs, split_at
from annotate.services.refine.staleness import mark_content_changed
from annotate.services.refine.versions import COLLECTION_EXCLUDED, instruction_head, next_instruction_no

log = logging.getLogger(__name__)

MAX_MATERIAL_CHARS = 300_000
"""Longest accepted material text (WritingBench's longest query is about 31k characters)."""
SPLIT_TITLE = "Material pasted in the query"


# --------------------------------------------------------------------------- split


@dataclass(frozen=True)
class SplitResult:
    """What :func:`confirm_split` created."""

    document: MaterialDocument
    instruction: InstructionVersion
    segments: int
    content_changed: bool


def confirm_split(*, session: Session, actor: User | None, query_id: int, boundary: int,
                  base_version_no: int, material_first: bool = False, title: str = "") -> SplitResult:
    """Split the current instruction at ``boundary`` into instruction and material.

    Args:
        boundary: character offset into the current instruction text.
        base_version_no: the instruction version the expert looked at (must be the head).
        material_first: the material is the part before the boundary.
        title: the material's title (default :data:`SPLIT_TITLE`).

    Raises:
        PermissionDenied: not an expert.
        InputError: the boundary is outside the text or leaves one side blank.
        Conflict: the query was already split, or the instruction changed meanwhile.
    """
    actor = require_role(actor, *EDITORS)
    title = clean_name(title, what="material title", max_len=MAX_TITLE, field="title") if title.strip() else SPLIT_TITLE
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    with transaction(session):
        head = instruction_head(session=session, query_id=query_id)
        if head.version_no != base_version_no:
            raise Conflict(f"the instruction is now at version {head.version_no} (you looked at "
                           f"{base_version_no}); reload and split again")
        if head.status != VersionStatus.APPROVED:
            raise Conflict(f"version {head.version_no} of the instruction awaits review; split after it is "
                           "approved or rejected")
        already = session.exec(select(MaterialDocument.id).where(
            MaterialDocument.query_id == query_id, MaterialDocument.origin == "imported")).first()
        if already is not None:
            raise Conflict("this query was already split into instruction and material")
        try:
            parts = split_at(head.text, boundary, material_first=material_first)
        except ValueError as exc:
            raise InputError(str(exc), field="boundary") from exc
        before = render_query_text(session=session, query_id=query_id)
        document = MaterialDocument(
            query_id=query_id, title=title, origin="imported",
            collector_id=actor.id, verified_by_id=actor.id, verified_at=utcnow(), status=DocumentStatus.ACTIVE,
            placement="before" if material_first else "after", joiner=parts.joiner,
            license_note="as distributed with the benchmark query")
        session.add(document)
        session.flush()
        document_id = id_of(document)
        pieces = segment_paragraphs(parts.material)
        for position, (text, sep) in enumerate(pieces):
            session.add(MaterialSegment(document_id=document_id, position=position, text=text, separator=sep))
        session.add(MaterialVersion(document_id=document_id, version_no=1, kept=list(range(len(pieces))),
                                    removals={}, status=VersionStatus.APPROVED, reason="split from the imported query",
                                    author_id=actor.id, reviewer_id=actor.id, reviewed_at=utcnow()))
        where = "before" if material_first else "after"
        version = InstructionVersion(
            query_id=query_id, version_no=next_instruction_no(session, query_id), base_version_no=head.version_no,
            text=parts.instruction, status=VersionStatus.APPROVED,
            reason=f"split: material ({len(parts.material):,} characters, {where} the instruction) moved to "
                   "its own document",
            author_id=actor.id, reviewer_id=actor.id, reviewed_at=utcnow())
        session.add(version)
        session.flush()
        changed = render_query_text(session=session, query_id=query_id) != before
        if changed:  # only when collected materials already followed the instruction
            mark_content_changed(session=session, query_id=query_id)
    session.refresh(document)
    session.refresh(version)
    log.info("query %d split by %s: %d segments", query_id, actor.username, len(pieces))
    return SplitResult(document, version, len(pieces), changed)


# --------------------------------------------------------------------------- collection


def material_segments(text: str) -> list[tuple[str, str]]:
    """How a collected text will be segmented (for the keep/remove choice before saving)."""
    return segment_paragraphs(text)


def add_material(*, session: Session, actor: User | None, query_id: int, title: str, text: str,
                 source_url: str, license_note: str, kept: list[int] | None = None) -> MaterialDocument:
    """Store a collected material (pending until someone else verifies it).

    Args:
        title: short title shown to annotators.
        text: the material's text (pasted, or from an upload).
        source_url: where it comes from (a URL or a bibliographic reference).
        license_note: the licence or permission under which it may be used.
        kept: positions of the segments to keep (see :func:`material_segments`); all if ``None``.

    Raises:
        PermissionDenied: not an annotator or expert.
        InputError: a required field is blank, the text is too long, or nothing is kept.
    """
    actor = require_role(actor, *COLLECTORS)
    if session.get(Query, query_id) is None:
        raise NotFound(f"no query with id {query_id}")
    for name, value in (("title", title), ("text", text), ("source_url", source_url),
                        ("license_note", license_note)):
        if not value or not value.strip():
            raise InputError(f"{name.replace('_', ' ')} is required", field=name)
    title = clean_name(title, what="material title", max_len=MAX_TITLE, field="title")
    check_not_confusable(title, session.exec(select(MaterialDocument.title).where(
        MaterialDocument.query_id == query_id)).all(), what="material title")
    if len(text) > MAX_MATERIAL_CHARS:
        raise InputError(f"the material is too long ({len(text):,} characters; at most {MAX_MATERIAL_CHARS:,})",
                         field="text")
    pieces = segment_paragraphs(text.strip())
    positions = list(range(len(pieces)))
    chosen = positions if kept is None else sorted({int(k) for k in kept})
    if not chosen:
        raise InputError("keep at least one segment", field="kept")
    if set(chosen) - set(positions):
        raise InputError(f"unknown segment positions {sorted(set(chosen) - set(positions))}", field="kept")
    with transaction(session):
        document = MaterialDocument(query_id=query_id, title=title, source_url=source_url.strip()[:2000],
                                    license_note=license_note.strip()[:1000], origin="collected",
                                    collector_id=actor.id, status=DocumentStatus.PENDING)
        session.add(document)
        session.flush()
        document_id = id_of(document)
        for position, (seg, sep) in enumerate(pieces):
            session.add(MaterialSegment(document_id=document_id, position=position, text=seg, separator=sep))
        session.add(MaterialVersion(
            document_id=document_id, version_no=1, kept=chosen,
            removals={str(p): COLLECTION_EXCLUDED for p in positions if p not in chosen}, status=VersionStatus.APPROVED,
            reason="collected" + ("" if len(chosen) == len(positions)
                                  else f"; kept {len(chosen)} of {len(positions)} segments"),
            author_id=actor.id, reviewer_id=None))
    session.refresh(document)
    log.info("%s collected material %d for query %d", actor.username, document.id, query_id)
    return document


def verify_material(*, session: Session, actor: User | None, document_id: int, approve: bool = True,
                    note: str = "") -> MaterialDocument:
    """A second person accepts (``active``) or rejects a collected material.

    A rejection needs ``note`` (the reason), kept as the review note of the material's
    first version, where the history shows it.

    Raises:
        InputError: a rejection without a reason.
        PermissionDenied: not an annotator or expert, or the actor collected it.
        Conflict: the material is not pending.
    """
    if not approve and not (note or "").strip():
        raise InputError("say why the material is rejected", field="note")
    actor = require_role(actor, *COLLECTORS)
    document = session.get(MaterialDocument, document_id)
    if document is None:
        raise NotFound(f"no material with id {document_id}")
    if document.collector_id == actor.id:
        raise PermissionDenied("a second person must verify a material, not the one who collected it")
    if document.status != DocumentStatus.PENDING:
        raise Conflict(f"this material is already {document.status}")
    with transaction(session):
        document.status = DocumentStatus.ACTIVE if approve else DocumentStatus.REJECTED
        document.verified_by_id = actor.id
        document.verified_at = utcnow()
        session.add(document)
        if (note or "").strip():
            first = session.exec(select(MaterialVersion).where(MaterialVersion.document_id == document_id)
                                 .order_by(col(MaterialVersion.version_no))).first()
            if first is not None:
                first.review_note = note.strip()
                session.add(first)
        if approve:
            mark_content_changed(session=session, query_id=document.query_id)
    session.refresh(document)
    return document


def set_needs_materials(*, session: Session, actor: User | None, query_id: int, needs: bool,
                        requirement: str = "") -> Query:
    """Flag a query as needing materials, with what kind of material is wanted (any role)."""
    require_role(actor, *MATERIAL_FLAGGERS)
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    if needs and not requirement.strip():
        raise InputError("describe the material needed", field="material_requirement")
    query.needs_materials = needs
    query.material_requirement = requirement.strip() if needs else query.material_requirement
    session.add(query)
    session.commit()
    session.refresh(query)
    return query


@dataclass(frozen=True)
class MaterialNeed:
    """A query flagged as needing materials, with how many it has."""

    query_id: int
    index: int
    requirement: str
    active: int
    pending: int


def queries_needing_materials(*, session: Session) -> list[MaterialNeed]:
    """Queries flagged ``needs_materials``, by index, with their active and pending material counts."""
    queries = session.exec(select(Query).where(col(Query.needs_materials).is_(True))
                           .order_by(col(Query.index))).all()
    counts: dict[tuple[int, str], int] = {}
    if queries:
        for qid, status, n in session.exec(
                select(MaterialDocument.query_id, MaterialDocument.status, func.count(col(MaterialDocument.id)))
                .where(col(MaterialDocument.query_id).in_([q.id for q in queries]))
                .group_by(col(MaterialDocument.query_id), col(MaterialDocument.status))):
            counts[(qid, status)] = n
    return [MaterialNeed(id_of(q), q.index, q.material_requirement, counts.get((id_of(q), DocumentStatus.ACTIVE), 0),
                         counts.get((id_of(q), DocumentStatus.PENDING), 0)) for q in queries]


def documents_of(*, session: Session, query_id: int, statuses: tuple[str, ...] = (DocumentStatus.ACTIVE, DocumentStatus.PENDING)
                 ) -> list[MaterialDocument]:
    """The query's material documents with one of ``statuses``, oldest first."""
    return list(session.exec(select(MaterialDocument).where(
        MaterialDocument.query_id == query_id, col(MaterialDocument.status).in_(statuses))
        .order_by(col(MaterialDocument.id))))


def pending_verifications(*, session: Session, actor: User | None) -> list[MaterialDocument]:
    """Collected materials awaiting verification that the actor did not collect."""
    actor = require_role(actor, *COLLECTORS)
    return list(session.exec(select(MaterialDocument).where(
        MaterialDocument.status == DocumentStatus.PENDING, MaterialDocument.collector_id != actor.id)
        .order_by(col(MaterialDocument.id))))


def query_by_index(*, session: Session, index: int) -> Query:
    """The query with WritingBench index ``index``."""
    query = session.exec(select(Query).where(Query.index == index)).first()
    if query is None:
        raise NotFound(f"no query with index {index}")
    return query


def imported_document(*, session: Session, query_id: int) -> MaterialDocument | None:
    """The material split out of the query's own text, if the query was split."""
    return session.exec(select(MaterialDocument).where(
        MaterialDocument.query_id == query_id, MaterialDocument.origin == "imported")).first()


def pending_text(*, session: Session, document_id: int) -> str:
    """The kept text of a document under its latest version (approved or not)."""
    from annotate.services.content.content import join_segments
    from annotate.services.refine.versions import material_head, segments_of

    head = material_head(session=session, document_id=document_id)
    return join_segments(segments_of(session=session, document_id=document_id), head.kept)


def query_index_of(*, session: Session, query_id: int) -> int:
    """The WritingBench index of a query id."""
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    return query.index
