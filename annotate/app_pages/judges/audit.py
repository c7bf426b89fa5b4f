"""Judge-disagreement audit (researcher, admin): list, detail with tagging, cause summary, causes.

The list holds every (pair, judge run) whose verdict differs from the human majority,
strongest human agreement first (:func:`annotate.services.judges.audit.audit_rows`), the two
verdicts and the margin in its first columns. Selecting a row opens the pair below the list
(the first row until one is selected) to read it and tag the disagreement with a cause.
"""

from __future__ import annotations

import zlib
from functools import partial

import pandas as pd
import streamlit as st

from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import file_name_part, shown_name, shown_names
from annotate.services.core.statuses import StudyKind
from annotate.services.judges import audit_tags
from annotate.services.judges.agreement_view import data_version
from annotate.services.judges.audit import audit_detail, disagreement_table, filter_disagreements
from annotate.services.judges.judge_runs import list_runs
from annotate.services.studies import lifecycle
from annotate.ui.judges import audit_view, pointwise_tabs
from annotate.ui.kit.panes import show_text_view
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page
from metaeval import csv_safe

actor = require_page(__file__)
st.title("Disagreement audit")
flash = st.session_state.pop("audit_flash", None)
if flash:
    st.success(plain_label(flash))

with db_session() as session:
    listed = lifecycle.list_studies(session=session, actor=actor)
    kinds = {s.name: s.kind for s in listed}
    shown = shown_names({s.name: s.name for s in listed}, ids={s.name: s.id for s in listed})
    runs = list_runs(session=session, with_counts=False)  # judge and method names only
studies = sorted(kinds, key=lambda n: kinds[n] != StudyKind.PAIRWISE)  # pairwise first, then pointwise
if not studies or not runs:
    st.info("The audit needs a study with votes or ratings and imported judge scores.")
    st.stop()

study_name = st.selectbox("Study", studies, key="audit_study", format_func=lambda n: f"{shown[n]} ({kinds[n]})")
if kinds[study_name] == StudyKind.POINTWISE:  # ratings: the largest judge-people gaps (annotate/ui/judges/pointwise_tabs.py)
    pointwise_tabs.pointwise_audit(actor, study_name)
    st.stop()
study_key = zlib.crc32(study_name.encode())  # widgets whose options come from this study carry it


@st.cache_data(show_spinner="Finding disagreements...", max_entries=4)
def _table(study: str, version: tuple):  # noqa: ANN202 - a DataFrame
    """The unfiltered disagreement table, recomputed when votes or scores change."""
    with db_session() as session:
        return disagreement_table(session=session, actor=actor, study_name=study)


tab_list, tab_summary, tab_causes = st.tabs(["Disagreements", "Cause summary", "Cause list"])

with tab_list:
    with db_session() as session:
        version = data_version(session=session)
    table = _table(study_name, version)  # its own session: SQLite sessions here take the write lock
    filters = audit_view.audit_filters(table, [r.judge for r in runs], [r.method for r in runs], key=str(study_key))
    with db_session() as session:
        rows = filter_disagreements(session=session, table=table, filters=filters)
    st.caption(f"{len(rows):,} disagreements. human / verdict: the people's majority and the judge's, A or B "
               "(the two responses, models sorted by name) or tie; margin = judge's mean score of A minus B; "
               "votes = people with the majority / all. Select a row (the box at its left) to open it below.")
    # The selection is a row position: it must not outlive the study or filters it was made under.
    table_key = f"audit_table_{zlib.crc32(repr((study_name, filters)).encode())}"
    event = st.dataframe(audit_view.lead_columns(rows), hide_index=True, width="stretch", height=320,
                         key=table_key, on_select="rerun", selection_mode="single-row",
                         column_config={"strength": st.column_config.NumberColumn(format="%.2f"),
                                        "margin": st.column_config.NumberColumn(format="%+.2f")})
    selected = getattr(getattr(event, "selection", None), "rows", None) if event is not None else None
    picked = int(selected[0]) if selected else 0
    if not len(rows):
        st.info("No disagreement matches these filters." if len(table) else
                "Every judge verdict agrees with the people's majority on this study.")
    else:
        # a callable: the CSV is written when the button is clicked, not on every run
        st.download_button("Download this table (CSV)", partial(csv_safe.frame_to_csv, rows),
                           file_name=f"audit_{file_name_part(study_name)}.csv", mime="text/csv", key="audit_dl_table")
        row = rows.iloc[min(picked, len(rows) - 1)]
        with db_session() as session:
            try:
                detail = audit_detail(session=session, actor=actor, item_id=int(row["item_id"]))
            except ServiceError as exc:
                st.error(plain_label(for_person(exc)))
                st.stop()
        st.divider()
        st.subheader(f"Query {detail.query_index:d} · {plain_label(row['method'])}/{plain_label(row['judge'])}")
        st.caption(plain_label(f"{detail.domain1} › {detail.domain2} · {detail.lang} · item {detail.item_id}"
                               + ("" if selected else " · the first row (select another row to open it)")))
        st.markdown(f"People's majority: **{plain_label(detail.human)}** ({plain_label(row['votes'])} votes) · "
                    f"this judge's verdict: **{plain_label(row['verdict'])}** (mean score of A minus B: "
                    f"{row['margin']:+.2f})")
        audit_view.show_query(detail)
        show_text_view(materials=detail.materials, pane_height=400,
                       responses=((f"A · {detail.model_a}", detail.response_a),
                                  (f"B · {detail.model_b}", detail.response_b)))
        audit_view.show_votes(detail)
        current = f"{row['method']}/{row['judge']}"
        audit_view.show_run_scores(detail, current)

        st.markdown("**Tag this disagreement**")
        with db_session() as session:
            causes = [c.name for c in audit_tags.list_causes(session=session)]
        with st.form("audit_tag_form", clear_on_submit=True):
            cause = st.selectbox("Cause", causes, key="audit_tag_cause", format_func=shown_name)
            note = st.text_area("Note", key="audit_tag_note", height=80)
            tagged = st.form_submit_button("Save tag", type="primary")
        if tagged:
            with db_session() as session:
                try:
                    audit_tags.add_tag(session=session, actor=actor, item_id=detail.item_id, judge=str(row["judge"]),
                                       method=str(row["method"]), cause=cause, note=note)
                except ServiceError as exc:
                    st.error(plain_label(for_person(exc)))
                else:
                    st.session_state["audit_flash"] = f"Tagged item {detail.item_id} ({current}) as '{shown_name(cause)}'."
                    st.rerun()
        if detail.tags:
            tags = pd.DataFrame(detail.tags)
            tags["cause"] = tags["cause"].map(shown_name)  # older causes may hide characters
            st.dataframe(tags[["method", "judge", "cause", "note", "author", "created_at"]],
                         hide_index=True, width="stretch", key="audit_item_tags")

with tab_summary:
    with db_session() as session:
        summary = audit_tags.cause_summary(session=session, actor=actor, study_name=study_name)
        csv_text = audit_tags.export_tags(session=session, actor=actor, study_name=study_name, fmt="csv")
        jsonl_text = audit_tags.export_tags(session=session, actor=actor, study_name=study_name, fmt="jsonl")
    audit_view.cause_summary(summary, csv_text, jsonl_text, study_name)

with tab_causes:
    with db_session() as session:
        all_causes = audit_tags.list_causes(session=session, include_inactive=True)
    audit_view.cause_list(actor, all_causes)
