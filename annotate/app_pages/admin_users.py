"""Accounts (admin): list accounts, add one, deactivate or re-activate, reset a password."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotate.navigation import ROLES
from annotate.services.accounts import users as users_service
from annotate.services.core.errors import ServiceError
from annotate.ui.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page_role

admin = require_page_role("admin")
st.title("Accounts")

flash = st.session_state.pop("admin_users_flash", None)
if flash:
    st.success(plain_label(flash))


def _done(message: str) -> None:
    st.session_state["admin_users_flash"] = message
    st.rerun()


with db_session() as session:
    accounts = users_service.list_users(session=session, actor=admin)

st.dataframe(
    pd.DataFrame([{"Username": u.username, "Name": u.display_name, "Role": u.role,
                   "Active": u.active, "Created": u.created_at} for u in accounts]),
    hide_index=True,
    column_config={"Created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})

add_tab, status_tab, password_tab = st.tabs(["Add account", "Deactivate / re-activate", "Reset password"])

with add_tab, st.form("add_account", clear_on_submit=True):
    username = st.text_input("Username", key="new_username")
    display_name = st.text_input("Display name (optional)", key="new_display_name")
    role = st.selectbox("Role", ROLES, key="new_role")
    password = st.text_input("Password", type="password", key="new_password",
                             help=f"At least {users_service.MIN_PASSWORD_LENGTH} characters.")
    confirm = st.text_input("Repeat the password", type="password", key="new_password_confirm")
    if st.form_submit_button("Add account", type="primary"):
        if password != confirm:
            st.error("The two passwords differ.")
        else:
            try:
                with db_session() as session:
                    created = users_service.create_user(
                        session=session, username=username, role=role, password=password,
                        display_name=display_name, actor=admin)
            except ServiceError as exc:
                st.error(plain_label(exc))
            else:
                _done(f"Account {created.username} ({created.role}) created.")

others = [u for u in accounts if u.id != admin.id]
with status_tab:
    if not others:
        st.write("No other accounts yet.")
    else:
        target = st.selectbox("Account", [u.username for u in others], key="status_target")
        chosen = next(u for u in others if u.username == target)
        st.write(f"**{plain_label(chosen.username)}** ({plain_label(chosen.role)}) is "
                 f"{'active' if chosen.active else 'deactivated'}.")
        label = "Deactivate" if chosen.active else "Re-activate"
        if st.button(label, key="toggle_active"):
            try:
                with db_session() as session:
                    changed = users_service.set_active(session=session, username=chosen.username,
                                                       active=not chosen.active, actor=admin)
            except ServiceError as exc:
                st.error(plain_label(exc))
            else:
                _done(f"Account {changed.username} is now {'active' if changed.active else 'deactivated'}.")

with password_tab, st.form("reset_password", clear_on_submit=True):
    target = st.selectbox("Account", [u.username for u in accounts], key="reset_target")
    new_password = st.text_input("New password", type="password", key="reset_password")
    confirm = st.text_input("Repeat the new password", type="password", key="reset_password_confirm")
    if st.form_submit_button("Reset password"):
        if new_password != confirm:
            st.error("The two passwords differ.")
        else:
            try:
                with db_session() as session:
                    changed = users_service.set_password(session=session, username=target,
                                                         password=new_password, actor=admin)
            except ServiceError as exc:
                st.error(plain_label(exc))
            else:
                _done(f"Password of {changed.username} reset.")
