"""The parts that *Adapt queries* and *Prune materials* share: the query picker under the
title (with the last save's message), and the "Revert to an earlier version" box.

Both pages edit one query's content in reviewed versions; they differ in what a version is
(an instruction text, a set of kept material segments), which the callers pass in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import streamlit as st
from sqlmodel import Session

from annotate.db.models import Query
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.statuses import VersionStatus
from annotate.services.refine import materials
from annotate.services.refine.query_list import query_choices
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.refine.refine_widgets import query_picker
from annotate.ui.session import db_session


class _Version(Protocol):
    """What the revert box reads of an instruction or material version."""

    @property
    def version_no(self) -> int: ...

    @property
    def status(self) -> str: ...


V = TypeVar("V", bound=_Version)


def picked_query(*, flash_key: str, picker_key: str) -> Query:
    """Below an editing page's title: the message the last save left under ``flash_key``, then
    the query picker. Returns the chosen query; stops the page while no query is chosen.
    """
    if flash := st.session_state.pop(flash_key, None):
        st.success(plain_label(flash), icon=":material/check_circle:")
    with db_session() as session:
        choices = query_choices(session=session)
    index = query_picker(choices, key=picker_key)
    if index is None:
        st.stop()
    with db_session() as session:
        return materials.query_by_index(session=session, index=index)


def revert_box(versions: Sequence[V], *, head_no: int, keys: tuple[str, str, str],
               describe: Callable[[V], str], propose: Callable[[Session, V, str], V],
               on_saved: Callable[[V], None], compare: Callable[[V], None] | None = None) -> None:
    """The "Revert to an earlier version" expander, shown when there is a version to go back to.

    ``versions`` are the content's versions and ``head_no`` the latest one's number; rejected
    versions are not offered. ``keys`` name the version box, the reason box and the button;
    ``describe`` labels a version in the box and ``compare`` (if given) shows the chosen one
    against the latest. ``propose(session, target, reason)`` saves the revert as a new version;
    a refused one is shown in the person's words, a saved one handed to ``on_saved``.
    """
    earlier = [v for v in versions if v.version_no != head_no and v.status != VersionStatus.REJECTED]
    if not earlier:
        return
    target_key, reason_key, button_key = keys
    with st.expander("Revert to an earlier version"):
        target = st.selectbox("Version", earlier, key=target_key, format_func=describe)
        if compare is not None:
            compare(target)
        why = st.text_input("Reason for reverting (required)", key=reason_key)
        revert_clicked = st.button("Propose the revert", key=button_key)
        if revert_clicked and not why.strip():
            st.error("Write a reason for reverting first; nothing was saved.")
        elif revert_clicked:
            with db_session() as session:
                try:
                    version = propose(session, target, why)
                except ServiceError as exc:
                    st.error(plain_label(for_person(exc)))
                else:
                    on_saved(version)
