"""Expert edits: query adaptation, material pruning, review, revert and history.

Every change is a new, append-only version:

* **Instruction versions** (:class:`InstructionVersion`): an expert proposes a new text
  with a reason (:func:`propose_instruction`); a *second* expert approves or rejects it
  (:func:`review_edit`); the current instruction is the latest approved version.
* **Material versions** (:class:`MaterialVersion`): an expert keeps or removes each
  segment of a document, every removal with a reason from :data:`REMOVAL_REASONS`
  (:func:`propose_pruning`); reviewed the same way.
* **Revert** (:func:`revert_instruction`, :func:`revert_material`) proposes an earlier
  version's content again, as a new version.

Optimistic concurrency: a proposal names the version it was based on
(``base_version_no``). The *head* is the latest version that is not rejected (pending or
approved). A proposal whose base is not the head is refused with :class:`EditConflict`,
which names the newer version and carries its content and the refused content, so the
page can show both and nothing typed is lost.

Approving a version calls :func:`annotate.services.refine.staleness.mark_content_changed`.

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
import logging
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from annotate.db.models import (
    Domain,
    InstructionVersion,
    MaterialDocument,
    MaterialSegment,
    MaterialVersion,
    Query,
    User,
    id_of,
    utcnow,
)
from annotate.services.content.content import join_segments
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied
from annotate.services.core.taxonomy import join_taxonomy
from annotate.services.refine.staleness import mark_content_changed

log = logging.getLogger(__name__)

EDITOR_ROLES = ("expert",)
REMOVAL_REASONS: tuple[str, ...] = ("redundant", "irrelevant", "duplicate", "too long")
#: The removal "reason" of a segment its collector left out: not a pruning, nobody removed it later.
COLLECTION_EXCLUDED = "left out at collection"
MAX_INSTRUCTION_CHARS = 100_000
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


def _username(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "import"
    user = session.get(User, user_id)
    return user.username if user else f"user {user_id}"


def _query_row(session: Session, query_id: int) -> Query:
    query = session.get(Query, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}")
    return query


def _document_row(session: Session, document_id: int) -> MaterialDocument:
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


def _require_text(value: str, name: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{name} is required", field=name)
    if limit is not None and len(value) > limit:
        raise InputError(f"{name} is too long ({len(value):,} characters, at most {limit:,})", field=name)
    return value


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
        InstructionVersion.query_id == query_id, InstructionVersion.status != "rejected")
        .order_by(col(InstructionVersion.version_no).desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"query {query_id} has no instruction")
    return row


def next_instruction_no(session: Session, query_id: int) -> int:
    """The number of the next instruction version of a query (rejected versions count too)."""
    versions = instruction_versions(session=session, query_id=query_id)
    return (versions[-1].version_no if versions else 0) + 1


def _check_instruction_base(session: Session, query_id: int, base_version_no: int, yours: str) -> InstructionVersion:
    head = instruction_head(session=session, query_id=query_id)
    if base_version_no != head.version_no:
        author = _username(session, head.author_id)
        raise EditConflict(
            f"Not saved: version {head.version_no} of this instruction ({head.status}, by {author}) was "
            f"saved after version {base_version_no} that you started from. Your text is kept; compare it "
            f"with version {head.version_no} and save again based on it.",
            kind="instruction", newer_version_no=head.version_no, newer_content=head.text,
            newer_author=author, yours=yours)
    return head


def propose_instruction(*, session: Session, actor: User | None, query_id: int, text: str, reason: str,
                        base_version_no: int) -> InstructionVersion:
    """Save an adapted instruction as a new pending version.

    Raises:
        PermissionDenied: the actor is not an expert.
        InputError: empty text or reason, or the text equals the version it is based on.
        EditConflict: ``base_version_no`` is not the head (someone saved in between).
    """
    actor = require_role(actor, *EDITOR_ROLES)
    if session.get(Query, query_id) is None:
        raise NotFound(f"no query with id {query_id}")
    _require_text(text, "text", limit=MAX_INSTRUCTION_CHARS)
    _require_text(reason, "reason", limit=2000)
    try:
        head = _check_instruction_base(session, query_id, base_version_no, text)
        if text == head.text:
            raise InputError(f"the text is the same as version {head.version_no}; nothing to save",
                             field="text")
        version = InstructionVersion(
            query_id=query_id, version_no=next_instruction_no(session, query_id),
            base_version_no=head.version_no, text=text, status="pending", reason=reason.strip(),
            author_id=actor.id)
        session.add(version)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(version)
    log.info("%s proposed instruction version %d of query %d", actor.username, version.version_no, query_id)
    return version


def revert_instruction(*, session: Session, actor: User | None, query_id: int, to_version_no: int,
                       reason: str, base_version_no: int) -> InstructionVersion:
    """Propose the text of an earlier version again (a new pending version)."""
    target = session.exec(select(InstructionVersion).where(
        InstructionVersion.query_id == query_id, InstructionVersion.version_no == to_version_no)).first()
    if target is None:
        raise NotFound(f"query {query_id} has no instruction version {to_version_no}")
    _require_text(reason, "reason")
    return propose_instruction(session=session, actor=actor, query_id=query_id, text=target.text,
                               reason=f"revert to version {to_version_no}: {reason.strip()}",
                               base_version_no=base_version_no)


# --------------------------------------------------------------------------- material versions


def material_versions(*, session: Session, document_id: int) -> list[MaterialVersion]:
    """All versions of a material document, oldest first."""
    return list(session.exec(select(MaterialVersion).where(MaterialVersion.document_id == document_id)
                             .order_by(col(MaterialVersion.version_no))))


def material_head(*, session: Session, document_id: int) -> MaterialVersion:
    """The latest material version that is not rejected."""
    row = session.exec(select(MaterialVersion).where(
        MaterialVersion.document_id == document_id, MaterialVersion.status != "rejected")
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


@dataclass(frozen=True)
class PruningPreview:
    """Sizes of a document's kept text before (current head) and after a proposed pruning."""

    chars_before: int
    chars_after: int
    tokens_before: int
    tokens_after: int
    text_after: str
    diff: str


