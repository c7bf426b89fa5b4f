"""Entry point of the annotate app: ``streamlit run annotate/streamlit_app.py``.

Logged out, the only page is the login form. Logged in, ``st.navigation`` lists the pages
of :mod:`annotate.navigation` that the user's role may open, grouped by section; its last
section is headed by who is logged in (name and role) and holds "Log out"
(``app_pages/logout.py``), so the sidebar costs no elements of its own on each rerun.
Each page re-checks the role itself (:func:`annotate.ui.session.require_page_role`).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import streamlit as st

from annotate.navigation import pages_for
from annotate.ui import session as ui_session
from annotate.ui.safe_markdown import plain_label

log = logging.getLogger("annotate.app")
APP_TITLE = "WritingBench human studies"
HERE = Path(__file__).parent  # Streamlit runs this file by its absolute path
PAGES_DIR = HERE / "app_pages"
LOGOUT_PAGE = PAGES_DIR / "logout.py"
# A local image: a ":material/...:" page icon makes the browser fetch the favicon from
# fonts.gstatic.com (a request to Google on every page load; fails offline).
FAVICON = HERE / "assets" / "favicon.png"


def favicon_data_uri() -> str:
    """The favicon as a ``data:`` URI: Streamlit passes such a URI through untouched,
    while a file path is re-read and decoded by PIL on every rerun."""
    return "data:image/png;base64," + base64.b64encode(FAVICON.read_bytes()).decode("ascii")


PAGE_CONFIG_KEY = "_page_config_sent"


def page_config() -> bool:
    """Send the title, favicon and wide layout unless this browser session already has them.

    The browser keeps a page configuration for the rest of its session (across reruns and
    page switches), so later reruns need not send it again. Returns whether it was sent:
    :func:`main` records it as delivered only when the run finishes normally (a run cut
    short by a rerun may lose its unsent messages). A reload is a new session (an empty
    session state), and logging in or out clears the state: both send it again.
    """
    if st.session_state.get(PAGE_CONFIG_KEY):
        return False
    st.set_page_config(page_title=APP_TITLE, page_icon=favicon_data_uri(), layout="wide")
    return True


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


NAV_KEY = "_nav_pages"  # ((role, account), sections) built for this browser session


def account_label(user) -> str:  # type: ignore[no-untyped-def]
    """Who is logged in, as the heading of the navigation's account section (Streamlit
    renders section headings as markdown: the name is a person's, so it is shown as plain text).

    Example:
        >>> from types import SimpleNamespace
        >>> account_label(SimpleNamespace(display_name=None, username="ann1", role="annotator"))
        'ann1 · Annotator'
    """
    name = user.display_name or user.username
    return f"{plain_label(name)} · {plain_label(ROLE_LABELS.get(user.role, user.role))}"


def build_pages(role: str, account: str = "Account") -> dict[str, list]:
    """``st.Page`` objects for ``role``, grouped by navigation section (registry order),
    then the section ``account`` (who is logged in) holding "Log out".

    Built once per browser session, role and account label (kept in the session state, so
    never shared between sessions); a change builds them again.
    """
    cached = st.session_state.get(NAV_KEY)
    if cached is not None and cached[0] == (role, account):
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
    ordered.setdefault(account, []).append(
        st.Page(LOGOUT_PAGE, title="Log out", icon=":material/logout:", url_path="logout"))
    st.session_state[NAV_KEY] = ((role, account), ordered)
    return ordered


def main() -> None:
    config_sent = page_config()
    user = ui_session.logged_in_user()
    if user is None:
        st.navigation([st.Page(login_page, title="Log in", icon=":material/login:",
                               url_path="login", default=True)], position="hidden").run()
    else:
        navigation = st.navigation(build_pages(user.role, account_label(user)))
        with ui_session.checked_user(user):  # the page's own role check reuses this rerun's check
            navigation.run()
    if config_sent:  # this run finished: its messages, the configuration included, were all sent
        st.session_state[PAGE_CONFIG_KEY] = True


main()
