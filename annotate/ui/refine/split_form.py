"""The *Adapt queries* form that splits pasted material off an instruction (a proposal the
expert moves, both parts shown, then saved with :func:`annotate.services.refine.materials.confirm_split`).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from annotate.db.models import InstructionVersion, Query, User, id_of
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.refine import materials
from annotate.services.refine.splitter import propose_split, split_at
from annotate.ui.kit.panes import char_count_label, scroll_pane
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session


def split_form(*, user: User, query: Query, head: InstructionVersion, on_saved: Callable[[str], None]) -> None:
    """An expander proposing where the instruction ends and its material begins; ``on_saved``
    gets the message to show after a split is saved (it reruns the page)."""
    query_id = id_of(query)
    proposal = propose_split(head.text)
    title = ("Split the instruction from its pasted material" if proposal.method != "none"
             else "Split the instruction from its pasted material (nothing detected)")
    last = max(1, len(head.text) - 1)
    with st.expander(title, expanded=False):
        st.caption(f"Proposal: {plain_label(proposal.reason)}. Move the boundary if needed; no character is lost "
                   "(the original stays as version 1).")
        boundary = st.number_input("Boundary (character offset)", min_value=1, max_value=last,
                                   value=min(max(1, proposal.boundary), last), key=f"split_boundary_{query_id}")
        first = st.checkbox("The material comes first, the instruction after it", value=proposal.material_first,
                            key=f"split_first_{query_id}")
        try:
            parts = split_at(head.text, int(boundary), material_first=first)
        except ValueError as exc:
            st.warning(plain_label(for_person(exc)))
            return
        left, right = st.columns(2)
        with left:
            st.markdown(f"**Instruction** ({char_count_label(parts.instruction)})")
            scroll_pane(parts.instruction, height=200)
        with right:
            st.markdown(f"**Material** ({char_count_label(parts.material)})")
            scroll_pane(parts.material[:3000] + (" …" if len(parts.material) > 3000 else ""), height=200)
        if st.button("Confirm split", key=f"confirm_split_{query_id}", type="primary"):
            with db_session() as session:
                try:
                    materials.confirm_split(session=session, actor=user, query_id=query_id, boundary=int(boundary),
                                            material_first=first, base_version_no=head.version_no)
                except ServiceError as exc:
                    st.error(plain_label(for_person(exc)))
                    return
            on_saved("Split saved: the material is now its own document.")