def preview_pruning(*, session: Session, document_id: int, kept: list[int]) -> PruningPreview:
    """What the document would read like keeping only ``kept`` (compared with its head version)."""
    segments = segments_of(session=session, document_id=document_id)
    head = material_head(session=session, document_id=document_id)
    before = join_segments(segments, head.kept)
    after = join_segments(segments, kept)
    return PruningPreview(len(before), len(after), estimate_tokens(before), estimate_tokens(after), after,
                          text_diff(before, after, f"version {head.version_no}", "proposed"))


def _validate_pruning(positions: set[int], kept: list[int], removals: dict[int, str],
                      excluded: AbstractSet[int] = frozenset()) -> None:
    kept_set = {int(k) for k in kept}
    removed = {int(k) for k in removals}
    unknown = (kept_set | removed) - positions
    if unknown:
        raise InputError(f"unknown segment positions {sorted(unknown)}", field="kept")
    if kept_set & removed:
        raise InputError(f"segments {sorted(kept_set & removed)} are both kept and removed", field="kept")
    missing = positions - kept_set - removed
    if missing:
        raise InputError(f"say keep or remove for segments {sorted(missing)}", field="removals")
    if not kept_set:
        raise InputError("keep at least one segment (to drop a whole material, reject it instead)",
                         field="kept")
    for position, why in removals.items():
        if why == COLLECTION_EXCLUDED and position in excluded:
            continue
        if not why:
            raise InputError(f"segment {position + 1}: say why it is removed ({', '.join(REMOVAL_REASONS)})",
                             field="removals")
        if why not in REMOVAL_REASONS:
            raise InputError(f"segment {position + 1}: the reason must be one of {', '.join(REMOVAL_REASONS)}"
                             f" (got {why!r})", field="removals")


