"""The app's link to the database and to the logged-in person.

* :func:`get_engine` - one engine per database URL for the whole server process (a
  module-level dict: a plain lookup on every rerun, where ``st.cache_resource`` hashed
  its argument and inspected the function each time); the URL comes from
  ``ANNOTATE_DB_URL`` (see :func:`annotate.db.engine.resolve_url`). Sessions are never
  cached: use :func:`db_session` per rerun.
* The logged-in user is only ``st.session_state["user_id"]``; :func:`logged_in_user`
  re-checks the account on every rerun with one small indexed query (its id, role,
  active flag, name and password hash), so a deactivation or role change takes effect at
  the next rerun. The full ``User`` row is kept in the session state and reloaded only
  when that check shows it changed. Within one rerun the app entry checks once and hands
  the result to the page (:func:`checked_user`), so a page does not query again; a page
  script run on its own (or a fragment rerun) checks for itself.
* :func:`require_page_role` is the first line of every page: it re-checks the role on the
  server, whatever the navigation menu showed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from annotate.db.engine import make_engine, resolve_url, session_scope
from annotate.db.models import User
from annotate.services.accounts import users as users_service

USER_KEY = "user_id"
_ACCOUNT_KEY = "_account_cache"  # (user id, fingerprint, detached User) of the last check
_USERS = User.__table__  # type: ignore[attr-defined]
_FINGERPRINT = select(_USERS.c.id, _USERS.c.username, _USERS.c.role, _USERS.c.display_name,
                      _USERS.c.active, _USERS.c.password_hash)
_SQLITE_FINGERPRINT = str(_FINGERPRINT.where(_USERS.c.id == bindparam("user_id"))
                          .compile(dialect=sqlite.dialect()))  # one "?" parameter
_this_run = threading.local()  # the user checked by the app entry during the current rerun
_engines: dict[str, Engine] = {}  # database URL -> the process's engine for it
_engines_lock = threading.Lock()


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
    return (user.id, user.username, user.role, user.display_name, user.active, user.password_hash)


def logged_in_user() -> User | None:
    """The active logged-in user, or ``None`` (clearing a stale or deactivated login).

    Checked against the database on every call; the full row is reloaded only when the
    account changed since the last check of this browser session.
    """
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
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
    if user is None or not user.active:
        logout()
        return None
    st.session_state[_ACCOUNT_KEY] = (user_id, _user_fingerprint(user), user)
    return user


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
    return user  # type: ignore[return-value]  # st.stop() does not return


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


def login(username: str, password: str) -> tuple[User | None, float]:
    """Check the credentials; on success start a fresh session state holding the user id.

    Returns:
        ``(user, 0.0)`` on success; ``(None, wait_seconds)`` otherwise, where
        ``wait_seconds`` > 0 means the username is temporarily slowed.
    """
    with db_session() as session:
        user = users_service.authenticate(session=session, username=username, password=password)
        wait = 0.0 if user is not None else users_service.seconds_until_allowed(
            session=session, username=username)
    if user is None:
        return None, wait
    st.session_state.clear()
    st.session_state[USER_KEY] = user.id
    return user, 0.0


def logout() -> None:
    """Forget the login and everything else this browser session held."""
    st.session_state.clear()
