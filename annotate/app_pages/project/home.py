"""Home: the project's queries per domain and subdomain, and what to do next."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from annotate.navigation import pages_for
from annotate.services.accounts import users
from annotate.services.content.project_overview import query_counts, totals
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.roles import Role
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.project.my_work import show_my_work
from annotate.ui.session import db_session, require_page

NEXT_STEPS: dict[str, str] = {
    Role.ANNOTATOR: "Open your assigned pairs from the menu on the left. For each pair, read the query "
                 "and its materials, then say which response is better (or that they are equivalent). "
                 "Read the guidelines before your first judgment.",
    Role.EXPERT: "Review queries and their materials: adapt instructions that are unclear and prune "
              "materials that are redundant or irrelevant. A second expert approves each change.",
    Role.RESEARCHER: "Design a study (choose queries per subdomain, model pairs and annotators), follow "
                  "its progress, then compare the judges' verdicts with the human votes.",
    Role.ADMIN: "Create accounts for the people in the study on the Accounts page (or with "
             "`annotate users add`), and deactivate accounts that are no longer needed.",
}

user = require_page(__file__)
st.title("Home")
st.write(f"Welcome, **{plain_label(user.display_name or user.username)}**.")

st.subheader("What to do next")
st.info(NEXT_STEPS.get(user.role, ""))
if user.role == Role.ANNOTATOR:
    show_my_work(user)  # "N pairs left in study X" and a button to continue
here = Path(__file__).resolve().parents[1]  # annotate/app_pages
others = [spec for spec in pages_for(user.role) if spec.file != "project/home.py" and (here / spec.file).is_file()]
if others:
    st.caption("Your pages (also in the menu on the left):")
    for start in range(0, len(others), 4):
        for column, spec in zip(st.columns(4), others[start:start + 4], strict=False):
            column.page_link(f"app_pages/{spec.file}", label=spec.title, icon=spec.icon)

# Everyone changes their own (an admin resets others' on Accounts); the current one is
# asked first, so an unattended logged-in browser cannot be used to take the account.
with st.expander("Change my password"), st.form("own_password", clear_on_submit=True, border=False):
    current = st.text_input("Current password", type="password", key="own_pw_current")
    new = st.text_input("New password", type="password", key="own_pw_new")
    again = st.text_input("New password again", type="password", key="own_pw_again")
    if st.form_submit_button("Change my password"):
        with db_session() as session:
            if new != again:
                st.error("The two new passwords differ; nothing was changed.")
            elif users.authenticate(session=session, username=user.username, password=current) is None:
                st.error("The current password is not right; nothing was changed.")
            else:
                try:
                    users.set_password(session=session, username=user.username, password=new, actor=user)
                except ServiceError as exc:
                    st.error(f"Not changed: {plain_label(for_person(exc))}")
                else:
                    st.success("Your password is changed. Use the new one next time you log in.")

with db_session() as session:
    counts = query_counts(session=session)
    total = totals(session=session)

st.subheader("Queries in this project")
cols = st.columns(4)
cols[0].metric("Queries", f'{total["queries"]:,}')
cols[1].metric("Domains covered", f'{total["domains"]:d} of {total["domains_total"]:d}')
cols[2].metric("Subdomains covered", f'{total["subdomains"]:d} of {total["subdomains_total"]:d}')
cols[3].metric("Responses", f'{total["responses"]:,}')

if not counts:
    st.info("No queries yet. A researcher imports them with `annotate import queries FILE` "
            "(WritingBench's JSONL layout).")
    st.stop()

table = pd.DataFrame(
    [{"Domain": c.domain, "Subdomain": c.subdomain, "English": c.en, "Chinese": c.zh, "Total": c.total}
     for c in counts])
fig = px.sunburst(table, path=["Domain", "Subdomain"], values="Total",
                  title="Queries per domain (inner ring) and subdomain (outer ring)")
fig.update_layout(margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=480)
st.plotly_chart(fig, key="home_sunburst")

by_domain = (table.groupby("Domain", as_index=False)[["English", "Chinese", "Total"]].sum()
             .sort_values("Domain"))
st.markdown("**Per domain**")
st.dataframe(by_domain, hide_index=True)
st.markdown("**Per subdomain**")
st.dataframe(table, hide_index=True)
