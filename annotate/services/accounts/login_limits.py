"""Login limits: slowing repeated failed logins without locking the real person out.

Every checked login attempt is a :class:`~annotate.db.models.LoginAttempt` row, so the limits
hold across app processes and replicas. Three rules (:func:`seconds_until_allowed`):

* per (client address, username): after :data:`FREE_FAILURES` failures within
  :data:`FAILURE_WINDOW` since that pair's last success, attempts of the pair are refused
  without checking the password for ``BASE_DELAY * 2**(failures - FREE_FAILURES)`` after
  the latest failure, capped at :data:`MAX_DELAY`. While a username is under attack
  (:data:`HOT_USERNAME_FAILURES` failures from other addresses within the window) a pair
  gets one free failure instead of five;
* per client address, across usernames (a password spray): after
  :data:`ADDRESS_FREE_FAILURES` failures within :data:`ADDRESS_WINDOW`, the address waits
  ``ADDRESS_BASE_DELAY * 2**(failures - ADDRESS_FREE_FAILURES)``, capped at :data:`MAX_DELAY`;
* nothing else: a correct password from an address without recent failures always gets
  in, however many wrong guesses others make for the same username elsewhere.

Unknown usernames are recorded and slowed exactly like existing ones. The password check
itself is :func:`annotate.services.accounts.users.authenticate`, which asks here first and
records its outcome here (:func:`record_attempt`). The client address comes from the caller
(the login routes take it from the socket or a configured trusted proxy header,
:mod:`annotate.auth.client_address`); ``""`` stands for a caller without one (the command
line, tests).

Example:
    >>> [int(login_delay(n).total_seconds()) for n in (4, 5, 6)]
    [0, 30, 60]
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from annotate.db.models import LoginAttempt, utcnow

FREE_FAILURES = 5
"""Failed attempts of one (address, username) within :data:`FAILURE_WINDOW` before it is slowed."""
FAILURE_WINDOW = timedelta(hours=24)
"""Only failures this recent (and after the pair's last success) count: long enough that a
slow, steady guesser stays at the longest wait instead of starting afresh."""
BASE_DELAY = timedelta(seconds=30)
"""Wait after the first failure beyond the free ones; doubles with each further failure."""
MAX_DELAY = timedelta(minutes=15)
"""Longest wait imposed after a failure."""
HOT_USERNAME_FAILURES = 10
"""Failures for a username from other addresses (within the window) that mark it as under attack."""
ADDRESS_FREE_FAILURES = 20
"""Failures from one address, over all usernames, within :data:`ADDRESS_WINDOW` before it is slowed."""
ADDRESS_WINDOW = timedelta(hours=1)
"""Failures this recent count towards an address's ceiling (successes do not reset it)."""
ADDRESS_BASE_DELAY = timedelta(seconds=5)
"""Wait after the first failure beyond an address's free ones; doubles with each further failure."""
ATTEMPT_RETENTION = timedelta(days=30)
"""Login attempts older than this are deleted on the next successful login."""


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (a naive value is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)



def attempt_username(username: str) -> str:
    """The name an attempt is recorded under: as typed, stripped and lower-cased (usernames
    are case-insensitive, as :func:`annotate.services.accounts.users.normalize_username`
    stores them), at most 100 characters.

    Example:
        >>> attempt_username("  Annotator1 ")
        'annotator1'
    """
    return str(username).strip().lower()[:100]


def clean_address(client_address: str) -> str:
    """The address an attempt is recorded under (at most 64 characters; ``""`` when unknown)."""
    return str(client_address or "")[:64]


def _recent_attempts(session: Session, username: str, address: str,
                     now: datetime) -> list[tuple[datetime, bool, str, str]]:
    """``(time, success, username, address)`` of attempts for ``username`` or from ``address``
    within the longer of the two windows, oldest first."""
    since = as_utc(now - max(FAILURE_WINDOW, ADDRESS_WINDOW))
    rows = session.exec(
        select(LoginAttempt.created_at, LoginAttempt.success, LoginAttempt.username,
               LoginAttempt.client_address)
        .where((LoginAttempt.username == username) | (LoginAttempt.client_address == address),
               col(LoginAttempt.created_at) >= since)
        .order_by(col(LoginAttempt.created_at), col(LoginAttempt.id))
    ).all()
    return [(as_utc(at), bool(ok), name, addr) for at, ok, name, addr in rows]


def login_delay(failures: int, *, free: int = FREE_FAILURES, base: timedelta = BASE_DELAY) -> timedelta:
    """How long logins are refused after the latest of ``failures`` recent failures.

    Example:
        >>> [int(login_delay(n).total_seconds()) for n in (4, 5, 6, 7, 12)]
        [0, 30, 60, 120, 900]
        >>> [int(login_delay(n, free=20, base=timedelta(seconds=5)).total_seconds()) for n in (19, 20, 23)]
        [0, 5, 40]
    """
    if failures < free:
        return timedelta(0)
    return min(base * 2 ** min(failures - free, 30), MAX_DELAY)


def _remaining(failures: list[datetime], delay: timedelta, now: datetime) -> float:
    if not failures or delay <= timedelta(0):
        return 0.0
    return max(0.0, (failures[-1] + delay - now).total_seconds())


def seconds_until_allowed(*, session: Session, username: str, client_address: str = "",
                          now: datetime | None = None) -> float:
    """Seconds until the next login attempt for ``username`` from ``client_address`` is
    checked (0 = now); see the module docstring for the rules.

    The answer is the same whether or not the account exists.
    """
    now = as_utc(now or utcnow())
    name = attempt_username(username)
    address = clean_address(client_address)
    pair: list[datetime] = []
    others = 0
    from_address: list[datetime] = []
    for at, ok, who, addr in _recent_attempts(session, name, address, now):
        if addr == address and at >= now - ADDRESS_WINDOW and not ok:
            from_address.append(at)
        if who != name or at < now - FAILURE_WINDOW:
            continue
        if addr == address:
            pair = [] if ok else pair + [at]
        elif not ok:
            others += 1
    free = 1 if others >= HOT_USERNAME_FAILURES else FREE_FAILURES
    return max(_remaining(pair, login_delay(len(pair), free=free), now),
               _remaining(from_address, login_delay(len(from_address), free=ADDRESS_FREE_FAILURES,
                                                    base=ADDRESS_BASE_DELAY), now))



def record_attempt(*, session: Session, username: str, client_address: str, success: bool,
                   now: datetime) -> None:
    """Record a checked attempt (not committed: the caller commits with its own changes);
    a success also deletes attempts older than :data:`ATTEMPT_RETENTION`."""
    now = as_utc(now)
    session.add(LoginAttempt(username=attempt_username(username), success=success,
                             client_address=clean_address(client_address), created_at=now))
    if success:
        session.execute(delete(LoginAttempt).where(
            col(LoginAttempt.created_at) < as_utc(now - ATTEMPT_RETENTION)))


def clear_failures(*, session: Session, username: str) -> None:
    """Forget the recorded failures of ``username`` (an admin's password reset lifts a block;
    not committed)."""
    session.execute(delete(LoginAttempt).where(
        col(LoginAttempt.username) == attempt_username(username), col(LoginAttempt.success) == False))  # noqa: E712
