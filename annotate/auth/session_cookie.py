"""The app's login cookie: signed, HttpOnly, SameSite=Lax, ended by inactivity.

Logging in through the login form (:mod:`annotate.api.web_login`) sets the cookie
:data:`COOKIE_NAME`; every script run of the app reads it back from ``st.context.cookies``
(:func:`annotate.ui.session.logged_in_user`), so a reload, a reopened tab or a bookmarked
page keeps the person logged in. Its value is signed by itsdangerous (salt
:data:`SESSION_SALT`, so an API token is never accepted as a cookie) and holds
``{"uid": user id, "pwf": password fingerprint, "ep": session epoch, "iat": issue time,
"lt": login time}``.

A cookie is refused when:

* ``iat`` is older than the inactivity limit (:func:`idle_limit_s`: 8 hours, or
  ``$ANNOTATE_SESSION_IDLE_HOURS``); the app renews it while the person works;
* ``lt`` is older than the absolute limit (:func:`login_max_age_s`: 24 hours, or
  ``$ANNOTATE_SESSION_MAX_AGE_HOURS``): a renewal keeps the login time, so however active
  the person is, a login ends that long after the password was typed;
* the account was deactivated or its password changed (the API tokens' rule,
  :func:`annotate.auth.tokens.accepts`);
* the account logged out since: "Log out" raises ``user.session_epoch``, which ends every
  cookie issued before, on every device.

Example:
    >>> from types import SimpleNamespace
    >>> ada = SimpleNamespace(id=3, active=True, password_hash="h", session_epoch=0)
    >>> value = issue_session(b"s" * 32, ada, now=1000.0)
    >>> claims = read_session(b"s" * 32, value, now=1000.0 + 3600, idle_s=8 * 3600)
    >>> claims.user_id, session_accepts(claims, ada)
    (3, True)
    >>> read_session(b"s" * 32, value, now=1000.0 + 9 * 3600, idle_s=8 * 3600) is None
    True
    >>> renewed = issue_session(b"s" * 32, ada, now=1000.0 + 20 * 3600, logged_in_at=claims.logged_in_at)
    >>> read_session(b"s" * 32, renewed, now=1000.0 + 25 * 3600, idle_s=8 * 3600, max_age_s=24 * 3600) is None
    True
    >>> ada.session_epoch = 1          # logged out since
    >>> session_accepts(claims, ada)
    False
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from annotate.auth.tokens import accepts, load_signed, password_fingerprint, serializer

COOKIE_NAME = "annotate_session"
SESSION_SALT = "annotate-session-cookie"
IDLE_ENV = "ANNOTATE_SESSION_IDLE_HOURS"
DEFAULT_IDLE_HOURS = 8.0
MAX_AGE_ENV = "ANNOTATE_SESSION_MAX_AGE_HOURS"
DEFAULT_MAX_AGE_HOURS = 24.0
MAX_NEXT_CHARS = 2000
"""Longest deep link kept across a login (longer ones land on Home)."""


@dataclass(frozen=True)
class SessionClaims:
    """What a valid cookie says: whose it is, for which password and epoch, since when."""

    user_id: int
    password_fingerprint: str
    epoch: int
    issued_at: float
    logged_in_at: float


def _hours_s(name: str, default: float, environ: dict[str, str] | None) -> float:
    """Seconds from the variable ``name`` (a positive number of hours), or ``default`` hours."""
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default * 3600
    try:
        hours = float(raw)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours <= 0:
        raise ValueError(f"{name} must be a positive number of hours (got {raw!r})")
    return hours * 3600


def idle_limit_s(environ: dict[str, str] | None = None) -> float:
    """Seconds of inactivity after which a login ends (``$ANNOTATE_SESSION_IDLE_HOURS``).

    Raises:
        ValueError: the variable is not a positive number of hours.

    Example:
        >>> idle_limit_s({}), idle_limit_s({"ANNOTATE_SESSION_IDLE_HOURS": "0.5"})
        (28800.0, 1800.0)
    """
    return _hours_s(IDLE_ENV, DEFAULT_IDLE_HOURS, environ)


def login_max_age_s(environ: dict[str, str] | None = None) -> float:
    """Seconds after the login at which a login ends however active it is
    (``$ANNOTATE_SESSION_MAX_AGE_HOURS``).

    Raises:
        ValueError: the variable is not a positive number of hours.

    Example:
        >>> login_max_age_s({}), login_max_age_s({"ANNOTATE_SESSION_MAX_AGE_HOURS": "12"})
        (86400.0, 43200.0)
    """
    return _hours_s(MAX_AGE_ENV, DEFAULT_MAX_AGE_HOURS, environ)


def refresh_every_s(idle_s: float) -> float:
    """How often an active page renews its cookie: an eighth of the limit, at most 10 min.

    Example:
        >>> refresh_every_s(8 * 3600), refresh_every_s(800)
        (600.0, 100.0)
    """
    return float(min(idle_s / 8, 600.0))


def issue_session(secret: bytes, user: Any, *, now: float | None = None,
                  logged_in_at: float | None = None) -> str:
    """A cookie value for ``user`` (an account row), issued ``now``, for a login made at
    ``logged_in_at`` (default ``now``: a new login; a renewal passes the original time)."""
    issued = round(time.time() if now is None else now, 3)
    body = {"uid": int(user.id), "pwf": password_fingerprint(user.password_hash),
            "ep": int(user.session_epoch or 0), "iat": issued,
            "lt": issued if logged_in_at is None else round(logged_in_at, 3)}
    return str(serializer(secret, SESSION_SALT).dumps(body))


def read_session(secret: bytes, value: object, *, now: float | None = None,
                 idle_s: float | None = None, max_age_s: float | None = None) -> SessionClaims | None:
    """The claims of a cookie value we signed that was issued at most ``idle_s`` ago, for a
    login at most ``max_age_s`` ago (defaults: the configured limits), else None."""
    body = load_signed(secret, SESSION_SALT, value)
    if body is None:
        return None
    try:
        issued = float(body["iat"])
        claims = SessionClaims(int(body["uid"]), str(body["pwf"]), int(body["ep"]), issued,
                               float(body.get("lt", issued)))
    except (ValueError, KeyError, TypeError, OverflowError):
        return None
    current = time.time() if now is None else now
    limit = idle_limit_s() if idle_s is None else idle_s
    absolute = login_max_age_s() if max_age_s is None else max_age_s
    if not (-60 <= current - claims.issued_at <= limit):  # a minute of clock skew between replicas
        return None
    if not (-60 <= current - claims.logged_in_at <= absolute) or claims.logged_in_at > claims.issued_at:
        return None
    return claims


def cookie_lifetime_s(claims: SessionClaims, now: float) -> int:
    """``Max-Age`` of a cookie renewed ``now``: the inactivity limit, cut to what is left of
    the absolute one.

    Example:
        >>> claims = SessionClaims(1, "f", 0, issued_at=0.0, logged_in_at=0.0)
        >>> cookie_lifetime_s(claims, now=3600.0), cookie_lifetime_s(claims, now=20 * 3600.0)
        (28800, 14400)
    """
    return max(0, int(min(idle_limit_s(), claims.logged_in_at + login_max_age_s() - now)))


def session_accepts(claims: SessionClaims, user: Any) -> bool:
    """Whether the account still honours the cookie: active, same password, not logged out since."""
    return accepts(user, claims.password_fingerprint) and int(user.session_epoch or 0) == claims.epoch


def safe_next(target: object) -> str:
    """A deep link to return to after login: a path on this site (with its query), else ``/``.

    Anything that could lead elsewhere (a scheme, a host, ``//``, a backslash, control
    characters) gives ``/``.

    Example:
        >>> safe_next("/judge-pairs?study=2"), safe_next("//evil.example/x"), safe_next("https://x.y/")
        ('/judge-pairs?study=2', '/', '/')
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > MAX_NEXT_CHARS:
        return "/"
    if target.startswith("//") or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")
