"""The statuses stored on rows, one :class:`~enum.StrEnum` per table column.

Each member is a ``str`` equal to the stored text (``StudyStatus.ACTIVE == "active"``), so
rows, queries and JSON keep plain strings and no migration is needed.

Example:
    >>> StudyStatus("closed") is StudyStatus.CLOSED, VersionStatus.APPROVED == "approved"
    (True, True)
    >>> [str(s) for s in OPEN_TASK_STATUSES]
    ['pending', 'skipped']
"""

from __future__ import annotations

from enum import StrEnum


class StudyStatus(StrEnum):
    """``Study.status``: ``active`` serves tasks; ``closed`` serves none (its results stay
    readable, it can be reopened); ``archived`` is closed and put away (admins only)."""

    ACTIVE = "active"
    CLOSED = "closed"
    ARCHIVED = "archived"


class TaskStatus(StrEnum):
    """``Assignment.status``: an annotator's task."""

    PENDING = "pending"
    SKIPPED = "skipped"
    DONE = "done"
    SUPERSEDED = "superseded"


OPEN_TASK_STATUSES: tuple[TaskStatus, ...] = (TaskStatus.PENDING, TaskStatus.SKIPPED)
"""Tasks still to do (a skipped task comes back)."""

COUNTED_TASK_STATUSES: tuple[TaskStatus, ...] = (TaskStatus.PENDING, TaskStatus.SKIPPED, TaskStatus.DONE)
"""Tasks that count towards a study's progress (superseded ones do not)."""


class VersionStatus(StrEnum):
    """``InstructionVersion.status`` and ``MaterialVersion.status``: an expert edit under review."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class DocumentStatus(StrEnum):
    """``MaterialDocument.status``: a collected material waits for verification (``pending``)."""

    ACTIVE = "active"
    PENDING = "pending"
    REJECTED = "rejected"


class FlagStatus(StrEnum):
    """``FlagResolution.status``: an expert ``resolved`` a judgment's flag, or ``open``\\ ed it again."""

    OPEN = "open"
    RESOLVED = "resolved"


class StudyKind(StrEnum):
    """``Study.kind``: ``pairwise`` studies show two responses to compare; ``pointwise`` ones
    one response to rate."""

    PAIRWISE = "pairwise"
    POINTWISE = "pointwise"
