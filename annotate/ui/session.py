"""The app's link to the database and to the logged-in person.

* :func:`get_engine` - one engine per database URL for the whole server process (a
  module-level dict: a plain lookup on every rerun, where ``st.cache_resource`` hashed
  its argument and inspected the function each time); the URL comes from
  ``ANNOTATE_DB_URL`` (see :func:`annotate.db.engine.resolve_url`). Sessions are never
  cached: use :func:`db_session` per rerun.
* Logging in happens on the server's own login route (:mod:`annotate.api.web_login`),
  which sets a signed session cookie (:mod:`annotate.auth.session_cookie`). On every script
  run :func:`logged_in_user` takes the user from ``st.session_state["user_id"]`` or, in a
  new browser session (a reload, a reopened tab, a bookmark), from that cookie as read by
  ``st.context.cookies``. Either way it re-checks the account with one small indexed query
  (its id, role, active flag, name, password hash and session epoch), so a deactivation,
  a role change or a logout elsewhere takes effect at the next rerun; a login idle for
  longer than the inactivity limit, or older than the absolute limit, ends too. The full
  ``User`` row is kept in the session state and reloaded only
  when that check shows it changed. Within one rerun the app entry checks once and hands
  the result to the page (:func:`checked_user`), so a page does not query again; a page
  script run on its own (or a fragment rerun) checks for itself.
* :func:`require_page` is the first line of every page: it re-checks, on the server, the
  role against the page's roles in the registry, whatever the navigation menu showed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import streamlit as st
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from annotate.auth.session_cookie import (
    COOKIE_NAME,
    idle_limit_s,
    login_max_age_s,
    read_session,
    session_accepts,
)
from annotate.auth.tokens import resolve_secret
from annotate.db.engine import make_engine, resolve_url, session_scope
from annotate.db.models import User
from annotate.navigation import page_of_file
from annotate.services.accounts import users as users_service

USER_KEY = "user_id"
_ACCOUNT_KEY = "_account_cache"  # (user id, fingerprint, detached User) of the last check
_LOGIN_KEY = "_login"  # {"epoch": session epoch at login, "seen": last run, "since": login time, "cookie": from a cookie}
_REFUSED_KEY = "_refused_cookie"  # a cookie value already refused in this browser session
_USERS = User.__table__  # type: ignore[attr-defined]
_FINGERPRINT = select(_USERS.c.id, _USERS.c.username, _USERS.c.role, _USERS.c.display_name,
                      _USERS.c.active, _USERS.c.password_hash, _USERS.c.session_epoch)
_SQLITE_FINGERPRINT = str(_FINGERPRINT.where(_USERS.c.id == bindparam("user_id"))
                          .compile(dialect=sqlite.dialect()))  # one "?" parameter
_this_run = threading.local()  # the user checked by the app entry during the current rerun
_engines: dict[str, Engine] = {}  # database URL -> the process's engine for it
_engines_lock = threading.Lock()
_secret: list[bytes] = []  # the signing secret, resolved once per process


def app_secret() -> bytes:
    """The deployment's signing secret (the API's and the session cookie's): see
    :func:`annotate.auth.tokens.resolve_secret`; ``annotate_secret_key`` in Streamlit secrets
    is used when ``$ANNOTATE_SECRET_KEY`` is not set."""
    if not _secret:
        try:
            configured = st.secrets.get("annotate_secret_key")
        except Exception:  # no secrets.toml: fine, fall back to the key file  # noqa: BLE001
            configured = None
        _secret.append(resolve_secret(configured))
    return _secret[0]


def get_engine() -> Engine:
    """The shared engine for the database named by ``ANNOTATE_DB_URL`` (or the default file)."""
    url = resolve_url(None)
    engine = _engines.get(url)
    if engine is None:
        with _engines_lock:  # two sessions starting at once still share one engine
            engine = _engines.get(url)
            if engine is None:
                engine = _engines[url] = make_engine(url)
    return engine


@contextmanager
def db_session() -> Iterator[Session]:
    """A fresh session on :func:`get_engine` for the current rerun."""
    with session_scope(get_engine()) as session:
        yield session


def _fingerprint(user_id: int) -> tuple | None:
    """The account's id, name, role, active flag and password hash (one indexed query)."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        # A lone SELECT in SQLite's autocommit mode is a consistent read of its own; going
        # through the DBAPI connection skips the engine's BEGIN IMMEDIATE (a write lock
        # that a read does not need).
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(_SQLITE_FINGERPRINT, (user_id,))
            row = cursor.fetchone()
            cursor.close()
        finally:
            raw.close()
    else:
        with engine.connect() as connection:
            row = connection.execute(_FINGERPRINT.where(_USERS.c.id == user_id)).first()
    return None if row is None else tuple(row)


def _user_fingerprint(user: User) -> tuple:
    return (user.id, user.username, user.role, user.display_name, user.active, user.password_hash,
            user.session_epoch)