def propose_pruning(*, session: Session, actor: User | None, document_id: int, kept: list[int],
                    removals: dict[int, str], reason: str = "", base_version_no: int) -> MaterialVersion:
    """Save a keep/remove choice for every segment as a new pending material version.

    Args:
        kept: positions kept.
        removals: every other position mapped to a reason from :data:`REMOVAL_REASONS`
            (:data:`COLLECTION_EXCLUDED` for a segment its collector left out).
        reason: an overall note; when blank a summary of the removals is written.
        base_version_no: the version the expert started from.

    Raises:
        PermissionDenied: not an expert.
        InputError: a segment without a decision, an unknown reason, nothing kept, no change.
        EditConflict: the base is outdated.
    """
    actor = require_role(actor, *EDITOR_ROLES)
    document = session.get(MaterialDocument, document_id)
    if document is None:
        raise NotFound(f"no material with id {document_id}")
    positions = {s.position for s in segments_of(session=session, document_id=document_id)}
    removals = {int(k): v for k, v in removals.items()}
    _validate_pruning(positions, kept, removals, collection_excluded(session=session, document_id=document_id))
    try:
        head = material_head(session=session, document_id=document_id)
        if base_version_no != head.version_no:
            author = _username(session, head.author_id)
            raise EditConflict(
                f"Not saved: version {head.version_no} of this material ({head.status}, by {author}) was "
                f"saved after version {base_version_no} that you started from. Your choices are kept; "
                f"review version {head.version_no} and save again based on it.",
                kind="material", newer_version_no=head.version_no, newer_content=list(head.kept),
                newer_author=author, yours=sorted(int(k) for k in kept))
        if sorted(int(k) for k in kept) == sorted(head.kept):
            raise InputError(f"the same segments are kept as in version {head.version_no}; nothing to save",
                             field="kept")
        if not reason.strip():
            counts: dict[str, int] = {}
            for why in removals.values():
                counts[why] = counts.get(why, 0) + 1
            counts.pop(COLLECTION_EXCLUDED, None)
            reason = ("removed " + ", ".join(f"{n} {why}" for why, n in sorted(counts.items()))
                      if counts else "changed the kept segments")
        version = MaterialVersion(
            document_id=document_id, version_no=max(v.version_no for v in material_versions(
                session=session, document_id=document_id)) + 1,
            base_version_no=head.version_no, kept=sorted(int(k) for k in kept),
            removals={str(k): v for k, v in sorted(removals.items())}, status="pending",
            reason=reason.strip(), author_id=actor.id)
        session.add(version)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(version)
    return version


def revert_material(*, session: Session, actor: User | None, document_id: int, to_version_no: int,
                    reason: str, base_version_no: int) -> MaterialVersion:
    """Propose an earlier material version's selection again (a new pending version)."""
    target = session.exec(select(MaterialVersion).where(
        MaterialVersion.document_id == document_id, MaterialVersion.version_no == to_version_no)).first()
    if target is None:
        raise NotFound(f"material {document_id} has no version {to_version_no}")
    _require_text(reason, "reason")
    positions = {s.position for s in segments_of(session=session, document_id=document_id)}
    kept = list(target.kept)
    removals = {int(k): v for k, v in (target.removals or {}).items()}
    for position in positions - set(kept) - set(removals):
        removals[position] = "irrelevant"
    return propose_pruning(session=session, actor=actor, document_id=document_id, kept=kept, removals=removals,
                           reason=f"revert to version {to_version_no}: {reason.strip()}",
                           base_version_no=base_version_no)


