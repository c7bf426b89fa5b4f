"""Collect materials (annotator, expert): for queries that need reference material, add one
by pasting or uploading (.txt, .md, .pdf, .docx), keep only the pertinent segments, record
source and licence; verify materials that someone else collected.
"""

from __future__ import annotations

import hashlib
import zlib

import streamlit as st

from annotate.db.models import id_of
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import MAX_TITLE, shown_name
from annotate.services.core.roles import MATERIAL_FLAGGERS
from annotate.services.refine import materials, uploads
from annotate.services.refine.query_list import query_choices
from annotate.services.refine.splitter import segment_paragraphs
from annotate.ui.kit.panes import scroll_pane
from annotate.ui.kit.safe_markdown import plain_label, to_safe_markdown
from annotate.ui.session import db_session, require_page

user = require_page(__file__)
state = st.session_state
FIELDS = ("collect_title", "collect_source", "collect_license", "collect_text")
if state.pop("collect_clear", False):
    # A saved material's fields are emptied before they are drawn: popping their state is not
    # enough, the browser sends the values it shows back with the next run (the next material
    # stored the previous one's source and licence).
    for field in FIELDS:
        state[field] = ""
st.title("Collect materials")
if flash := state.pop("collect_flash", None):
    st.success(plain_label(flash), icon=":material/check_circle:")

with db_session() as session:
    needs = materials.queries_needing_materials(session=session)
    to_verify = materials.pending_verifications(session=session, actor=user)

# The tabs keep the person's choice across reruns (a Verify must not jump back to "Add a material");
# their labels stay the same, so the count goes inside.
tab_collect, tab_verify = st.tabs(["Add a material", "Verify others' materials"], key="collect_tab",
                                  on_change="rerun")
