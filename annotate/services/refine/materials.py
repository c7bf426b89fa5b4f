"""Material documents: splitting imported queries, collecting new materials, verification.

* :func:`confirm_split` records an expert's instruction/material boundary for an imported
  query (proposed by :mod:`annotate.services.refine.splitter`): a material document (origin
  ``imported``) with its paragraph segments and version 1 keeping all of them, and a new
  approved instruction version without the material. The original text stays in
  ``Query.original_text`` and instruction version 1, and the split query renders back to
  the text it had before, byte for byte.
* :func:`add_material` stores a material collected by an annotator or expert (pasted or
  extracted from an upload by :func:`extract_upload`), with source and licence, keeping
  only the chosen segments. It stays ``pending`` until a *second* person verifies it
  (:func:`verify_material`); only then do annotators see it.

Uploads: ``.txt``, ``.md``, ``.pdf`` (text via ``pypdf``) and ``.docx`` (``python-docx``), at
most :data:`MAX_UPLOAD_BYTES`. The type is decided from the content (PDF and ZIP magic
bytes, UTF-8 text without NUL bytes) and must agree with the file name's extension.

Example:
    >>> detect_upload_type(b"%PDF-1.7 ...")
    'pdf'
    >>> detect_upload_type("纯文本".encode())
    'text'
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import func
from sqlmodel import Session, col, select

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
from annotate.services.refine.edits import COLLECTION_EXCLUDED, instruction_head, next_instruction_no
from annotate.services.refine.splitter import segment_paragraphs, split_at
from annotate.services.refine.staleness import mark_content_changed

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest accepted upload (5 MiB)."""
MAX_MATERIAL_CHARS = 300_000
"""Longest accepted material text (WritingBench's longest query is about 31k characters)."""
ALLOWED_EXTENSIONS = {".txt": "text", ".md": "text", ".pdf": "pdf", ".docx": "docx"}
COLLECTOR_ROLES = ("annotator", "expert")
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
    actor = require_role(actor, "expert")
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    try:
        head = instruction_head(session=session, query_id=query_id)
        if head.version_no != base_version_no:
            raise Conflict(f"the instruction is now at version {head.version_no} (you looked at "
                           f"{base_version_no}); reload and split again")
        if head.status != "approved":
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
            query_id=query_id, title=(title.strip() or SPLIT_TITLE)[:500], origin="imported",
            collector_id=actor.id, verified_by_id=actor.id, verified_at=utcnow(), status="active",
            placement="before" if material_first else "after", joiner=parts.joiner,
            license_note="as distributed with the benchmark query")
        session.add(document)
        session.flush()
        document_id = id_of(document)
        pieces = segment_paragraphs(parts.material)
        for position, (text, sep) in enumerate(pieces):
            session.add(MaterialSegment(document_id=document_id, position=position, text=text, separator=sep))
        session.add(MaterialVersion(document_id=document_id, version_no=1, kept=list(range(len(pieces))),
                                    removals={}, status="approved", reason="split from the imported query",
                                    author_id=actor.id, reviewer_id=actor.id, reviewed_at=utcnow()))
        where = "before" if material_first else "after"
        version = InstructionVersion(
            query_id=query_id, version_no=next_instruction_no(session, query_id), base_version_no=head.version_no,
            text=parts.instruction, status="approved",
            reason=f"split: material ({len(parts.material):,} characters, {where} the instruction) moved to "
                   "its own document",
            author_id=actor.id, reviewer_id=actor.id, reviewed_at=utcnow())
        session.add(version)
        session.flush()
        changed = render_query_text(session=session, query_id=query_id) != before
        if changed:  # only when collected materials already followed the instruction
            mark_content_changed(session=session, query_id=query_id)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(document)
    session.refresh(version)
    log.info("query %d split by %s: %d segments", query_id, actor.username, len(pieces))
    return SplitResult(document, version, len(pieces), changed)


# --------------------------------------------------------------------------- uploads


def detect_upload_type(data: bytes) -> str:
    """``pdf``, ``docx``, ``text`` or ``unknown``, from the bytes alone."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else "unknown"
        except zipfile.BadZipFile:
            return "unknown"
    if b"\x00" in data:
        return "unknown"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown"
    return "text"


def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError("the PDF is encrypted; upload an unprotected copy", path=name, field="file")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"could not read the PDF ({type(exc).__name__}: {exc})", path=name, field="file") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise InputError("the PDF has no extractable text (a scan?); paste the text instead",
                         path=name, field="file")
    return text


def _docx_text(data: bytes, name: str) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"could not read the Word document ({type(exc).__name__})", path=name,
                         field="file") from exc
    text = "\n\n".join(p.text for p in document.paragraphs if p.text.strip())
    if not text:
        raise InputError("the Word document has no text", path=name, field="file")
    return text


def extract_upload(filename: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The text of an uploaded ``.txt``, ``.md``, ``.pdf`` or ``.docx`` file.

    Raises:
        InputError: (naming the file, field ``file``) unsupported extension, too large,
            content that is not what the extension says, unreadable or empty file.
    """
    suffix = PurePath(filename).suffix.lower()
    expected = ALLOWED_EXTENSIONS.get(suffix)
    if expected is None:
        raise InputError(f"unsupported file type {suffix or '(none)'!r}; upload .txt, .md, .pdf or .docx",
                         path=filename, field="file")
    if len(data) > max_bytes:
        raise InputError(f"the file is too large ({len(data):,} bytes; at most {max_bytes:,})",
                         path=filename, field="file")
    if not data:
        raise InputError("the file is empty", path=filename, field="file")
    found = detect_upload_type(data)
    if found != expected:
        label = {"pdf": "a PDF", "docx": "a Word document", "text": "plain text",
                 "unknown": "binary data of an unsupported kind"}[found]
        raise InputError(f"the content is {label}, not what the extension {suffix} says", path=filename,
                         field="file")
    if expected == "pdf":
        return _pdf_text(data, filename)
    if expected == "docx":
        return _docx_text(data, filename)
    text = data.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


