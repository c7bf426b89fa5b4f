"""Log out (the last entry of the navigation, under the name of who is logged in).

Opening this page logs nobody out: it shows a "Log out" button, a plain HTML form that
POSTs to the server's logout route (:mod:`annotate.api.web_login`). That route checks the
form came from the app's own page (a page of another site cannot log anyone out), ends every
session cookie of the account on every device and its API tokens, deletes this browser's
cookie and reloads the app, which then shows the login form. Run with nobody logged in (a
crafted URL), the page only asks for a login.
"""

from __future__ import annotations

import streamlit as st

from annotate.api.web_login import LOGOUT_PATH
from annotate.ui.session import USER_KEY, logged_in_user

LOGOUT_FORM = (
    "<style>.annotate-logout button{font:inherit;padding:.4rem .9rem;border:0;border-radius:.5rem;"
    "background:#ff4b4b;color:#fff;cursor:pointer}</style>"
    f'<form class="annotate-logout" method="post" action="{LOGOUT_PATH}">'
    '<button type="submit">Log out</button></form>')

user = logged_in_user() if st.session_state.get(USER_KEY) is not None else None
if user is None:
    st.warning("Please log in.")
else:
    st.subheader("Log out")
    st.caption("Ends this login on every device where it is open, and the API tokens of this account.")
    st.html(LOGOUT_FORM)
