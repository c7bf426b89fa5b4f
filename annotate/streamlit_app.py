"""The annotate app's script. It is served with its login route by ``annotate serve``
(``streamlit run annotate/asgi.py``); run alone it shows a login form with nothing to post to.

Logged out, every page address shows the login form: a plain HTML form that posts to the
server's login route (:mod:`annotate.api.web_login`), which sets the session cookie and
sends the browser back to the page it asked for. Logged in, ``st.navigation`` lists the pages
of :mod:`annotate.navigation` that the user's role may open, grouped by section; its last
section is headed by who is logged in (name and role) and holds "Log out"
(``app_pages/logout.py``), so the sidebar costs no elements of its own on each rerun.
Each page re-checks the role itself (:func:`annotate.ui.session.require_page`).
"""

from __future__ import annotations

import base64
import html
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import streamlit as st

from annotate.api.web_login import LOGIN_PATH, REFRESH_PATH
from annotate.auth.session_cookie import idle_limit_s, refresh_every_s, safe_next
from annotate.navigation import pages_for
from annotate.services.core.roles import ROLES
from annotate.ui import session as ui_session
from annotate.ui.kit.safe_markdown import plain_label

if TYPE_CHECKING:
    from annotate.db.models import User

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


ROLE_LABELS: dict[str, str] = {role: role.capitalize() for role in ROLES}


LOGIN_ERRORS = {
    "wrong": "Wrong username or password.",
    "slowed": "Too many failed logins from here. Try again in {wait} seconds.",
}
_LOGIN_PARAMS = ("login_error", "wait")
_LOGIN_CSS = """<style>
.annotate-login{display:flex;flex-direction:column;gap:.35rem;max-width:26rem;padding:1rem 1.25rem 1.25rem;
 border:1px solid rgba(49,51,63,.2);border-radius:.5rem}
.annotate-login h3{margin:0 0 .5rem 0;padding:0}
.annotate-login label{font-size:.875rem}
.annotate-login input{font:inherit;padding:.5rem .75rem;border:1px solid rgba(49,51,63,.2);border-radius:.5rem;
 background:#f0f2f6;margin-bottom:.5rem}
.annotate-login input:focus{outline:2px solid #ff4b4b;outline-offset:-1px}
.annotate-login button{font:inherit;align-self:flex-start;padding:.4rem .9rem;border:0;border-radius:.5rem;
 background:#ff4b4b;color:#fff;cursor:pointer;margin-top:.25rem}
</style>"""


def login_form_html(next_path: str) -> str:
    """The login form: a real HTML form posting to the server's login route, so the browser
    and password managers recognise it (``autocomplete`` username / current-password).

    ``next_path`` (where to land after login) goes in a hidden field, escaped.

    Example:
        >>> 'value="/judge-pairs?a=1&amp;b=&quot;"' in login_form_html('/judge-pairs?a=1&b="')
        True
    """
    return (_LOGIN_CSS
            + f'<form class="annotate-login" method="post" action="{LOGIN_PATH}">'
            '<h3>Log in</h3>'
            '<label for="annotate-username">Username</label>'
            '<input id="annotate-username" name="username" type="text" autocomplete="username" '
            'autocapitalize="none" spellcheck="false" required maxlength="100">'
            '<label for="annotate-password">Password</label>'
            '<input id="annotate-password" name="password" type="password" autocomplete="current-password" '
            'required maxlength="1024">'
            f'<input type="hidden" name="next" value="{html.escape(next_path, quote=True)}">'
            '<button type="submit">Log in</button></form>')


def next_after_login(url_path: str, params: dict[str, str]) -> str:
    """Where a login started on page ``url_path`` with query ``params`` should land.

    Example:
        >>> next_after_login("judge-pairs", {"study": "2", "login_error": "wrong"})
        '/judge-pairs?study=2'
        >>> next_after_login("logout", {}), next_after_login("login", {})
        ('/', '/')
    """
    path = "/" if url_path in ("", "login", "logout") else "/" + url_path
    query = {k: v for k, v in params.items() if k not in _LOGIN_PARAMS}
    return safe_next(path + ("?" + urlencode(query) if query else ""))


def login_page() -> None:
    """The login form (what every page shows while logged out)."""
    st.title(APP_TITLE)
    st.caption("Pairwise human judgments of writing, and how well automatic judges agree with them.")
    page = st.session_state.get(_LOGIN_PAGE_KEY, "")
    params = st.query_params.to_dict()
    left, _ = st.columns([2, 3])
    with left:
        st.html(login_form_html(next_after_login(page, params)))
        error = LOGIN_ERRORS.get(params.get("login_error", ""))
        if error:
            wait = params.get("wait", "")
            st.error(error.format(wait=int(wait) if wait.isdigit() else "a few"))
        st.caption("No account? Ask an administrator of this study to create one.")


_LOGIN_PAGE_KEY = "_login_page"  # the url path a logged-out visitor asked for


def login_navigation() -> None:
    """While logged out every page's address shows the login form (so a bookmark keeps its
    address and lands on its page after login); the pages themselves are not run."""
    paths = sorted({spec.url_path for role in ROLES for spec in pages_for(role)} - {"login"})
    pages = [st.Page(login_page, title="Log in", icon=":material/login:", url_path="login", default=True)]
    pages += [st.Page(login_page, title="Log in", url_path=path) for path in paths]
    current = st.navigation(pages, position="hidden")
    st.session_state[_LOGIN_PAGE_KEY] = current.url_path
    current.run()


def keep_cookie_fresh() -> None:
    """Renew the session cookie while the person works: a style-only element (no space on
    the page) whose image is fetched from the refresh route once per period."""
    period = refresh_every_s(idle_limit_s())
    stamp = int(time.time() // period)
    st.html(f"<style>[data-testid='stApp']::after{{content:url('{REFRESH_PATH}?p={stamp}');"
            "position:absolute;width:0;height:0;overflow:hidden;}</style>")


NAV_KEY = "_nav_pages"  # ((role, account), sections) built for this browser session


def account_label(user: User) -> str:
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
        login_navigation()
    else:
        navigation = st.navigation(build_pages(user.role, account_label(user)))
        if ui_session.logged_in_by_cookie():
            keep_cookie_fresh()
        with ui_session.checked_user(user):  # the page's own role check reuses this rerun's check
            navigation.run()
    if config_sent:  # this run finished: its messages, the configuration included, were all sent
        st.session_state[PAGE_CONFIG_KEY] = True


main()