# --------------------------------------------------------------------------- collection


def material_segments(text: str) -> list[tuple[str, str]]:
    """How a collected text will be segmented (for the keep/remove choice before saving)."""
    return segment_paragraphs(text)


def add_material(*, session: Session, actor: User | None, query_id: int, title: str, text: str,
                 source_url: str, license_note: str, kept: list[int] | None = None) -> MaterialDocument:
    """Store a collected material (pending until someone else verifies it).

    Args:
        title: short title shown to annotators.
        text: the material's text (pasted, or from :func:`extract_upload`).
        source_url: where it comes from (a URL or a bibliographic reference).
        license_note: the licence or permission under which it may be used.
        kept: positions of the segments to keep (see :func:`material_segments`); all if ``None``.

    Raises:
        PermissionDenied: not an annotator or expert.
        InputError: a required field is blank, the text is too long, or nothing is kept.
    """
    actor = require_role(actor, *COLLECTOR_ROLES)
    if session.get(Query, query_id) is None:
        raise NotFound(f"no query with id {query_id}")
    for name, value in (("title", title), ("text", text), ("source_url", source_url),
                        ("license_note", license_note)):
        if not value or not value.strip():
            raise InputError(f"{name.replace('_', ' ')} is required", field=name)
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
    try:
        document = MaterialDocument(query_id=query_id, title=title.strip()[:500], source_url=source_url.strip()[:2000],
                                    license_note=license_note.strip()[:1000], origin="collected",
                                    collector_id=actor.id, status="pending")
        session.add(document)
        session.flush()
        document_id = id_of(document)
        for position, (seg, sep) in enumerate(pieces):
            session.add(MaterialSegment(document_id=document_id, position=position, text=seg, separator=sep))
        session.add(MaterialVersion(
            document_id=document_id, version_no=1, kept=chosen,
            removals={str(p): COLLECTION_EXCLUDED for p in positions if p not in chosen}, status="approved",
            reason="collected" + ("" if len(chosen) == len(positions)
                                  else f"; kept {len(chosen)} of {len(positions)} segments"),
            author_id=actor.id, reviewer_id=None))
        session.commit()
    except BaseException:
        session.rollback()
        raise
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
    actor = require_role(actor, *COLLECTOR_ROLES)
    document = session.get(MaterialDocument, document_id)
    if document is None:
        raise NotFound(f"no material with id {document_id}")
    if document.collector_id == actor.id:
        raise PermissionDenied("a second person must verify a material, not the one who collected it")
    if document.status != "pending":
        raise Conflict(f"this material is already {document.status}")
    try:
        document.status = "active" if approve else "rejected"
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
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(document)
    return document


def set_needs_materials(*, session: Session, actor: User | None, query_id: int, needs: bool,
                        requirement: str = "") -> Query:
    """Flag a query as needing materials, with what kind of material is wanted (experts, researchers)."""
    require_role(actor, "expert", "researcher", "admin")
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
    return [MaterialNeed(id_of(q), q.index, q.material_requirement, counts.get((id_of(q), "active"), 0),
                         counts.get((id_of(q), "pending"), 0)) for q in queries]


def documents_of(*, session: Session, query_id: int, statuses: tuple[str, ...] = ("active", "pending")
                 ) -> list[MaterialDocument]:
    """The query's material documents with one of ``statuses``, oldest first."""
    return list(session.exec(select(MaterialDocument).where(
        MaterialDocument.query_id == query_id, col(MaterialDocument.status).in_(statuses))
        .order_by(col(MaterialDocument.id))))


def pending_verifications(*, session: Session, actor: User | None) -> list[MaterialDocument]:
    """Collected materials awaiting verification that the actor did not collect."""
    actor = require_role(actor, *COLLECTOR_ROLES)
    return list(session.exec(select(MaterialDocument).where(
        MaterialDocument.status == "pending", MaterialDocument.collector_id != actor.id)
        .order_by(col(MaterialDocument.id))))


def query_by_index(*, session: Session, index: int) -> Query:
    """The query with WritingBench index ``index``."""
    query = session.exec(select(Query).where(Query.index == index)).first()
    if query is None:
        raise NotFound(f"no query with index {index}")
    return query


def all_query_indexes(*, session: Session) -> list[int]:
    """Every query's WritingBench index, ascending."""
    return list(session.exec(select(Query.index).order_by(col(Query.index))))


def imported_document(*, session: Session, query_id: int) -> MaterialDocument | None:
    """The material split out of the query's own text, if the query was split."""
    return session.exec(select(MaterialDocument).where(
        MaterialDocument.query_id == query_id, MaterialDocument.origin == "imported")).first()


def pending_text(*, session: Session, document_id: int) -> str:
    """The kept text of a document under its latest version (approved or not)."""
    from annotate.services.content.content import join_segments
    from annotate.services.refine.edits import material_head, segments_of

    head = material_head(session=session, document_id=document_id)
    return join_segments(segments_of(session=session, document_id=document_id), head.kept)


def query_index_of(*, session: Session, query_id: int) -> int:
    """The WritingBench index of a query id."""
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    return query.index
