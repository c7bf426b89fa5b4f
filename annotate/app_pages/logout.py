"""Log out (the last entry of the navigation, under the name of who is logged in).

Forgets everything this browser session held (:func:`annotate.ui.session.logout`) and
reruns: the app entry then shows the login form. Run with nobody logged in (a crafted
URL), it only asks for a login.
"""

from __future__ import annotations

import streamlit as st

from annotate.ui.session import USER_KEY, logout

if st.session_state.get(USER_KEY) is None:
    st.warning("Please log in.")
else:
    logout()
    st.rerun()
