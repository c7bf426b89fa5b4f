"""A study's life after it is created: finding it, listing studies, opening, closing and archiving.

A study is created by :func:`annotate.services.studies.design.create_study`.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from annotate.db.models import Study, User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError, NotFound
from annotate.services.core.roles import MANAGERS, Role
from annotate.services.core.statuses import StudyStatus

log = logging.getLogger(__name__)

def get_study(*, session: Session, name: str) -> Study:
    """The study named ``name``.

    Raises:
        NotFound: no such study.
    """
    study = session.exec(select(Study).where(Study.name == name)).first()
    if study is None:
        raise NotFound(f"no study named {name!r}")
    return study


def list_studies(*, session: Session, actor: User | None) -> list[Study]:
    """Every study, newest first (researcher or admin)."""
    require_role(actor, *MANAGERS)
    return list(session.exec(select(Study).order_by(col(Study.id).desc())).all())


#: A study's life (:class:`~annotate.services.core.statuses.StudyStatus`).
STUDY_STATUSES: tuple[StudyStatus, ...] = tuple(StudyStatus)


def set_study_status(*, session: Session, actor: User | None, study_name: str, status: str) -> Study:
    """Open (``active``), close (``closed``) or archive (``archived``) a study.

    Closed and archived studies serve no tasks and accept no judgments; their data stay.
    Researchers and admins open and close studies; archiving, or bringing a study back from
    the archive, is for admins.

    Raises:
        PermissionDenied: not a researcher or admin, or a researcher touching the archive.
        InputError: an unknown status.
        NotFound: no such study.
    """
    actor = require_role(actor, *MANAGERS)
    if status not in STUDY_STATUSES:
        raise InputError(f"the status must be one of {', '.join(STUDY_STATUSES)}, not {status!r}", field="status")
    study = get_study(session=session, name=study_name)
    if StudyStatus.ARCHIVED in (status, study.status) and status != study.status:
        require_role(actor, Role.ADMIN)
    if study.status != status:
        log.info("%s set study %s: %s -> %s", actor.username, study.name, study.status, status)
        study.status = status
        session.add(study)
        session.commit()
        session.refresh(study)
    return study
