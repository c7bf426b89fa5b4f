"""Query history (expert, researcher): every version of a query's instruction and materials
with who saved it, when, why, who reviewed it, and the diff against the version it built on.
"""

from __future__ import annotations

import streamlit as st

from annotate.db.models import id_of
from annotate.services.content.content import join_segments
from annotate.services.core.statuses import DocumentStatus
from annotate.services.refine import materials, versions
from annotate.services.refine.history import query_history
from annotate.services.refine.query_list import query_choices
from annotate.ui.kit.safe_markdown import plain_label, to_safe_markdown
from annotate.ui.refine.refine_widgets import query_picker, show_unified_diff, side_by_side_diff
from annotate.ui.session import db_session, require_page

require_page(__file__)
st.title("Query history")
with db_session() as session:
    choices = query_choices(session=session)
index = query_picker(choices, key="history_query")
if index is None:
    st.stop()
with db_session() as session:
    query = materials.query_by_index(session=session, index=index)
    history = query_history(session=session, query_id=id_of(query))
    # The texts of every version, for the word/character diff Adapt and Review show.
    instruction_texts = {v.version_no: v.text for v in versions.instruction_versions(session=session,
                                                                                   query_id=id_of(query))}
    material_texts: dict[tuple[int, int], str] = {}
    for document_id in {e.document_id for e in history if e.kind == "material" and e.document_id is not None}:
        segments = versions.segments_of(session=session, document_id=document_id)
        for m in versions.material_versions(session=session, document_id=document_id):
            material_texts[(document_id, m.version_no)] = join_segments(segments, m.kept)
st.markdown(f"**Query {query.index:d}** · content revision {query.content_revision:d} · {len(history)} versions")
for entry in reversed(history):
    what = "Instruction" if entry.kind == "instruction" else f"Material “{entry.document_title}”"
    review = f", reviewed by {entry.reviewer}" if entry.reviewer and entry.reviewer != entry.author else ""
    if entry.kind == "material" and entry.version_no == 1 and entry.collector:
        checked_as: dict[str, str] = {DocumentStatus.ACTIVE: "verified", DocumentStatus.REJECTED: "rejected"}
        checked = checked_as.get(entry.document_status)
        review = f", collected by {entry.collector}, " + (
            f"{checked} by {entry.verifier}" if checked and entry.verifier else "awaiting verification")
    label = (f"{what} v{entry.version_no} · {entry.status} · {entry.author}{review} · "
             f"{entry.created_at:%Y-%m-%d %H:%M}")
    with st.expander(to_safe_markdown(label)):
        st.markdown(f"**Why:** {to_safe_markdown(entry.reason or '(no reason)')}")
        if entry.review_note:
            st.markdown(f"**Review note:** {to_safe_markdown(entry.review_note)}")
        st.caption(f"{entry.chars:,} characters · about {entry.tokens:,} tokens"
                   + (f" · based on version {entry.base_version_no:d}" if entry.base_version_no else ""))
        if entry.removals:
            st.caption("Removed: " + ", ".join(f"segment {int(p) + 1} ({plain_label(w)})" for p, w in entry.removals.items()))
        ref = entry.base_version_no if entry.base_version_no is not None else entry.version_no - 1
        texts = (instruction_texts if entry.kind == "instruction"
                 else {n: t for (d, n), t in material_texts.items() if d == entry.document_id})
        if entry.diff and ref in texts and entry.version_no in texts:
            side_by_side_diff(texts[ref], texts[entry.version_no], f"version {ref}", f"version {entry.version_no}")
        else:
            show_unified_diff(entry.diff)
