"""Prune materials (expert): keep or remove each segment of a query's material, with a
reason for every removal; preview the pruned text with character and token counts before
and after; save as a new version (reviewed by a second expert); revert to an earlier one.
"""

from __future__ import annotations

import streamlit as st

from annotate.db.models import MaterialVersion, id_of
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import MAX_TITLE, shown_name
from annotate.services.core.statuses import DocumentStatus
from annotate.services.refine import materials, pruning
from annotate.services.refine.pruning import REMOVAL_REASONS
from annotate.services.refine.versions import (
    COLLECTION_EXCLUDED,
    EditConflict,
    collection_excluded,
    material_head,
    material_versions,
    segments_of,
)
from annotate.ui.kit.panes import scroll_pane
from annotate.ui.kit.safe_markdown import plain_label, to_safe_markdown
from annotate.ui.refine.edit_page import picked_query, revert_box
from annotate.ui.refine.refine_widgets import show_conflict, show_unified_diff
from annotate.ui.session import db_session, require_page

user = require_page(__file__)
state = st.session_state
st.title("Prune materials")
st.caption("Remove redundant or irrelevant parts of a material so the writing context stays focused. "
           "Token counts are estimates: one per Chinese character plus one per word.")
query = picked_query(flash_key="prune_flash", picker_key="prune_query")
with db_session() as session:
    documents = materials.documents_of(session=session, query_id=id_of(query), statuses=(DocumentStatus.ACTIVE,))
if not documents:
    st.info("This query has no material yet. Split its pasted material on *Adapt queries*, or collect one on "
            "*Collect materials*.")
    st.stop()
document = documents[0] if len(documents) == 1 else st.selectbox(
    "Material", documents, key=f"prune_doc_{id_of(query)}", format_func=lambda d: f"{shown_name(d.title, max_len=MAX_TITLE)} ({d.origin})")
document_id = id_of(document)
with db_session() as session:
    head = material_head(session=session, document_id=document_id)
    segments = segments_of(session=session, document_id=document_id)
    versions = material_versions(session=session, document_id=document_id)
    excluded = collection_excluded(session=session, document_id=document_id)

base_key = f"prune_base_{document_id}"
if base_key not in state or state[base_key][0] not in {v.version_no for v in versions}:
    state[base_key] = (head.version_no, list(head.kept))
base_no, base_kept = state[base_key]
st.markdown(f"**{plain_label(shown_name(document.title, max_len=MAX_TITLE))}** · {len(segments)} segments · latest version "
            f"**{head.version_no:d}** ({plain_label(head.status)})")
if base_no != head.version_no:
    st.warning(f"Version {head.version_no:d} was saved after version {base_no:d} that you started from.")
    if st.button(f"Start again from version {head.version_no:d}", key=f"prune_rebase_{document_id}"):
        state[base_key] = (head.version_no, list(head.kept))
        for s in segments:
            state.pop(f"keep_{document_id}_{s.position}", None)
            state.pop(f"why_{document_id}_{s.position}", None)
        st.rerun()

st.subheader("Keep or remove each segment")
st.caption("Untick a segment to remove it, then say why." + (
    f" {len(excluded)} segment(s) were left out when the material was collected: they need no reason."
    if excluded else ""))
kept: list[int] = []
removals: dict[int, str] = {}
previous = {int(k): v for k, v in (head.removals or {}).items()}
with st.container(height=460, border=True):
    for seg in segments:
        c1, c2, c3 = st.columns([1.1, 1.9, 6])
        keep = c1.checkbox(f"Keep {seg.position + 1:d}", value=seg.position in base_kept,
                           key=f"keep_{document_id}_{seg.position}")
        if keep:
            kept.append(seg.position)
            c2.caption(f"{len(seg.text):,} chars")
        elif seg.position in excluded and seg.position not in base_kept:
            removals[seg.position] = COLLECTION_EXCLUDED
            c2.caption("left out at collection")
        else:  # no default: the expert says why (a reason recorded by an earlier version is offered again)
            recorded = previous.get(seg.position) if seg.position not in base_kept else None
            removals[seg.position] = c2.selectbox(
                f"Reason {seg.position + 1:d}", REMOVAL_REASONS, key=f"why_{document_id}_{seg.position}",
                index=REMOVAL_REASONS.index(recorded) if recorded in REMOVAL_REASONS else None,
                placeholder="Why remove it?", label_visibility="collapsed") or ""
        shown = seg.text if len(seg.text) <= 400 else seg.text[:400] + " …"
        c3.markdown(("" if keep else "~~") + to_safe_markdown(" ".join(shown.split())) + ("" if keep else "~~"))

with db_session() as session:
    preview = pruning.preview_pruning(session=session, document_id=document_id, kept=kept) if kept else None
st.subheader("Preview")
if preview is None:
    st.error("Keep at least one segment.")
else:
    m = st.columns(4)
    m[0].metric("Characters before", f"{preview.chars_before:,}")
    m[1].metric("Characters after", f"{preview.chars_after:,}", delta=f"{preview.chars_after - preview.chars_before:,}")
    m[2].metric("Tokens before (est.)", f"{preview.tokens_before:,}")
    m[3].metric("Tokens after (est.)", f"{preview.tokens_after:,}",
                delta=f"{preview.tokens_after - preview.tokens_before:,}")
    with st.expander("Pruned text"):
        scroll_pane(preview.text_after, height=300)
    with st.expander(f"Diff against version {head.version_no:d}"):
        show_unified_diff(preview.diff)
note = st.text_input("Overall note (optional; a summary of the removals is written otherwise)",
                     key=f"prune_note_{document_id}_{state.get(f'prune_round_{document_id}', 0)}")
missing = [p + 1 for p, why in removals.items() if not why]
if missing:
    st.caption("Say why you remove segment(s) " + ", ".join(f"{p:d}" for p in missing) + " to enable saving.")
if st.button("Save pruning as a new version", type="primary", key=f"save_pruning_{document_id}",
             disabled=preview is None or bool(missing)):
    with db_session() as session:
        try:
            version = pruning.propose_pruning(session=session, actor=user, document_id=document_id, kept=kept,
                                            removals=removals, reason=note, base_version_no=base_no)
        except EditConflict as exc:
            show_conflict(exc)
        except ServiceError as exc:
            st.error(plain_label(for_person(exc)))
        else:
            state[base_key] = (version.version_no, list(version.kept))
            state[f"prune_round_{document_id}"] = state.get(f"prune_round_{document_id}", 0) + 1  # a fresh note box
            state["prune_flash"] = (f"Saved version {version.version_no} ({version.reason}). It becomes current "
                                    "when another expert approves it on Review edits.")
            st.rerun()

def _reverted(version: MaterialVersion) -> None:
    state.pop(base_key, None)
    state["prune_flash"] = f"Revert saved as version {version.version_no} (awaiting review)."
    st.rerun()


revert_box(
    versions, head_no=head.version_no,
    keys=(f"prune_revert_{document_id}", f"prune_revert_reason_{document_id}", f"prune_revert_btn_{document_id}"),
    describe=lambda v: f"version {v.version_no} ({v.status}, keeps {len(v.kept)} of {len(segments)}): {v.reason[:60]}",
    propose=lambda session, target, why: pruning.revert_material(
        session=session, actor=user, document_id=document_id, to_version_no=target.version_no, reason=why,
        base_version_no=head.version_no),
    on_saved=_reverted)
