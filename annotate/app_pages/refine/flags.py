"""Flags (expert): the queue of flags annotators set on their judgments ("Problem with the query",
"A response is cut off", "Needs an expert", "Needs materials"). An expert resolves each with a note, or reopens a
resolved one; every decision is kept (:mod:`annotate.services.refine.flags`).
"""

from __future__ import annotations

import streamlit as st

from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import shown_name
from annotate.services.core.statuses import FlagStatus
from annotate.services.refine import flags
from annotate.ui.annotate.task_state import FLAGS as FLAG_LABELS
from annotate.ui.kit.safe_markdown import plain_label, to_safe_markdown
from annotate.ui.session import db_session, require_page

user = require_page(__file__)
st.title("Flags")
st.caption("Annotators flag a judgment when the query has a problem, a response is cut off, they need an "
           "expert, or the query needs materials. Resolve each flag with a note saying what was done (for example "
           "an edit of the query, or a material added) or why no change is needed.")
if flash := st.session_state.pop("flags_flash", None):
    st.success(plain_label(flash), icon=":material/check_circle:")

show_resolved = st.checkbox("Show resolved flags too", key="flags_show_resolved")
with db_session() as session:
    queue = flags.flag_queue(session=session, actor=user, include_resolved=show_resolved)
n_open = sum(1 for item in queue if item.status == FlagStatus.OPEN)
if not queue:
    st.info("No open flag.")
    st.stop()
st.write(f"{n_open:d} open flag(s).")
for item in queue:
    key = f"{item.judgment_id:d}_{item.flag}"
    # a fresh note box after each decision (a widget keeps its text across a rerun otherwise)
    note_key = f"flag_note_{key}_{int(item.decided_at.timestamp() * 1e6) if item.decided_at else 0:d}"
    resolved = item.status == FlagStatus.RESOLVED
    with st.container(border=True):
        st.markdown(f"**Query {item.query_index:d}** · study {plain_label(shown_name(item.study))} · "
                    f"**{plain_label(FLAG_LABELS.get(item.flag, item.flag))}** · by {plain_label(item.annotator)} · "
                    + ("resolved" if resolved else "open"))
        if item.rationale.strip():
            st.markdown("Annotator's rationale: " + to_safe_markdown(item.rationale))
        if item.expert:
            st.caption(("Resolved" if resolved else "Reopened") + f" by {plain_label(item.expert)}"
                       + (f" on {item.decided_at:%Y-%m-%d %H:%M}" if item.decided_at else "")
                       + f": {plain_label(item.note)}")
        # the decision first (note and button on one line), the history after it: the one
        # decision stays in view at 1366x768 even with a flash message and the history open
        with st.container(horizontal=True, vertical_alignment="bottom"):
            note = st.text_input("Note (required)" if not resolved else "Why reopen it (required)",
                                 key=note_key, width="stretch",
                                 placeholder="e.g. the query now states the word limit; the response is complete")
            label = "Reopen" if resolved else "Resolve"
            clicked = st.button(label, key=f"flag_{label.lower()}_{key}", type="secondary" if resolved else "primary")
        if clicked:
            with db_session() as session:
                try:
                    decide = flags.reopen_flag if resolved else flags.resolve_flag
                    decide(session=session, actor=user, judgment_id=item.judgment_id, flag=item.flag, note=note)
                except ServiceError as exc:
                    st.error(plain_label(for_person(exc)))
                else:
                    st.session_state["flags_flash"] = (f"Flag on query {item.query_index:d} "
                                                       + ("reopened." if resolved else "resolved."))
                    st.session_state.pop(note_key, None)
                    st.rerun()
        if item.expert:
            with st.expander("History"):
                with db_session() as session:
                    history = flags.flag_history(session=session, actor=user, judgment_id=item.judgment_id,
                                                 flag=item.flag)
                st.dataframe([{"when": f"{d.created_at:%Y-%m-%d %H:%M}", "expert": d.expert, "status": d.status,
                               "note": d.note} for d in history], hide_index=True)
