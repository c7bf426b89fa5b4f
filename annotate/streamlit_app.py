"""Entry point of the annotate app: ``streamlit run annotate/streamlit_app.py``.

Logged out, the only page is the login form. Logged in, ``st.navigation`` lists the pages
of :mod:`annotate.navigation` that the user's role may open, grouped by section; the
sidebar says who is logged in and offers a logout button. Each page re-checks the role
itself (:func:`annotate.ui.session.require_page_role`).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import streamlit as st

from annotate.navigation import pages_for
from annotate.ui import session as ui_session

log = logging.getLogger("annotate.app")
APP_TITLE = "WritingBench human studies"
PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
# A local image: a ":material/...:" page icon makes the browser fetch the favicon from
# fonts.gstatic.com (a request to Google on every page load; fails offline).
FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"


def favicon_data_uri() -> str:
    """The favicon as a ``data:`` URI: Streamlit passes such a URI through untouched,
    while a file path is re-read and decoded by PIL on every rerun."""
    return "data:image/png;base64," + base64.b64encode(FAVICON.read_bytes()).decode("ascii")


ROLE_LABELS = {"annotator": "Annotator", "expert": "Expert", "researcher": "Researcher", "admin": "Admin"}


def login_page() -> None:
    """The login form (the only page while logged out)."""
    st.title(APP_TITLE)
    st.caption("Pairwise human judgments of writing, and how well automatic judges agree with them.")
    left, _ = st.columns([2, 3])
    with left:
        with st.form("login", clear_on_submit=True):
            st.subheader("Log in")
            username = st.text_input("Username", key="login_username", autocomplete="username")
            password = st.text_input("Password", type="password", key="login_password",
                                     autocomplete="current-password")
            submitted = st.form_submit_button("Log in", type="primary")
        if submitted:
            user, wait = ui_session.login(username, password)
            if user is not None:
                st.rerun()
            elif wait > 0:
                st.error(f"Too many failed attempts for this username. "
                         f"Try again in {int(wait) + 1} seconds.")
            else:
                st.error("Wrong username or password.")
        st.caption("No account? Ask an administrator of this study to create one.")


NAV_KEY = "_nav_pages"  # (role, sections) built for this browser session


def build_pages(role: str) -> dict[str, list]:
    """``st.Page`` objects for ``role``, grouped by navigation section (registry order).

    Built once per browser session and role (kept in the session state, so never shared
    between sessions); a role change builds them again.
    """
    cached = st.session_state.get(NAV_KEY)
    if cached is not None and cached[0] == role:
        return cached[1]
    sections: dict[str, list] = {}
    specs = [spec for spec in pages_for(role) if (PAGES_DIR / spec.file).is_file()]
    for missing in set(pages_for(role)) - set(specs):
        log.warning("page file %s is registered in annotate/navigation.py but missing", missing.file)
    for i, spec in enumerate(specs):
        page = st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon,
                       url_path=spec.url_path, default=(i == 0))
        sections.setdefault(spec.section, []).append(page)
    # The admin section goes last whatever order pages were registered in.
    ordered = dict(sorted(sections.items(), key=lambda item: item[0] == "Admin"))
    st.session_state[NAV_KEY] = (role, ordered)
    return ordered


def sidebar_account(user) -> None:  # type: ignore[no-untyped-def]
    """Who is logged in, and the logout button."""
    with st.sidebar:
        name = user.display_name or user.username
        st.markdown(f"**{name}**  \n{ROLE_LABELS.get(user.role, user.role)}")
        st.button("Log out", key="logout", icon=":material/logout:", on_click=ui_session.logout)


def main() -> None:
    st.set_page_config(page_title=APP_TITLE, page_icon=favicon_data_uri(), layout="wide")
    user = ui_session.logged_in_user()
    if user is None:
        st.navigation([st.Page(login_page, title="Log in", icon=":material/login:",
                               url_path="login", default=True)], position="hidden").run()
        return
    sidebar_account(user)
    navigation = st.navigation(build_pages(user.role))
    with ui_session.checked_user(user):  # the page's own role check reuses this rerun's check
        navigation.run()


main()
