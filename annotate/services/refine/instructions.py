"""Adapt queries: an expert proposes a new instruction text, or an earlier one again.

A proposal is a new pending version (:func:`propose_instruction`) built on the head
(:mod:`annotate.services.refine.versions`); a second expert reviews it
(:mod:`annotate.services.refine.review`). Revert (:func:`revert_instruction`) proposes an
earlier version's text again, as a new version.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from annotate.db.engine import transaction
from annotate.db.models import InstructionVersion, Query, User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError, NotFound
from annotate.services.core.roles import EDITORS
from annotate.services.core.statuses import VersionStatus
from annotate.services.refine.versions import (
    EditConflict,
    instruction_head,
    next_instruction_no,
    require_text,
    username_of,
)

log = logging.getLogger(__name__)

MAX_INSTRUCTION_CHARS = 100_000

def _check_instruction_base(session: Session, query_id: int, base_version_no: int, yours: str) -> InstructionVersion:
    head = instruction_head(session=session, query_id=query_id)
    if base_version_no != head.version_no:
        author = username_of(session, head.author_id)
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
    actor = require_role(actor, *EDITORS)
    if session.get(Query, query_id) is None:
        raise NotFound(f"no query with id {query_id}")
    require_text(text, "text", limit=MAX_INSTRUCTION_CHARS)
    require_text(reason, "reason", limit=2000)
    with transaction(session):
        head = _check_instruction_base(session, query_id, base_version_no, text)
        if text == head.text:
            raise InputError(f"the text is the same as version {head.version_no}; nothing to save",
                             field="text")
        version = InstructionVersion(
            query_id=query_id, version_no=next_instruction_no(session, query_id),
            base_version_no=head.version_no, text=text, status=VersionStatus.PENDING, reason=reason.strip(),
            author_id=actor.id)
        session.add(version)
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
    require_text(reason, "reason")
    return propose_instruction(session=session, actor=actor, query_id=query_id, text=target.text,
                               reason=f"revert to version {to_version_no}: {reason.strip()}",
                               base_version_no=base_version_no)
