"""Criteria comparison for one query (researcher, admin): dynamic vs static-global vs
static-domain criteria side by side, and which of the query's requirements each set mentions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotate.services.core.errors import ServiceError, for_person
from annotate.services.judges.criteria_view import criteria_comparison, query_choices
from annotate.ui.kit.panes import scroll_pane
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page

METHOD_NOTES = {
    "dynamic": "written for this query (WritingBench's query-dependent checklist)",
    "static-global": "one fixed set for every query",
    "static-domain": "one fixed set per domain of the query",
}

actor = require_page(__file__)
st.title("Criteria comparison")
st.caption("A requirement is a sentence of the query that states a constraint; a criterion covers it when they "
           "share keywords (at least two, or a number). A reading aid, not a statistic.")

with db_session() as session:
    choices = query_choices(session=session)
if not choices:
    st.info("No queries yet. Import them with `annotate import queries FILE`.")
    st.stop()
labels = dict(choices)
index = st.selectbox("Query", list(labels), format_func=lambda i: labels[i], key="crit_query")  # plain text
with db_session() as session:
    try:
        cmp = criteria_comparison(session=session, actor=actor, query_index=int(index))
    except ServiceError as exc:
        st.error(plain_label(for_person(exc)))
        st.stop()
st.caption(plain_label(f"{cmp.domain1} › {cmp.domain2} · {cmp.lang}"))
scroll_pane(cmp.instruction, height=220, key="crit_instruction")

cols = st.columns(len(cmp.sets))
for col, (label, crits) in zip(cols, cmp.sets.items(), strict=True):
    with col:
        st.markdown(f"**{plain_label(label)}**")
        if label in METHOD_NOTES:
            st.caption(f"Criteria {METHOD_NOTES[label]}.")
        if not crits:
            st.caption("(none)")
        for name, desc in crits:
            # Imported criteria are data: shown as plain text (a markdown image would be fetched).
            st.markdown(f"- **{plain_label(name)}** — {plain_label(desc)}")

st.subheader("Requirements covered")
if not cmp.requirements:
    st.caption("No requirement sentence found in this query.")
else:
    table = pd.DataFrame({"#": [r.number for r in cmp.requirements], "requirement": [r.text for r in cmp.requirements],
                          **{label: [", ".join(c) if c else "—" for c in cov] for label, cov in cmp.coverage.items()}})
    st.dataframe(table, hide_index=True, width="stretch", key="crit_table",
                 column_config={"#": st.column_config.NumberColumn(width="small"),
                                "requirement": st.column_config.TextColumn(width="large")})
    st.caption("Each cell lists the criteria of that set that cover the requirement; — means none does.")
    st.caption(" · ".join(f"{plain_label(label)}: {sum(1 for c in cov if c)} of {len(cov)} requirements"
                          for label, cov in cmp.coverage.items()))
