"""Role checks on the server side.

Every service function that acts on behalf of a person calls :func:`require_role` with the
acting :class:`~annotate.db.models.User` before touching the database, so a page that
forgot to hide a button still cannot do what the role does not allow.

Example:
    >>> from annotate.db.models import User
    >>> require_role(User(username="ada", role="admin"), "admin").username
    'ada'
    >>> require_role(User(username="ann", role="annotator"), "admin")
    Traceback (most recent call last):
    ...
    annotate.services.core.errors.PermissionDenied: this action needs the role admin (you are annotator)
"""

from __future__ import annotations

from annotate.db.models import User
from annotate.services.core.errors import PermissionDenied
from annotate.services.core.roles import ROLES


def has_role(actor: User | None, *roles: str) -> bool:
    """Whether ``actor`` is an active account holding one of ``roles``."""
    return actor is not None and bool(actor.active) and actor.role in roles


def require_role(actor: User | None, *roles: str) -> User:
    """Return ``actor`` if it is an active account with one of ``roles``, else raise.

    Args:
        actor: the logged-in user (``None`` when nobody is logged in).
        *roles: the roles allowed to perform the action (at least one).

    Raises:
        PermissionDenied: nobody is logged in, the account is deactivated, or its role is
            not among ``roles``.
        ValueError: a role name is unknown (a programming error, not a user error).
    """
    if not roles:
        raise ValueError("require_role needs at least one role")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    if actor is None:
        raise PermissionDenied("you must be logged in")
    if not actor.active:
        raise PermissionDenied("this account is deactivated")
    if actor.role not in roles:
        wanted = " or ".join(roles)
        raise PermissionDenied(f"this action needs the role {wanted} (you are {actor.role})")
    return actor
