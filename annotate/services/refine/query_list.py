"""The list the expert pages pick a query from: index, domain › subdomain, first words, status.

One query per :class:`QueryChoice`, read with four grouped statements whatever the number of
queries (a WritingBench import holds over a thousand), so a picker can offer every query
and let the expert search them by any of these words.

Example:
    >>> choice = QueryChoice(12, 900012, "Advertising & Marketing", "Slogans", "Write six slogans for",
    ...                      needs_materials=True, materials=0, pending_edits=1)
    >>> choice.statuses
    ('needs materials', 'pending edit')
    >>> choice.label
    '900012 · Advertising & Marketing › Slogans · Write six slogans for · needs materials, pending edit'
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from annotate.db.models import Domain, InstructionVersion, MaterialDocument, MaterialVersion, Query, Subdomain
from annotate.services.core.statuses import DocumentStatus, VersionStatus
from annotate.services.core.taxonomy import join_taxonomy

#: How many characters of the query text the label shows (whole words within it).
PREVIEW_CHARS = 50
#: The statuses a picker can filter on, in the order they are shown.
STATUSES: tuple[str, ...] = ("needs materials", "pending edit", "has materials")


@dataclass(frozen=True)
class QueryChoice:
    """One query as the expert pickers list it."""

    query_id: int
    index: int
    domain: str
    subdomain: str
    preview: str
    needs_materials: bool = False
    materials: int = 0  # verified (active) material documents
    pending_edits: int = 0  # instruction and material versions awaiting review

    @property
    def statuses(self) -> tuple[str, ...]:
        """``needs materials`` (flagged, none verified yet), ``pending edit``, ``has materials``."""
        found = []
        if self.needs_materials and not self.materials:
            found.append("needs materials")
        if self.pending_edits:
            found.append("pending edit")
        if self.materials:
            found.append("has materials")
        return tuple(found)

    @property
    def label(self) -> str:
        """What the picker shows (and searches): index · domain › subdomain · first words · statuses."""
        parts = [str(self.index), f"{self.domain} › {self.subdomain}", self.preview]
        if self.statuses:
            parts.append(", ".join(self.statuses))
        return " · ".join(parts)


def first_words(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The start of ``text`` on one line, cut at a word boundary (CJK text at ``limit`` characters).

    Example:
        >>> first_words("Please write   the abstract\\nof our grant", 20)
        'Please write the …'
        >>> first_words("请为我们团队内部使用的命令行工具写一份说明", 8)
        '请为我们团队内部…'
        >>> first_words("Short one")
        'Short one'
    """
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    if " " in cut and flat[limit] != " ":
        cut = cut[:cut.rfind(" ") + 1]
    return cut + "…"


def query_choices(*, session: Session) -> list[QueryChoice]:
    """Every query by index with its taxonomy, the first words of its text and its status."""
    # enough raw text for PREVIEW_CHARS after whitespace runs are folded
    preview = func.substr(col(Query.original_text), 1, PREVIEW_CHARS * 20)
    # six columns: past sqlmodel's select overloads, so SQLAlchemy's select through Session.execute
    rows = session.execute(join_taxonomy(sa_select(
        col(Query.id), col(Query.index), col(Domain.name), col(Subdomain.name), preview,
        col(Query.needs_materials))).order_by(col(Query.index))).all()
    active = dict(session.exec(select(col(MaterialDocument.query_id), func.count(col(MaterialDocument.id)))
                               .where(col(MaterialDocument.status) == DocumentStatus.ACTIVE)
                               .group_by(col(MaterialDocument.query_id))).all())
    pending: dict[int, int] = dict(session.exec(
        select(col(InstructionVersion.query_id), func.count(col(InstructionVersion.id)))
        .where(col(InstructionVersion.status) == VersionStatus.PENDING).group_by(col(InstructionVersion.query_id))).all())
    for query_id, n in session.exec(
            select(col(MaterialDocument.query_id), func.count(col(MaterialVersion.id)))
            .join(MaterialDocument, col(MaterialDocument.id) == col(MaterialVersion.document_id))
            .where(col(MaterialVersion.status) == VersionStatus.PENDING).group_by(col(MaterialDocument.query_id))).all():
        pending[query_id] = pending.get(query_id, 0) + n
    return [QueryChoice(qid, index, domain, subdomain, first_words(text or ""), bool(needs),
                        active.get(qid, 0), pending.get(qid, 0))
            for qid, index, domain, subdomain, text, needs in rows]
