"""Accounts: creation, password login, administration.

Passwords are hashed with argon2id (``argon2-cffi``); only the hash is stored and the
password itself is never logged. Usernames are case-insensitive (stored lower-case).

A login (:func:`authenticate`) asks the login limits first
(:mod:`annotate.services.accounts.login_limits`: repeated failures are slowed) and records
its outcome there. Unknown usernames cost the same hashing work as existing ones, so neither
the answers nor their timing tell whether an account exists.

Admin-only functions take ``actor``: the logged-in user on whose behalf the call is made
(its role is checked here, on the server). ``actor=None`` means a trusted local caller such
as the ``annotate`` command line, which already has the database in hand.

Example:
    >>> from annotate.db.engine import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite:///:memory:"); upgrade(engine)
    >>> with session_scope(engine) as s:
    ...     _ = create_user(session=s, username="Ada", role="admin", password="correct horse")
    ...     authenticate(session=s, username="ada", password="correct horse").username
    'ada'
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from annotate.db.models import User, utcnow
from annotate.services.accounts import login_limits
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, InputError, NotFound
from annotate.services.core.roles import ROLES, Role

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.@+-]{0,99}$")

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so both cases cost one argon2 check.
    return _hasher.hash("no-such-account-placeholder")


def normalize_username(username: str) -> str:
    """Strip and lower-case a username (no validation).

    Example:
        >>> normalize_username("  Annotator1 ")
        'annotator1'
    """
    return str(username).strip().lower()


def validate_username(username: str) -> str:
    """The normalised username, or :class:`InputError` naming the field.

    Allowed: 1-100 characters of ``a-z 0-9 _ . @ + -`` starting with a letter or digit
    (so that an e-mail address works as a username).

    Example:
        >>> validate_username("Expert.One@example.org")
        'expert.one@example.org'
    """
    name = normalize_username(username)
    if not _USERNAME_RE.match(name):
        raise InputError("a username is 1-100 characters of letters, digits and _ . @ + -, "
                         "starting with a letter or digit", field="username")
    return name


def validate_password(password: str) -> str:
    """Return ``password`` if acceptable, else raise :class:`InputError` (never echoing it)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"a password has at most {MAX_PASSWORD_LENGTH} characters", field="password")
    if not password.strip():
        raise InputError("a password cannot be only spaces", field="password")
    return password


def validate_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`annotate.services.core.roles.ROLES`."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", field="role")
    return role


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; two calls give different hashes)."""
    return _hasher.hash(password)


def get_user(*, session: Session, user_id: int) -> User | None:
    """The account with id ``user_id``, or ``None``."""
    return session.get(User, user_id)


_ACCOUNT_BY_ID = select(User.__table__).where(User.__table__.c.id == bindparam("user_id"))  # type: ignore[attr-defined]


def account_snapshot(*, session: Session, user_id: int) -> User | None:
    """The account with id ``user_id`` as it is stored now, read in one plain SQL query, as a
    detached :class:`User` that is not part of ``session`` (``None`` if there is none).

    For checking a credential and the role on every API request: it costs a fraction of an
    ORM load. Changes to the returned object are not saved; use :func:`get_user` to edit.

    Example:
        >>> account_snapshot(session=s, user_id=1).role        # doctest: +SKIP
        'annotator'
    """
    row = session.connection().execute(_ACCOUNT_BY_ID, {"user_id": user_id}).first()
    return None if row is None else User(**row._mapping)


def get_user_by_username(*, session: Session, username: str) -> User | None:
    """The account named ``username`` (case-insensitive), or ``None``."""
    name = normalize_username(username)
    return session.exec(select(User).where(User.username == name)).first()


def _require_user(session: Session, username: str) -> User:
    user = get_user_by_username(session=session, username=username)
    if user is None:
        raise NotFound(f"no account named {normalize_username(username)!r}")
    return user


def create_user(*, session: Session, username: str, role: str, password: str,
                display_name: str = "", actor: User | None = None) -> User:
    """Create an active account and return it.

    Args:
        session: database session (committed here).
        username: login name; stored lower-case.
        role: annotator, expert, researcher or admin.
        password: at least :data:`MIN_PASSWORD_LENGTH` characters; only its hash is kept.
        display_name: optional name shown in the app.
        actor: the admin creating the account, or ``None`` for the command line.

    Raises:
        PermissionDenied: ``actor`` is not an admin.
        InputError: bad username, role or password.
        Conflict: the username is taken.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    name = validate_username(username)
    validate_role(role)
    validate_password(password)
    if get_user_by_username(session=session, username=name) is not None:
        raise Conflict(f"the username {name!r} is taken")
    user = User(username=name, role=role, password_hash=hash_password(password),
                display_name=display_name.strip()[:200], active=True)
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # created by someone else at the same moment
        session.rollback()
        raise Conflict(f"the username {name!r} is taken") from exc
    session.refresh(user)
    log.info("account %s created with role %s", name, role)
    return user


