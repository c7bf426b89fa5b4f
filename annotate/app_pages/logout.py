"""Log out (the last entry of the navigation, under the name of who is logged in).

Ends every session cookie of the account (:func:`annotate.ui.session.end_login`: a reload
or another device then asks for a login again), forgets everything this browser session
held and reruns: the app entry then shows the login form. Run with nobody logged in (a crafted
URL), it only asks for a login.
"""

from __future__ import annotations

import streamlit as st

from annotate.ui.session import USER_KEY, end_login, logged_in_user

user = logged_in_user() if st.session_state.get(USER_KEY) is not None else None
if user is None:
    st.warning("Please log in.")
else:
    end_login(user)
    st.rerun()