def browser_cookie() -> str | None:
    """The session cookie this browser session was opened with (``st.context.cookies``)."""
    return st.context.cookies.get(COOKIE_NAME)


def _cookie_user_id(now: float) -> int | None:
    """The user id of this browser's valid session cookie (signature and age), else None."""
    value = browser_cookie()
    if not value or value == st.session_state.get(_REFUSED_KEY):
        return None
    claims = read_session(app_secret(), value, now=now, idle_s=idle_limit_s())
    if claims is not None:
        current = _fingerprint(claims.user_id)
        if current is not None:
            _, _, _, _, active, password_hash, epoch = current
            account = SimpleNamespace(active=active, password_hash=password_hash, session_epoch=epoch)
            if session_accepts(claims, account):
                st.session_state[_LOGIN_KEY] = {"epoch": epoch, "seen": now, "since": claims.logged_in_at,
                                                "cookie": True}
                return claims.user_id
    st.session_state[_REFUSED_KEY] = value
    return None


def logged_in_user() -> User | None:
    """The active logged-in user, or ``None`` (clearing a stale or deactivated login).

    The user comes from the session state or, in a new browser session, from the session
    cookie. Checked against the database on every call; the full row is reloaded only
    when the account changed since the last check of this browser session. A login whose
    account logged out elsewhere, or that saw no run for longer than the inactivity limit,
    ends here.
    """
    now = time.time()
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        user_id = _cookie_user_id(now)
        if user_id is None:
            return None
        st.session_state[USER_KEY] = user_id
    user_id = int(user_id)
    current = _fingerprint(user_id)
    cached = st.session_state.get(_ACCOUNT_KEY)
    if current is not None and cached is not None and cached[0] == user_id and cached[1] == current:
        user = cached[2]
    else:
        user = None
        if current is not None:
            with db_session() as session:
                user = users_service.get_user(session=session, user_id=user_id)
    if user is None:
        logout()
        return None
    login_state: dict[str, Any] | None = st.session_state.get(_LOGIN_KEY)
    if login_state is None:  # logged in by a caller that set the id itself
        login_state = st.session_state[_LOGIN_KEY] = {"epoch": user.session_epoch, "seen": now, "since": now,
                                                      "cookie": False}
    if (not user.active or login_state["epoch"] != user.session_epoch
            or now - login_state["seen"] > idle_limit_s() or now - login_state["since"] > login_max_age_s()):
        logout()
        return None
    login_state["seen"] = now
    st.session_state[_ACCOUNT_KEY] = (user_id, _user_fingerprint(user), user)
    return user


def logged_in_by_cookie() -> bool:
    """Whether this browser session's login came from the session cookie (so the page
    should keep renewing it while the person works)."""
    return bool((st.session_state.get(_LOGIN_KEY) or {}).get("cookie"))


@contextmanager
def checked_user(user: User) -> Iterator[None]:
    """Within this block (one rerun of the app entry), :func:`current_user` returns ``user``.

    The app entry has just checked ``user`` with :func:`logged_in_user`; the page it runs
    inside the block need not query again. Outside the block (a page script run on its
    own, a fragment rerun, another thread) :func:`current_user` checks for itself.
    """
    _this_run.user = user
    try:
        yield
    finally:
        _this_run.user = None


def current_user() -> User:
    """The logged-in user; otherwise shows a notice and stops the page."""
    user = getattr(_this_run, "user", None)
    if user is None or st.session_state.get(USER_KEY) != user.id:
        user = logged_in_user()
    if user is None:
        st.warning("Please log in.")
        st.stop()
    return user  # st.stop() does not return


def require_page_role(*roles: str) -> User:
    """The logged-in user if their role is one of ``roles``; otherwise an error and a stop.

    Call it first on every page: the navigation only lists a role's pages, but a page must
    not rely on that.
    """
    user = current_user()
    if user.role not in roles:
        st.error("Your account does not have access to this page.")
        st.stop()
    return user


def require_page(script: str) -> User:
    """The logged-in user if the page registry (:mod:`annotate.navigation`) lets their role
    open the page whose script is ``script`` (the page passes its ``__file__``); otherwise
    an error and a stop. The first line of every page: its roles are written only in the registry.
    """
    return require_page_role(*page_of_file(script).roles)


def end_login(user: User) -> None:
    """Log out: every session cookie of ``user`` issued so far is refused from now on (on
    every device, :func:`annotate.services.accounts.users.end_sessions`), and this browser
    session forgets everything it held."""
    with db_session() as session:
        users_service.end_sessions(session=session, user_id=int(user.id))  # type: ignore[arg-type]
    logout()


def logout() -> None:
    """Forget the login and everything else this browser session held (the cookie this
    session was opened with stays refused: a logged-out tab does not log in again)."""
    refused = browser_cookie()
    st.session_state.clear()
    if refused:
        st.session_state[_REFUSED_KEY] = refused
