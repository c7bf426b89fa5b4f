"""The four roles of the app and the groups of roles that share a permission, defined once.

Services check roles with :func:`annotate.services.core.authz.require_role`; the page
registry (:mod:`annotate.navigation`) builds each page's allowed roles from these groups.
A :class:`Role` is a ``str`` (``Role.ADMIN == "admin"``), so stored rows keep plain text.

Example:
    >>> Role("admin") is Role.ADMIN, Role.ADMIN == "admin", f"{Role.EXPERT}"
    (True, True, 'expert')
    >>> [str(r) for r in MANAGERS]
    ['researcher', 'admin']
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an account may do (``User.role``)."""

    ANNOTATOR = "annotator"
    EXPERT = "expert"
    RESEARCHER = "researcher"
    ADMIN = "admin"


ROLES: tuple[Role, ...] = tuple(Role)
"""Every role, in the order forms list them."""

MANAGERS: tuple[Role, ...] = (Role.RESEARCHER, Role.ADMIN)
"""Design and run studies, read agreement and audits."""

EDITORS: tuple[Role, ...] = (Role.EXPERT,)
"""Propose and review expert edits (instructions, pruning)."""

COLLECTORS: tuple[Role, ...] = (Role.ANNOTATOR, Role.EXPERT)
"""Collect reference materials for queries."""

EXPERTS_AND_MANAGERS: tuple[Role, ...] = (Role.EXPERT, Role.RESEARCHER, Role.ADMIN)
"""Read the query history and edit statistics."""

MATERIAL_FLAGGERS: tuple[Role, ...] = (Role.ANNOTATOR, Role.EXPERT, Role.RESEARCHER, Role.ADMIN)
"""Flag a query as needing materials (annotators too: they meet the queries first)."""

ANNOTATORS_AND_MANAGERS: tuple[Role, ...] = (Role.ANNOTATOR, Role.RESEARCHER, Role.ADMIN)
"""Read the annotation guidelines."""