def authenticate(*, session: Session, username: str, password: str, client_address: str = "",
                 now: datetime | None = None) -> User | None:
    """The active account matching ``username`` and ``password``, or ``None``.

    Every checked attempt is recorded as a :class:`LoginAttempt`. While the attempt is
    slowed (:mod:`annotate.services.accounts.login_limits`) the attempt is refused without
    checking the password. Unknown usernames, wrong passwords, deactivated accounts and slowed
    attempts all give ``None``; use
    :func:`annotate.services.accounts.login_limits.seconds_until_allowed` to tell a person
    how long to wait.

    Args:
        session: database session (committed here).
        username: as typed; case and surrounding spaces do not matter.
        password: as typed.
        client_address: where the attempt comes from (``""`` when unknown).
        now: the current time (for tests); defaults to the clock.
    """
    now = login_limits.as_utc(now or utcnow())
    name = login_limits.attempt_username(username)
    address = login_limits.clean_address(client_address)
    if login_limits.seconds_until_allowed(session=session, username=name, client_address=address, now=now) > 0:
        log.warning("login refused: too many recent failures from this address or for this username")
        return None
    user = session.exec(select(User).where(User.username == name)).first()
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    ok: bool
    try:
        ok = bool(_hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and bool(user.active)
    login_limits.record_attempt(session=session, username=name, client_address=address, success=ok, now=now)
    if ok and user is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    session.commit()
    if not ok:
        log.info("failed login attempt")
        return None
    log.info("login of %s", name)
    return user


def set_password(*, session: Session, username: str, password: str,
                 actor: User | None = None) -> User:
    """Set a new password for ``username``.

    An admin may reset anyone's password (this also lifts a temporary login block);
    any other role may change only its own. ``actor=None`` is the command line.

    Raises:
        PermissionDenied: ``actor`` is neither an admin nor the account itself.
        NotFound: no such account.
        InputError: the password is too short or too long.
    """
    name = normalize_username(username)
    if actor is not None and actor.username != name:
        require_role(actor, Role.ADMIN)
    elif actor is not None:
        require_role(actor, *ROLES)
    user = _require_user(session, name)
    validate_password(password)
    user.password_hash = hash_password(password)
    session.add(user)
    if actor is None or actor.role == Role.ADMIN:
        login_limits.clear_failures(session=session, username=name)
    session.commit()
    session.refresh(user)
    log.info("password of %s changed", name)
    return user


def list_users(*, session: Session, actor: User | None, include_inactive: bool = True) -> list[User]:
    """Every account ordered by username (admin only; ``actor=None`` is the command line and
    must be passed as such, so a page cannot skip the check by leaving the actor out)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    stmt = select(User).order_by(col(User.username))
    if not include_inactive:
        stmt = stmt.where(User.active == True)  # noqa: E712
    return list(session.exec(stmt).all())


def _active_admins(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.role == Role.ADMIN, User.active == True)).all())  # noqa: E712


def set_active(*, session: Session, username: str, active: bool, actor: User | None = None) -> User:
    """Activate or deactivate an account (admin only); deactivated accounts cannot log in,
    and deactivating ends the account's app sessions and API tokens (a later reactivation
    does not revive them: the session epoch is raised).

    Raises:
        PermissionDenied: ``actor`` is not an admin.
        NotFound: no such account.
        Conflict: an admin deactivating their own account, or the last active admin.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    user = _require_user(session, username)
    if not active:
        if actor is not None and actor.id == user.id:
            raise Conflict("you cannot deactivate your own account")
        if user.role == Role.ADMIN and user.active and len(_active_admins(session)) <= 1:
            raise Conflict("this is the last active admin account")
    if user.active and not active:  # its open sessions end for good, even if it is reactivated
        user.session_epoch = int(user.session_epoch or 0) + 1
    user.active = active
    session.add(user)
    session.commit()
    session.refresh(user)
    log.info("account %s %s", user.username, "activated" if active else "deactivated")
    return user


def deactivate(*, session: Session, username: str, actor: User | None = None) -> User:
    """Deactivate an account (admin only); see :func:`set_active`."""
    return set_active(session=session, username=username, active=False, actor=actor)


def activate(*, session: Session, username: str, actor: User | None = None) -> User:
    """Re-activate an account (admin only); see :func:`set_active`."""
    return set_active(session=session, username=username, active=True, actor=actor)


def set_role(*, session: Session, username: str, role: str, actor: User | None = None) -> User:
    """Give an account another role (admin only); the pages it may open change on its next click.

    Raises:
        PermissionDenied: ``actor`` is not an admin.
        InputError: an unknown role.
        NotFound: no such account.
        Conflict: an admin changing their own role, or demoting the last active admin.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    validate_role(role)
    user = _require_user(session, username)
    if user.role == role:
        return user
    if actor is not None and actor.id == user.id:
        raise Conflict("you cannot change your own role; another admin can")
    if user.role == Role.ADMIN and user.active and len(_active_admins(session)) <= 1:
        raise Conflict("this is the last active admin account: make another account admin first")
    old, user.role = user.role, role
    session.add(user)
    session.commit()
    session.refresh(user)
    log.info("account %s: role %s -> %s", user.username, old, role)
    return user


def end_sessions(*, session: Session, user_id: int) -> None:
    """Log an account out everywhere: raise its ``session_epoch``, so the app refuses every
    session cookie and API token issued before."""
    user = session.get(User, user_id)
    if user is None:
        return
    user.session_epoch = int(user.session_epoch or 0) + 1
    session.add(user)
    session.commit()
    log.info("sessions of %s ended (logout)", user.username)
