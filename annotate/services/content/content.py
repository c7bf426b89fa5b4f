"""The current content of a query: its latest approved instruction and its kept materials.

This is what annotators read, what judges are given and what a "current" export writes.
An instruction version or a material version only counts once it is approved. For an
unedited import (version 1 of the instruction, no materials) the rendered text is exactly
the original query text.

Example:
    >>> from annotate.db.models import MaterialSegment
    >>> segments = [MaterialSegment(document_id=1, position=0, text="First.", separator="\\n\\n"),
    ...             MaterialSegment(document_id=1, position=1, text="Second.", separator="\\n")]
    >>> join_segments(segments, kept=[1])
    'Second.'
    >>> join_segments(segments, kept=None)
    'First.\\n\\nSecond.'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from annotate.db.models import (
    InstructionVersion,
    MaterialDocument,
    MaterialSegment,
    MaterialVersion,
    Query,
    id_of,
)
from annotate.services.core.errors import NotFound
from annotate.services.core.statuses import DocumentStatus, VersionStatus

MATERIAL_SEPARATOR = "\n\n"


def current_instruction(*, session: Session, query_id: int) -> InstructionVersion:
    """The approved instruction version with the highest number.

    Raises:
        NotFound: the query does not exist or has no approved instruction version.
    """
    row = session.exec(
        select(InstructionVersion)
        .where(InstructionVersion.query_id == query_id, InstructionVersion.status == VersionStatus.APPROVED)
        .order_by(col(InstructionVersion.version_no).desc())
        .limit(1)
    ).first()
    if row is None:
        if session.get(Query, query_id) is None:
            raise NotFound(f"no query with id {query_id}")
        raise NotFound(f"query {query_id} has no approved instruction")
    return row


def current_material_version(*, session: Session, document_id: int) -> MaterialVersion | None:
    """The approved version of a material document with the highest number (``None`` if none is)."""
    return session.exec(
        select(MaterialVersion)
        .where(MaterialVersion.document_id == document_id, MaterialVersion.status == VersionStatus.APPROVED)
        .order_by(col(MaterialVersion.version_no).desc())
        .limit(1)
    ).first()


def join_segments(segments: Sequence[MaterialSegment], kept: Iterable[int] | None) -> str:
    """Join the kept segments (all when ``kept`` is ``None``) with their own separators.

    The separator after the last kept segment is dropped, so keeping everything returns
    the document without its trailing whitespace.
    """
    keep = None if kept is None else set(kept)
    chosen = [s for s in sorted(segments, key=lambda s: s.position) if keep is None or s.position in keep]
    parts: list[str] = []
    for i, segment in enumerate(chosen):
        parts.append(segment.text)
        if i < len(chosen) - 1:
            parts.append(segment.separator)
    return "".join(parts)


def current_materials(*, session: Session, query_id: int) -> list[tuple[MaterialDocument, str]]:
    """Active material documents of the query with the text of their kept segments.

    A document's kept segments come from its latest approved :class:`MaterialVersion`;
    a document without one keeps every segment. Documents are in creation order; a
    document whose kept text is empty is left out.
    """
    documents = session.exec(
        select(MaterialDocument)
        .where(MaterialDocument.query_id == query_id, MaterialDocument.status == DocumentStatus.ACTIVE)
        .order_by(col(MaterialDocument.id))
    ).all()
    ids = [id_of(document) for document in documents]
    if not ids:
        return []
    # Three queries whatever the number of documents (not two per document).
    segments: dict[int, list[MaterialSegment]] = {i: [] for i in ids}
    for segment in session.exec(select(MaterialSegment).where(col(MaterialSegment.document_id).in_(ids))).all():
        segments[segment.document_id].append(segment)
    kept: dict[int, list[int]] = {}
    for version in session.exec(
            select(MaterialVersion)
            .where(col(MaterialVersion.document_id).in_(ids), MaterialVersion.status == VersionStatus.APPROVED)
            .order_by(col(MaterialVersion.document_id), col(MaterialVersion.version_no).desc())).all():
        kept.setdefault(version.document_id, version.kept)  # the first one is the highest number
    result: list[tuple[MaterialDocument, str]] = []
    for document in documents:
        text = join_segments(segments[id_of(document)], kept.get(id_of(document)))
        if text:
            result.append((document, text))
    return result


def _imported_tail(session: Session, document: MaterialDocument) -> str:
    """The trailing whitespace a split kept after an imported document's last segment.

    It is only returned while that last segment is kept, so an unpruned split renders the
    original text exactly (collected documents never add a tail).
    """
    if document.origin != "imported":
        return ""
    last = session.exec(
        select(MaterialSegment).where(MaterialSegment.document_id == document.id)
        .order_by(col(MaterialSegment.position).desc()).limit(1)
    ).first()
    if last is None or not last.separator:
        return ""
    version = current_material_version(session=session, document_id=id_of(document))
    return last.separator if version is None or last.position in set(version.kept) else ""


def render_query_text(*, session: Session, query_id: int) -> str:
    """The instruction with each kept material placed before or after it.

    A material document goes after the instruction unless its ``placement`` is
    ``before``; its ``joiner`` (default a blank line) is the text between it and its
    neighbour towards the instruction. A query split by an expert keeps the original
    whitespace in the joiner, so until something is pruned or edited it renders exactly
    as imported.

    Example: an imported query that nobody edited renders as ``Query.original_text``.
    """
    instruction = current_instruction(session=session, query_id=query_id).text
    materials = current_materials(session=session, query_id=query_id)
    before = [(doc, text) for doc, text in materials if doc.placement == "before"]
    after = [(doc, text) for doc, text in materials if doc.placement != "before"]
    parts: list[str] = []
    for doc, text in before:
        parts.extend((text, doc.joiner))
    parts.append(instruction)
    for doc, text in after:
        parts.extend((doc.joiner, text))
    if after:
        parts.append(_imported_tail(session, after[-1][0]))
    return "".join(parts)
