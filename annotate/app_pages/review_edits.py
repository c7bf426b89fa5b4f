"""Review edits (expert): approve or reject other experts' pending instruction and material
versions. Your own edits are listed but only another expert can review them.
"""

from __future__ import annotations

import streamlit as st

from annotate.services.core.errors import ServiceError
from annotate.services.refine import edits
from annotate.ui.refine_widgets import side_by_side_diff
from annotate.ui.safe_markdown import plain_label, to_safe_markdown
from annotate.ui.session import db_session, require_page_role

user = require_page_role("expert")
st.title("Review edits")
st.caption("Approving makes a version current; judgments made on the older content become stale.")
if flash := st.session_state.pop("review_flash", None):
    st.success(plain_label(flash), icon=":material/check_circle:")

with db_session() as session:
    pending = edits.pending_edits(session=session, actor=user)
if not pending:
    st.info("No edits await review.")
    st.stop()
st.write(f"{len(pending)} edit(s) await review.")
for edit in pending:
    what = "Instruction" if edit.kind == "instruction" else f"Material “{to_safe_markdown(edit.document_title)}”"
    with st.container(border=True):
        st.markdown(f"**Query {edit.query_index:d}** · {what} · version {edit.version_no:d} "
                    f"(based on {plain_label(edit.base_version_no)}) · by **{plain_label(edit.author)}** · "
                    f"{edit.created_at:%Y-%m-%d %H:%M}")
        st.markdown(f"Reason: {to_safe_markdown(edit.reason)}")
        if edit.removals:
            st.caption("Removed segments: " + ", ".join(f"{int(p) + 1} ({plain_label(why)})" for p, why in edit.removals.items()))
        with st.expander("Changes (the same view the author saw)", expanded=len(pending) <= 3):
            side_by_side_diff(edit.base_text, edit.new_text, f"version {edit.base_version_no}",
                              f"version {edit.version_no}")
        key = f"{edit.kind}_{edit.version_id}"
        if edit.author_id == user.id:
            st.caption("This is your own edit: another expert must approve or reject it.")
            continue
        if edit.waits_for is not None:
            st.caption(f"Built on version {edit.waits_for:d}, which is still pending: review that one first "
                       "(rejecting it rejects this one too, since this one carries its changes).")
        note = st.text_input("Reason (required to reject, optional to approve)", key=f"note_{key}",
                             placeholder="e.g. the new wording drops the word limit the materials need")
        c1, c2, c3 = st.columns([1, 1, 4], vertical_alignment="center")
        if not note.strip():
            c3.caption("A reason is required to reject.")
        # Reject is never greyed out for a missing reason: a reason typed and not yet sent made
        # the first click land on a disabled button. The click checks it.
        for column, label, approve in ((c1, "Approve", True), (c2, "Reject", False)):  # literals
            if column.button(label, key=f"{label.lower()}_{key}", type="primary" if approve else "secondary",
                             disabled=edit.waits_for is not None if approve else False):
                if not approve and not note.strip():
                    c3.error("Write a reason first; nothing was rejected.")
                    continue
                with db_session() as session:
                    try:
                        edits.review_edit(session=session, actor=user, kind=edit.kind,
                                          version_id=edit.version_id, approve=approve, note=note)
                    except ServiceError as exc:
                        st.error(plain_label(exc))
                    else:
                        flash = (f"{'Approved' if approve else 'Rejected'} query {edit.query_index} {edit.kind} "
                                 f"version {edit.version_no}.")
                        fallen = [] if approve else edits.versions_built_on(pending, edit)
                        if fallen:
                            flash += (" Rejected with it, as they build on it: version "
                                      + ", ".join(str(n) for n in fallen) + ".")
                        st.session_state["review_flash"] = flash
                        st.rerun()