# --------------------------------------------------------------------------- review


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
    document = _document_row(session, version.document_id)
    return document, _query_row(session, document.query_id)


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
    require_role(actor, *EDITOR_ROLES)
    result: list[PendingEdit] = []
    instructions = list(session.exec(select(InstructionVersion).where(InstructionVersion.status == "pending")))
    pending_instructions = {(v.query_id, v.version_no) for v in instructions}
    for v in instructions:
        query = _query_row(session, v.query_id)
        base = _version_text(session, "instruction", v.query_id, v.base_version_no, None)
        waits = v.base_version_no if (v.query_id, v.base_version_no) in pending_instructions else None
        result.append(PendingEdit("instruction", id_of(v), v.version_no, v.base_version_no, v.query_id, query.index,
                                  "", _username(session, v.author_id), v.author_id, v.reason, v.created_at,
                                  text_diff(base, v.text, f"version {v.base_version_no}", f"version {v.version_no}"),
                                  waits_for=waits, base_text=base, new_text=v.text))
    materials = list(session.exec(select(MaterialVersion).where(MaterialVersion.status == "pending")))
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
                                  document.title, _username(session, m.author_id), m.author_id, m.reason,
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
    actor = require_role(actor, *EDITOR_ROLES)
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
    if version.status != "pending":
        raise Conflict(f"this version was already {version.status}")
    siblings = _sibling_versions(session, version)
    base = siblings.get(version.base_version_no) if version.base_version_no is not None else None
    if approve and base is not None and base.status != "approved":
        raise Conflict(f"version {version.version_no} is built on version {base.version_no}, which is "
                       f"{base.status}: review version {base.version_no} first")
    try:
        now = utcnow()
        version.status = "approved" if approve else "rejected"
        version.reviewer_id = actor.id
        version.reviewed_at = now
        version.review_note = (note or "").strip()
        if isinstance(version, InstructionVersion):
            query_id = version.query_id
        else:
            query_id = _document_row(session, version.document_id).query_id
        session.add(version)
        if approve:
            mark_content_changed(session=session, query_id=query_id)
        else:
            _reject_built_on(session, kind, version.version_no, siblings, actor, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
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
            if row.base_version_no == base_no and row.status == "pending":
                row.status, row.reviewer_id, row.reviewed_at = "rejected", actor.id, now
                row.review_note = f"Rejected with version {base_no}, which it builds on."
                session.add(row)
                log.info("%s rejected %s version %d with its base %d", actor.username, kind, row.version_no,
                         base_no)
                todo.append(row.version_no)


# --------------------------------------------------------------------------- history


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
            "instruction", None, "", v.version_no, v.base_version_no, v.status, _username(session, v.author_id),
            _username(session, v.reviewer_id) if v.reviewer_id else "", v.created_at, v.reviewed_at, v.reason,
            v.review_note, text_diff(base, v.text, f"version {ref}", f"version {v.version_no}") if ref >= 1 else "",
            len(v.text), estimate_tokens(v.text)))
    documents = session.exec(select(MaterialDocument).where(MaterialDocument.query_id == query_id)
                             .order_by(col(MaterialDocument.id))).all()
    for document in documents:
        segments = segments_of(session=session, document_id=id_of(document))
        collector = _username(session, document.collector_id) if document.collector_id else ""
        verifier = _username(session, document.verified_by_id) if document.verified_by_id else ""
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
                _username(session, m.author_id), _username(session, m.reviewer_id) if m.reviewer_id else "",
                m.created_at, m.reviewed_at, m.reason, m.review_note or "", diff, len(text), estimate_tokens(text),
                newly_removed(m.removals, kept_of.get(ref) if m.version_no > 1 else None, m.kept),
                verifier=verifier, collector=collector, document_status=document.status))
    entries.sort(key=lambda e: (e.created_at, e.kind, e.version_no))
    return entries


# --------------------------------------------------------------------------- statistics


def edit_statistics(*, session: Session) -> list[dict]:
    """Per domain: queries, queries edited, instruction and material versions by status.

    Returns one dict per domain with keys ``domain``, ``queries``, ``edited_queries``,
    ``instruction_approved``, ``instruction_pending``, ``instruction_rejected``,
    ``material_approved``, ``material_pending``, ``material_rejected``, ``split_queries``.
    Version 1 (the import) and the split's version are not counted as edits.
    """
    domain_of = dict(session.exec(join_taxonomy(select(Query.id, Domain.name))).all())
    stats: dict[str, dict] = {}
    for name in sorted(set(domain_of.values())):
        stats[name] = {"domain": name, "queries": 0, "edited_queries": 0, "split_queries": 0,
                       **{f"{k}_{s}": 0 for k in ("instruction", "material")
                          for s in ("approved", "pending", "rejected")}}
    for domain in domain_of.values():
        stats[domain]["queries"] += 1
    edited: set[int] = set()
    split: set[int] = set()
    for query_id, status, reason in session.exec(select(
            InstructionVersion.query_id, InstructionVersion.status, InstructionVersion.reason).where(InstructionVersion.version_no > 1)):
        if reason.startswith("split:"):
            split.add(query_id)
            continue
        stats[domain_of[query_id]][f"instruction_{status}"] += 1
        edited.add(query_id)
    for query_id, status in session.exec(select(MaterialDocument.query_id, MaterialVersion.status)
                                         .join(MaterialDocument, col(MaterialDocument.id) == MaterialVersion.document_id)
                                         .where(MaterialVersion.version_no > 1)):
        stats[domain_of[query_id]][f"material_{status}"] += 1
        edited.add(query_id)
    for query_id in edited:
        stats[domain_of[query_id]]["edited_queries"] += 1
    for query_id in split:
        stats[domain_of[query_id]]["split_queries"] += 1
    return list(stats.values())
