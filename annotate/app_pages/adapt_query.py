"""Adapt queries (expert): split pasted material off the instruction, edit the instruction
with a live side-by-side diff and a required reason, or revert to an earlier version.

Every save is a new pending version that a second expert approves on *Review edits*. The
version the editor started from is remembered; if someone saved in between, the save is
refused and both texts are shown (the editor keeps yours).
"""

from __future__ import annotations

import streamlit as st

from annotate.services.core.errors import ServiceError
from annotate.services.refine import edits, materials
from annotate.services.refine.edits import EditConflict
from annotate.services.refine.splitter import propose_split, split_at
from annotate.ui.panes import char_count_label, scroll_pane
from annotate.ui.refine_widgets import query_picker, side_by_side_diff
from annotate.ui.session import db_session, require_page_role

user = require_page_role("expert")
state = st.session_state
st.title("Adapt queries")
st.caption("Rewrite an unclear or unrealistic instruction so that it fits its materials and real practice. "
           "A second expert approves every change before annotators see it.")
if flash := state.pop("adapt_flash", None):
    st.success(flash, icon=":material/check_circle:")

with db_session() as session:
    indexes = materials.all_query_indexes(session=session)
index = query_picker(indexes, key="adapt_query")
if index is None:
    st.stop()
with db_session() as session:
    query = materials.query_by_index(session=session, index=index)
    head = edits.instruction_head(session=session, query_id=query.id)
    versions = edits.instruction_versions(session=session, query_id=query.id)
    split_doc = materials.imported_document(session=session, query_id=query.id)

base_key, text_key = f"adapt_base_{query.id}", f"adapt_text_{query.id}"
if base_key not in state:
    state[base_key] = (head.version_no, head.text)
base_no, base_text = state[base_key]
if text_key not in state:
    state[text_key] = base_text

status = {"approved": "current", "pending": "awaiting review", "rejected": "rejected"}[head.status]
st.markdown(f"**Query {query.index}** · {query.lang} · latest version **{head.version_no}** ({status}) · "
            f"{char_count_label(head.text)}")
if head.status == "pending":
    st.info(f"Version {head.version_no} awaits review by a second expert. You can still build on it.")

# ------------------------------------------------------------------ split
if split_doc is None and head.status == "approved":
    proposal = propose_split(head.text)
    title = ("Split the instruction from its pasted material" if proposal.method != "none"
             else "Split the instruction from its pasted material (nothing detected)")
    with st.expander(title, expanded=False):
        st.caption(f"Proposal: {proposal.reason}. Move the boundary if needed; no character is lost "
                   "(the original stays as version 1).")
        boundary = st.number_input("Boundary (character offset)", min_value=1, max_value=max(1, len(head.text) - 1),
                                   value=min(max(1, proposal.boundary), max(1, len(head.text) - 1)),
                                   key=f"split_boundary_{query.id}")
        first = st.checkbox("The material comes first, the instruction after it", value=proposal.material_first,
                            key=f"split_first_{query.id}")
        try:
            parts = split_at(head.text, int(boundary), material_first=first)
            left, right = st.columns(2)
            with left:
                st.markdown(f"**Instruction** ({char_count_label(parts.instruction)})")
                scroll_pane(parts.instruction, height=200)
            with right:
                st.markdown(f"**Material** ({char_count_label(parts.material)})")
                scroll_pane(parts.material[:3000] + (" …" if len(parts.material) > 3000 else ""), height=200)
            if st.button("Confirm split", key="confirm_split", type="primary"):
                with db_session() as session:
                    try:
                        materials.confirm_split(session=session, actor=user, query_id=query.id,
                                                boundary=int(boundary), material_first=first,
                                                base_version_no=head.version_no)
                    except ServiceError as exc:
                        st.error(str(exc))
                    else:
                        for key in (base_key, text_key):
                            state.pop(key, None)
                        state["adapt_flash"] = "Split saved: the material is now its own document."
                        st.rerun()
        except ValueError as exc:
            st.warning(str(exc))

# ------------------------------------------------------------------ edit
st.subheader("Edit the instruction")
if base_no != head.version_no:
    st.warning(f"You started from version {base_no}; version {head.version_no} has been saved since. "
               "Saving will be refused until you rebase your text on it.")
    if st.button(f"Rebase my text on version {head.version_no}", key="rebase"):
        state[base_key] = (head.version_no, head.text)
        st.rerun()
left, right = st.columns(2, gap="medium")
with left:
    st.markdown(f"**Version {base_no}** (what you started from)")
    scroll_pane(base_text, height=360, fixed=True)
with right:
    st.markdown("**Your edit**")
    edited = st.text_area("Your edit", key=text_key, height=360, label_visibility="collapsed")
st.markdown("**Changes** (red: removed, green: added, yellow: changed)")
side_by_side_diff(base_text, edited, f"version {base_no}", "your edit")
reason = st.text_input("Reason for the change (required)", key=f"adapt_reason_{query.id}",
                       placeholder="e.g. the query asks for data that the materials do not contain")
if st.button("Save as a new version", type="primary", key="save_edit", disabled=not reason.strip()):
    with db_session() as session:
        try:
            version = edits.propose_instruction(session=session, actor=user, query_id=query.id, text=edited,
                                                reason=reason, base_version_no=base_no)
        except EditConflict as exc:
            st.error(str(exc), icon=":material/sync_problem:")
            c1, c2 = st.columns(2)
            with c1:
                st.markdown(f"**Version {exc.newer_version_no}** by {exc.newer_author}")
                scroll_pane(str(exc.newer_content), height=240, fixed=True)
            with c2:
                st.markdown("**Your text** (not saved, still in the editor)")
                scroll_pane(str(exc.yours), height=240, fixed=True)
        except ServiceError as exc:
            st.error(str(exc))
        else:
            state[base_key] = (version.version_no, version.text)
            state.pop(f"adapt_reason_{query.id}", None)
            state["adapt_flash"] = (f"Saved version {version.version_no}. It becomes current when another "
                                    "expert approves it on Review edits.")
            st.rerun()
if not reason.strip():
    st.caption("Write a reason to enable saving.")

# ------------------------------------------------------------------ revert
earlier = [v for v in versions if v.version_no != head.version_no and v.status != "rejected"]
if earlier:
    with st.expander("Revert to an earlier version"):
        target = st.selectbox("Version", earlier, key=f"revert_target_{query.id}",
                              format_func=lambda v: f"version {v.version_no} ({v.status}): {v.reason[:60]}")
        side_by_side_diff(head.text, target.text, f"version {head.version_no}", f"version {target.version_no}")
        why = st.text_input("Reason for reverting (required)", key=f"revert_reason_{query.id}")
        if st.button("Propose the revert", key="revert", disabled=not why.strip()):
            with db_session() as session:
                try:
                    version = edits.revert_instruction(session=session, actor=user, query_id=query.id,
                                                       to_version_no=target.version_no, reason=why,
                                                       base_version_no=head.version_no)
                except ServiceError as exc:
                    st.error(str(exc))
                else:
                    for key in (base_key, text_key):
                        state.pop(key, None)
                    state["adapt_flash"] = f"Revert saved as version {version.version_no} (awaiting review)."
                    st.rerun()
