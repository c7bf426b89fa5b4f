"""The app's link to the database and to the logged-in person.

* :func:`get_engine` - one engine per database URL for the whole server process
  (``st.cache_resource``); the URL comes from ``ANNOTATE_DB_URL`` (see
  :func:`annotate.db.engine.resolve_url`). Sessions are never cached: use
  :func:`db_session` per rerun.
* The logged-in user is only ``st.session_state["user_id"]``; :func:`current_user` reloads
  the row on every rerun, so a deactivation or role change takes effect at once.
* :func:`require_page_role` is the first line of every page: it re-checks the role on the
  server, whatever the navigation menu showed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from annotate.db.engine import make_engine, resolve_url, session_scope
from annotate.db.models import User
from annotate.services import users as users_service

USER_KEY = "user_id"


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    """The shared engine for the database named by ``ANNOTATE_DB_URL`` (or the default file)."""
    return _engine_for(resolve_url(None))


@contextmanager
def db_session() -> Iterator[Session]:
    """A fresh session on :func:`get_engine` for the current rerun."""
    with session_scope(get_engine()) as session:
        yield session


def logged_in_user() -> User | None:
    """The active logged-in user, or ``None`` (clearing a stale or deactivated login)."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    with db_session() as session:
        user = users_service.get_user(session=session, user_id=int(user_id))
    if user is None or not user.active:
        logout()
        return None
    return user


def current_user() -> User:
    """The logged-in user; otherwise shows a notice and stops the page."""
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