with tab_collect:
    if not needs:
        st.info("No query is flagged as needing materials right now. "
                "Flag one below when a query needs reference material.")
    else:
        st.dataframe([{"query": n.index, "material needed": n.requirement, "verified": n.active,
                       "awaiting verification": n.pending} for n in needs], hide_index=True)
        # options are indexes: a need's counts change when a material is saved, its index does not
        by_index = {n.index: n for n in needs}
        need = by_index[st.selectbox("Query", list(by_index), key="collect_query",
                                     format_func=lambda i: f"{i}: {by_index[i].requirement[:80]}")]
        with db_session() as session:
            query = materials.query_by_index(session=session, index=need.index)
        st.markdown(f"**Needed:** {to_safe_markdown(need.requirement)}")
        with st.expander("The query"):
            scroll_pane(query.original_text, height=240)
        title = st.text_input("Title", key="collect_title")
        source = st.text_input("Source (URL or reference)", key="collect_source")
        licence = st.text_input("Licence or permission", key="collect_license",
                                placeholder="e.g. CC BY 4.0, public domain, used with permission")
        how = st.radio("Material", ["Paste text", "Upload a file"], horizontal=True, key="collect_how")
        text = ""
        if how == "Paste text":
            text = st.text_area("Text", key="collect_text", height=200)
        else:
            upload = st.file_uploader("File (.txt, .md, .pdf, .docx; at most 5 MiB)",
                                      type=["txt", "md", "pdf", "docx"], key="collect_file")
            if upload is not None:
                chosen = state.get("collect_encoding", "detected")
                data = upload.getvalue()
                # every click on the page reruns it: a file is read once per content and encoding
                read_key = (upload.name, hashlib.sha256(data).hexdigest(), chosen)
                cached = state.get("collect_read")
                if cached is None or cached[0] != read_key:
                    progress = st.empty()
                    try:
                        # each tick updates the page, so leaving or rerunning it stops the worker
                        outcome: uploads.Extraction | str = uploads.read_upload(
                            upload.name, data, encoding=None if chosen == "detected" else chosen,
                            tick=lambda seconds: progress.caption(f"Reading the file… {seconds:.0f} s"))
                    except ServiceError as exc:
                        outcome = for_person(exc)
                    progress.empty()
                    state["collect_read"] = cached = (read_key, outcome)
                found = cached[1]
                if isinstance(found, str):
                    st.error(plain_label(found))
                else:
                    text = found.text
                if upload.name.lower().endswith((".txt", ".md")):
                    st.selectbox(
                        "Encoding", ["detected", *uploads.ENCODING_CHOICES], key="collect_encoding",
                        format_func=lambda e: e if e != "detected" else "as detected",
                        help="Choose another encoding if the text shows wrong characters.")
                    if not isinstance(found, str):
                        st.caption(plain_label(f"Read as {found.encoding}"
                                               + (f" (detected: {found.detected})" if found.detected else "")))
        segments = segment_paragraphs(text.strip()) if text.strip() else []
        kept: list[int] = []
        # keep-boxes belong to this query and this text: a choice never carries over to another
        text_key = f"{id_of(query)}_{zlib.crc32(text.encode())}"
        if segments:
            st.markdown(f"**Keep the pertinent segments** ({len(segments)})")
            with st.container(height=300, border=True):
                for position, (seg, _sep) in enumerate(segments):
                    shown = seg if len(seg) <= 300 else seg[:300] + " …"
                    if st.checkbox(plain_label(" ".join(shown.split())), value=True, key=f"collect_keep_{text_key}_{position}"):
                        kept.append(position)
        if st.button("Save the material", type="primary", key="collect_save", disabled=not segments):
            with db_session() as session:
                try:
                    materials.add_material(session=session, actor=user, query_id=id_of(query), title=title,
                                           text=text, source_url=source, license_note=licence, kept=kept)
                except ServiceError as exc:
                    st.error(plain_label(for_person(exc)))
                else:
                    state["collect_clear"] = True
                    state["collect_flash"] = "Saved. Another person verifies it before annotators see it."
                    st.rerun()
    if user.role in MATERIAL_FLAGGERS:
        with st.expander("Flag a query as needing materials"):
            with db_session() as session:
                labels = {c.index: c.label for c in query_choices(session=session)}
            flag_index = st.selectbox("Query (type to search)", list(labels), key="flag_query",
                                      format_func=labels.__getitem__) if labels else None
            requirement = st.text_input("What material is needed", key="flag_requirement")
            if st.button("Flag", key="flag_button") and flag_index is not None:
                with db_session() as session:
                    try:
                        q = materials.query_by_index(session=session, index=flag_index)
                        materials.set_needs_materials(session=session, actor=user, query_id=id_of(q), needs=True,
                                                      requirement=requirement)
                    except ServiceError as exc:
                        st.error(plain_label(for_person(exc)))
                    else:
                        state["collect_flash"] = f"Query {flag_index} flagged."
                        st.rerun()

with tab_verify:
    if not to_verify:
        st.info("Nothing to verify: materials you collected are verified by someone else.")
    else:
        st.caption(f"{len(to_verify)} material{'' if len(to_verify) == 1 else 's'} to verify.")
    for doc in to_verify:
        doc_id = id_of(doc)
        with db_session() as session:
            kept_text = materials.pending_text(session=session, document_id=doc_id)
            index = materials.query_index_of(session=session, query_id=doc.query_id)
        with st.container(border=True):
            st.markdown(f"**{plain_label(shown_name(doc.title, max_len=MAX_TITLE))}** for query {index:d}")
            st.caption(f"Source: {plain_label(doc.source_url)} · Licence: {plain_label(doc.license_note)}")
            scroll_pane(kept_text, height=200)
            note = st.text_input("Why reject it (needed to reject)", key=f"reject_note_{doc_id}",
                                 placeholder="e.g. off topic, no licence, a copy of another material")
            c1, c2, _ = st.columns([1, 1, 4])
            for column, label, ok in ((c1, "Verify", True), (c2, "Reject", False)):  # literals
                if column.button(label, key=f"{label.lower()}_{doc_id}"):
                    with db_session() as session:
                        try:
                            materials.verify_material(session=session, actor=user, document_id=doc_id, approve=ok,
                                                      note=note)
                        except ServiceError as exc:
                            st.error(plain_label(for_person(exc)))
                        else:
                            state["collect_flash"] = f"Material “{shown_name(doc.title, max_len=MAX_TITLE)}” {'verified' if ok else 'rejected'}."
                            st.rerun()
