"""Accounts (admin): list accounts, add one, change a role, deactivate or re-activate, reset a
password; close, reopen, archive or restore a study. Every rule is checked again by the services.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotate.services.accounts import users as users_service
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import shown_name, shown_names
from annotate.services.core.roles import ROLES
from annotate.services.core.statuses import StudyStatus
from annotate.services.studies import lifecycle
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page

admin = require_page(__file__)
st.title("Accounts")

flash = st.session_state.pop("admin_users_flash", None)
if flash:
    st.success(plain_label(flash))


def _done(message: str) -> None:
    st.session_state["admin_users_flash"] = message
    st.rerun()


with db_session() as session:
    accounts = users_service.list_users(session=session, actor=admin)
    all_studies = lifecycle.list_studies(session=session, actor=admin)

st.dataframe(
    pd.DataFrame([{"Username": u.username, "Name": u.display_name, "Role": u.role,
                   "Active": u.active, "Created": u.created_at} for u in accounts]),
    hide_index=True,
    column_config={"Created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})

add_tab, role_tab, status_tab, password_tab, study_tab = st.tabs(
    ["Add account", "Change role", "Deactivate / re-activate", "Reset password", "Studies"])

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
                st.error(plain_label(for_person(exc)))
            else:
                _done(f"Account {created.username} ({created.role}) created.")

others = [u for u in accounts if u.id != admin.id]
with role_tab:
    if not others:
        st.write("No other accounts yet.")
    else:
        target = st.selectbox("Account", [u.username for u in others], key="role_target")
        chosen = next(u for u in others if u.username == target)
        new_role = st.selectbox(f"New role (now: {plain_label(chosen.role)})", ROLES, index=ROLES.index(chosen.role),
                                key=f"role_new_{chosen.username}")  # its default belongs to this account
        st.caption("The account sees the pages of its new role on its next click. Your own role is changed "
                   "by another admin.")
        if st.button("Change role", key=f"role_change_{chosen.username}", disabled=new_role == chosen.role):
            try:
                with db_session() as session:
                    changed = users_service.set_role(session=session, username=chosen.username, role=new_role,
                                                     actor=admin)
            except ServiceError as exc:
                st.error(plain_label(for_person(exc)))
            else:
                _done(f"Account {changed.username} is now {changed.role}.")

with status_tab:
    if not others:
        st.write("No other accounts yet.")
    else:
        target = st.selectbox("Account", [u.username for u in others], key="status_target")
        chosen = next(u for u in others if u.username == target)
        st.write(f"**{plain_label(chosen.username)}** ({plain_label(chosen.role)}) is "
                 f"{'active' if chosen.active else 'deactivated'}.")
        label = "Deactivate" if chosen.active else "Re-activate"
        if st.button(label, key=f"toggle_active_{chosen.username}"):
            try:
                with db_session() as session:
                    changed = users_service.set_active(session=session, username=chosen.username,
                                                       active=not chosen.active, actor=admin)
            except ServiceError as exc:
                st.error(plain_label(for_person(exc)))
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
                st.error(plain_label(for_person(exc)))
            else:
                _done(f"Password of {changed.username} reset.")

# what each status offers: (button label, new status)
MOVES: dict[str, tuple[tuple[str, StudyStatus], ...]] = {
    StudyStatus.ACTIVE: (("Close", StudyStatus.CLOSED), ("Archive", StudyStatus.ARCHIVED)),
    StudyStatus.CLOSED: (("Reopen", StudyStatus.ACTIVE), ("Archive", StudyStatus.ARCHIVED)),
    StudyStatus.ARCHIVED: (("Restore (closed)", StudyStatus.CLOSED),)}
with study_tab:
    if not all_studies:
        st.write("No studies yet. A researcher creates one on *Design a study*.")
    else:
        st.caption("Closed studies serve no tasks and accept no judgments; their results stay readable. "
                   "Archived studies are closed and put away; only an admin archives or restores one.")
        shown = shown_names({s.id: s.name for s in all_studies})  # escaped, capped, look-alikes with their id
        ids = {s.name: s.id for s in all_studies}
        st.dataframe(pd.DataFrame([{"Study": shown[s.id], "Kind": s.kind, "Status": s.status, "Created": s.created_at}
                                   for s in all_studies]), hide_index=True, key="admin_studies",
                     column_config={"Created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        name = st.selectbox("Study", [s.name for s in all_studies], key="admin_study",
                            format_func=lambda n: shown[ids[n]])
        study = next(s for s in all_studies if s.name == name)
        st.write(f"**{plain_label(shown_name(study.name))}** is {plain_label(study.status)}.")
        columns = st.columns(4)
        for column, (label, status) in zip(columns, MOVES.get(study.status, ()), strict=False):
            if column.button(label, key=f"study_{status}_{study.id}"):
                try:
                    with db_session() as session:
                        moved = lifecycle.set_study_status(session=session, actor=admin,
                                                                 study_name=study.name, status=status)
                except ServiceError as exc:
                    st.error(plain_label(for_person(exc)))
                else:
                    _done(f"Study {shown_name(moved.name)} is now {moved.status}.")
