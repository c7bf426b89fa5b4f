"""Adapt queries (expert): split pasted material off the instruction, edit the instruction
with a side-by-side diff and a required reason, or revert to an earlier version.

Every save is a new pending version that a second expert approves on *Review edits*. The
version the editor started from is remembered; if someone saved in between, the save is
refused and both texts are shown (the editor keeps yours).
"""

from __future__ import annotations

import streamlit as st

from annotate.db.models import id_of
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.statuses import VersionStatus
from annotate.services.refine import instructions, materials
from annotate.services.refine.versions import EditConflict, instruction_head, instruction_versions
from annotate.ui.kit.panes import char_count_label, scroll_pane
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.refine.edit_page import picked_query, revert_box
from annotate.ui.refine.refine_widgets import show_conflict, side_by_side_diff
from annotate.ui.refine.split_form import split_form
from annotate.ui.session import db_session, require_page

user = require_page(__file__)
state = st.session_state
st.title("Adapt queries")
st.caption("Rewrite an unclear or unrealistic instruction so that it fits its materials and real practice. "
           "A second expert approves every change before annotators see it.")
query = picked_query(flash_key="adapt_flash", picker_key="adapt_query")
query_id = id_of(query)
with db_session() as session:
    head = instruction_head(session=session, query_id=query_id)
    versions = instruction_versions(session=session, query_id=query_id)
    split_doc = materials.imported_document(session=session, query_id=query_id)

base_key, text_key = f"adapt_base_{query_id}", f"adapt_text_{query_id}"
# The reason boxes are new widgets after every save (a fresh key): a saved reason never lingers.
round_key = f"adapt_round_{query_id}"
reason_key = f"adapt_reason_{query_id}_{state.get(round_key, 0)}"
revert_key = f"revert_reason_{query_id}_{state.get(round_key, 0)}"
if base_key not in state:
    state[base_key] = (head.version_no, head.text)
base_no, base_text = state[base_key]
if text_key not in state:
    state[text_key] = base_text


def saved(message: str, *, keep_text: bool = False) -> None:
    """After a save: fresh reason boxes, the flash message, a rerun (the editor restarts unless kept)."""
    state[round_key] = state.get(round_key, 0) + 1
    if not keep_text:
        state.pop(base_key, None)
        state.pop(text_key, None)
    state["adapt_flash"] = message
    st.rerun()


status = {VersionStatus.APPROVED: "current", VersionStatus.PENDING: "awaiting review",
          VersionStatus.REJECTED: "rejected"}[VersionStatus(head.status)]
st.markdown(f"**Query {query.index:d}** · {plain_label(query.lang)} · latest version **{head.version_no:d}** ({status}) · "
            f"{char_count_label(head.text)}")
if head.status == VersionStatus.PENDING:
    st.info(f"Version {head.version_no:d} awaits review by a second expert. You can still build on it.")

if split_doc is None and head.status == VersionStatus.APPROVED:
    split_form(user=user, query=query, head=head, on_saved=saved)

st.subheader("Edit the instruction")
if base_no != head.version_no:
    st.warning(f"You started from version {base_no:d}; version {head.version_no:d} has been saved since. "
               "Saving will be refused until you rebase your text on it.")
    if st.button(f"Rebase my text on version {head.version_no:d}", key=f"rebase_{query_id}"):
        state[base_key] = (head.version_no, head.text)
        st.rerun()
left, right = st.columns(2, gap="medium")
with left:
    st.markdown(f"**Version {base_no:d}** (what you started from)")
    scroll_pane(base_text, height=360, fixed=True)
with right:
    st.markdown("**Your edit**")
    edited = st.text_area("Your edit", key=text_key, height=360, label_visibility="collapsed")
st.markdown("**Changes** (red: removed, green: added, yellow: changed)")
st.caption("The changes follow your edit when you press Ctrl+Enter (⌘+Enter on a Mac) in the box "
           "or click outside it.")
side_by_side_diff(base_text, edited, f"version {base_no}", "your edit")
reason = st.text_input("Reason for the change (required)", key=reason_key,
                       placeholder="e.g. the query asks for data that the materials do not contain")
# Never greyed out for a missing reason: a reason typed and not yet sent (the box sends it when
# it loses the focus) made the first click land on a disabled button. The click checks it.
save_clicked = st.button("Save as a new version", type="primary", key=f"save_edit_{query_id}")
if save_clicked and not reason.strip():
    st.error("Write a reason for the change first; nothing was saved.")
elif save_clicked:
    with db_session() as session:
        try:
            version = instructions.propose_instruction(session=session, actor=user, query_id=query_id, text=edited,
                                                reason=reason, base_version_no=base_no)
        except EditConflict as exc:
            show_conflict(exc)
        except ServiceError as exc:
            st.error(plain_label(for_person(exc)))
        else:
            state[base_key] = (version.version_no, version.text)
            saved(f"Saved version {version.version_no}. It becomes current when another expert approves it "
                  "on Review edits.", keep_text=True)
if not reason.strip():
    st.caption("A reason is required to save.")

revert_box(
    versions, head_no=head.version_no,
    keys=(f"revert_target_{query_id}", revert_key, f"revert_{query_id}"),
    describe=lambda v: f"version {v.version_no} ({v.status}): {v.reason[:60]}",
    compare=lambda target: side_by_side_diff(head.text, target.text, f"version {head.version_no}",
                                             f"version {target.version_no}"),
    propose=lambda session, target, why: instructions.revert_instruction(
        session=session, actor=user, query_id=query_id, to_version_no=target.version_no, reason=why,
        base_version_no=head.version_no),
    on_saved=lambda version: saved(f"Revert saved as version {version.version_no} (awaiting review)."))
