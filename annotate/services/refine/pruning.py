"""Prune materials: an expert keeps or removes each segment of a material document.

Every removal has a reason from :data:`REMOVAL_REASONS` (:func:`propose_pruning`); the
choice is a new pending material version, reviewed like an instruction
(:mod:`annotate.services.refine.review`). :func:`preview_pruning` shows sizes and the diff
before saving; :func:`revert_material` proposes an earlier version's selection again.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from sqlmodel import Session, select

from annotate.db.engine import transaction
from annotate.db.models import MaterialDocument, MaterialVersion, User
from annotate.services.content.content import join_segments
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError, NotFound
from annotate.services.core.roles import EDITORS
from annotate.services.core.statuses import VersionStatus
from annotate.services.refine.versions import (
    COLLECTION_EXCLUDED,
    EditConflict,
    collection_excluded,
    estimate_tokens,
    material_head,
    material_versions,
    require_text,
    segments_of,
    text_diff,
    username_of,
)

log = logging.getLogger(__name__)

REMOVAL_REASONS: tuple[str, ...] = ("redundant", "irrelevant", "duplicate", "too long")

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
    actor = require_role(actor, *EDITORS)
    document = session.get(MaterialDocument, document_id)
    if document is None:
        raise NotFound(f"no material with id {document_id}")
    positions = {s.position for s in segments_of(session=session, document_id=document_id)}
    removals = {int(k): v for k, v in removals.items()}
    _validate_pruning(positions, kept, removals, collection_excluded(session=session, document_id=document_id))
    with transaction(session):
        head = material_head(session=session, document_id=document_id)
        if base_version_no != head.version_no:
            author = username_of(session, head.author_id)
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
            removals={str(k): v for k, v in sorted(removals.items())}, status=VersionStatus.PENDING,
            reason=reason.strip(), author_id=actor.id)
        session.add(version)
    session.refresh(version)
    return version


def revert_material(*, session: Session, actor: User | None, document_id: int, to_version_no: int,
                    reason: str, base_version_no: int) -> MaterialVersion:
    """Propose an earlier material version's selection again (a new pending version)."""
    target = session.exec(select(MaterialVersion).where(
        MaterialVersion.document_id == document_id, MaterialVersion.version_no == to_version_no)).first()
    if target is None:
        raise NotFound(f"material {document_id} has no version {to_version_no}")
    require_text(reason, "reason")
    positions = {s.position for s in segments_of(session=session, document_id=document_id)}
    kept = list(target.kept)
    removals = {int(k): v for k, v in (target.removals or {}).items()}
    for position in positions - set(kept) - set(removals):
        removals[position] = "irrelevant"
    return propose_pruning(session=session, actor=actor, document_id=document_id, kept=kept, removals=removals,
                           reason=f"revert to version {to_version_no}: {reason.strip()}",
                           base_version_no=base_version_no)
