"""Expert edits, the shared core: versions of an instruction or a material and what they build on.

Every change is a new, append-only version:

* **Instruction versions** (:class:`InstructionVersion`): proposed on *Adapt queries*
  (:mod:`annotate.services.refine.instructions`).
* **Material versions** (:class:`MaterialVersion`): proposed on *Prune materials*
  (:mod:`annotate.services.refine.pruning`).
* Both are approved or rejected by a second expert on *Review edits*
  (:mod:`annotate.services.refine.review`) and listed on *Query history*
  (:mod:`annotate.services.refine.history`) and *Edit statistics*
  (:mod:`annotate.services.refine.edit_statistics`).

Optimistic concurrency: a proposal names the version it was based on
(``base_version_no``). The *head* is the latest version that is not rejected (pending or
approved). A proposal whose base is not the head is refused with :class:`EditConflict`,
which names the newer version and carries its content and the refused content, so the
page can show both and nothing typed is lost.

Token estimate (:func:`estimate_tokens`): CJK characters count one token each; the rest of
the text counts one token per whitespace-separated word. It is a rough, tokenizer-free
figure for comparing before/after sizes, not any model's exact count.

Example:
    >>> estimate_tokens("Hello world, 你好世界")
    6
    >>> print(text_diff("a\\nb\\n", "a\\nc\\n", "v1", "v2"))
    --- v1
    +++ v2
    @@ -1,2 +1,2 @@
     a
    -b
    +c
"""

from __future__ import annotations

import difflib
import re

from sqlmodel import Session, col, select

from annotate.db.models import (
    InstructionVersion,
    MaterialDocument,
    MaterialSegment,
    MaterialVersion,
    Query,
    User,
)
from annotate.services.core.errors import Conflict, InputError, NotFound
from annotate.services.core.statuses import VersionStatus

#: The removal "reason" of a segment its collector left out: not a pruning, nobody removed it later.
COLLECTION_EXCLUDED = "left out at collection"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


class EditConflict(Conflict):
    """A save based on an outdated version.

    Attributes:
        kind: ``instruction`` or ``material``.
        newer_version_no: the head version the save should have been based on.
        newer_content: its text (instruction) or kept positions (material).
        newer_author: who saved it.
        yours: the refused content, returned untouched.
    """

    def __init__(self, message: str, *, kind: str, newer_version_no: int, newer_content: object,
                 newer_author: str, yours: object) -> None:
        super().__init__(message)
        self.kind = kind
        self.newer_version_no = newer_version_no
        self.newer_content = newer_content
        self.newer_author = newer_author
        self.yours = yours



# --------------------------------------------------------------------------- small helpers


def estimate_tokens(text: str) -> int:
    """Rough token count: one per CJK character plus one per whitespace-separated word.

    Example:
        >>> estimate_tokens("Write 2 essays 写两篇")
        6
    """
    cjk = len(_CJK.findall(text))
    words = len(_CJK.sub(" ", text).split())
    return cjk + words


def text_diff(old: str, new: str, old_label: str = "before", new_label: str = "after") -> str:
    """A unified line diff (``difflib``) of two texts; empty when they are equal."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm="")
    return "\n".join(lines)


def username_of(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "import"
    user = session.get(User, user_id)
    return user.username if user else f"user {user_id}"


def query_row(session: Session, query_id: int) -> Query:
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    return query


def document_row(session: Session, document_id: int) -> MaterialDocument:
    document = session.get(MaterialDocument, document_id)
    if document is None:
        raise NotFound(f"no material document with id {document_id}")
    return document


def newly_removed(removals: dict, base_kept: list[int] | None, kept: list[int]) -> dict[int, str]:
    """The segments a version removes from the version it builds on, with their reasons.

    A segment that the base did not keep (or, for a first version, any segment: nothing
    came before it) is not a removal of this version, so segments left out when the
    material was collected are never listed as pruned.

    Example:
        >>> newly_removed({"0": "redundant", "2": "left out at collection"}, [0, 1], [1])
        {0: 'redundant'}
        >>> newly_removed({"2": "left out at collection"}, None, [0, 1])
        {}
    """
    if base_kept is None:
        return {}
    gone = sorted(set(int(p) for p in base_kept) - set(int(p) for p in kept))
    return {p: str((removals or {}).get(str(p), (removals or {}).get(p, ""))) for p in gone}


def require_text(value: str, name: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{name} is required", field=name)
    if limit is not None and len(value) > limit:
        raise InputError(f"{name} is too long ({len(value):,} characters, at most {limit:,})", field=name)
    return value


# --------------------------------------------------------------------------- instruction versions

# --------------------------------------------------------------------------- instruction versions

def instruction_versions(*, session: Session, query_id: int) -> list[InstructionVersion]:
    """All instruction versions of a query, oldest first."""
    return list(session.exec(select(InstructionVersion).where(InstructionVersion.query_id == query_id)
                             .order_by(col(InstructionVersion.version_no))))


def instruction_head(*, session: Session, query_id: int) -> InstructionVersion:
    """The latest instruction version that is not rejected (what a new edit must build on).

    Raises:
        NotFound: the query has no instruction version.
    """
    row = session.exec(select(InstructionVersion).where(
        InstructionVersion.query_id == query_id, InstructionVersion.status != VersionStatus.REJECTED)
        .order_by(col(InstructionVersion.version_no).desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"query {query_id} has no instruction")
    return row


def next_instruction_no(session: Session, query_id: int) -> int:
    """The number of the next instruction version of a query (rejected versions count too)."""
    versions = instruction_versions(session=session, query_id=query_id)
    return (versions[-1].version_no if versions else 0) + 1

# --------------------------------------------------------------------------- material versions

def material_versions(*, session: Session, document_id: int) -> list[MaterialVersion]:
    """All versions of a material document, oldest first."""
    return list(session.exec(select(MaterialVersion).where(MaterialVersion.document_id == document_id)
                             .order_by(col(MaterialVersion.version_no))))


def material_head(*, session: Session, document_id: int) -> MaterialVersion:
    """The latest material version that is not rejected."""
    row = session.exec(select(MaterialVersion).where(
        MaterialVersion.document_id == document_id, MaterialVersion.status != VersionStatus.REJECTED)
        .order_by(col(MaterialVersion.version_no).desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"material {document_id} has no version")
    return row


def collection_excluded(*, session: Session, document_id: int) -> set[int]:
    """Positions of a collected material that its collector left out (version 1 did not keep them).

    They were never part of the material, so a pruning need not give them a reason
    (:data:`COLLECTION_EXCLUDED` stands for one) and they are never listed as pruned.
    """
    document = session.get(MaterialDocument, document_id)
    if document is None or document.origin != "collected":
        return set()
    first = session.exec(select(MaterialVersion).where(
        MaterialVersion.document_id == document_id, MaterialVersion.version_no == 1)).first()
    if first is None:
        return set()
    positions = {s.position for s in segments_of(session=session, document_id=document_id)}
    return positions - {int(p) for p in first.kept}


def segments_of(*, session: Session, document_id: int) -> list[MaterialSegment]:
    """The segments of a document in order."""
    return list(session.exec(select(MaterialSegment).where(MaterialSegment.document_id == document_id)
                             .order_by(col(MaterialSegment.position))))
