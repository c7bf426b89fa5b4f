"""Study dashboard (researcher, admin): progress, timing, position bias, agreement, gold
accuracy, competence and flags per annotator, annotators' flags per query and per flag, adjudication of split pairs, and the votes for download.

All figures come from :func:`annotate.services.studies.dashboard.study_dashboard`; downloads from
:func:`annotate.services.studies.votes_export.export_votes` (generated when the button is clicked).
The sections are drawn by :mod:`annotate.ui.studies.dashboard_parts`.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from annotate.db.engine import session_scope
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import file_name_part, shown_names
from annotate.services.core.statuses import StudyKind
from annotate.services.refine import staleness
from annotate.services.studies import dashboard as dash_service
from annotate.services.studies import lifecycle
from annotate.services.studies.votes_export import export_votes
from annotate.ui.annotate.task_state import FLAGS as FLAG_LABELS
from annotate.ui.annotate.task_state import format_duration
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, get_engine, require_page
from annotate.ui.studies.dashboard_parts import (
    active_time_section,
    annotators_section,
    completion_section,
    num,
    pct,
    split_pairs_section,
)

MIME = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}

actor = require_page(__file__)
st.title("Study dashboard")

flash = st.session_state.pop("dashboard_flash", None)
if flash:
    st.success(plain_label(flash))

with db_session() as session:
    all_studies = lifecycle.list_studies(session=session, actor=actor)
if not all_studies:
    st.info("No study yet. Create one on the **Design a study** page or with `annotate study create`.")
    st.stop()

shown = shown_names({s.id: s.name for s in all_studies})  # escaped, capped, look-alikes with their id
study = st.selectbox("Study", all_studies, format_func=lambda s: f"{shown[s.id]} ({s.kind}, {s.status})",
                     key="dashboard_study")
try:
    with db_session() as session:
        dash = dash_service.study_dashboard(session=session, actor=actor, study_name=study.name)
except ServiceError as exc:
    st.error(plain_label(for_person(exc)))
    st.stop()


cols = st.columns(5)
cols[0].metric("Judgments" if dash.kind == StudyKind.PAIRWISE else "Ratings", f"{dash.done:,} of {dash.total:,}")
cols[1].metric("Complete", pct(dash.done / dash.total if dash.total else math.nan))
cols[2].metric("Median time per judgment", format_duration(
    None if math.isnan(dash.median_elapsed_s) else dash.median_elapsed_s))
cols[3].metric("Alpha (nominal)", num(dash.alpha_nominal), help="Krippendorff's alpha, nominal")
cols[4].metric("Alpha (ordinal)", num(dash.alpha_ordinal), help="Krippendorff's alpha, ordinal")
st.caption("Alpha over annotators x pairs (b wins = -1, tie = 0, a wins = +1; pointwise: the 1-5 scores); "
           "gold and qualification items are left out. '-' means not enough overlapping judgments yet.")

# --------------------------------------------------------------------------- stale work
with db_session() as session:
    n_stale = dict(staleness.stale_by_study(session=session)).get(study.name, 0)  # not yet re-queued
if n_stale:
    st.warning(f"**{n_stale:d} judgment(s) are stale**: an expert approved a new version of their query or its "
               "materials after they were made. Stale judgments are left out of the downloads below and of "
               "the agreement tables unless you include them explicitly. Re-queueing gives each affected "
               "task back to its annotator once, on the current version.")
    if st.button("Re-queue stale work", key="dash_requeue"):
        try:
            with db_session() as session:
                report = staleness.requeue_stale(session=session, actor=actor, study=study.name)
        except ServiceError as exc:
            st.error(plain_label(for_person(exc)))
        else:
            st.session_state["dashboard_flash"] = (
                f"Re-queued {report.created} task(s) for {', '.join(report.annotators) or 'nobody'}.")
            st.rerun()

# --------------------------------------------------------------------------- sections
completion_section(dash)
annotators_section(dash)
active_time_section(dash)
split_pairs_section(dash, actor)

# --------------------------------------------------------------------------- flags
if dash.kind == StudyKind.PAIRWISE:
    st.subheader("Flags")
    with db_session() as session:
        counts = dash_service.flag_counts(session=session, actor=actor, study_name=study.name)
    flag_cols = st.columns(len(counts.per_flag))
    for flag_col, (flag, n) in zip(flag_cols, counts.per_flag.items(), strict=True):
        flag_col.metric(FLAG_LABELS.get(flag, "Other flag"), f"{n:,}")
    if counts.per_query:
        st.dataframe([{("query" if k == "query" else "all flags" if k == "total" else FLAG_LABELS.get(k, k)): v
                       for k, v in row.items()} for row in counts.per_query], hide_index=True)
    st.caption("Judgments flagged by their annotator, per flag and per query (current tasks). Experts resolve "
               "each flag with a note on the **Flags** page; the flags are in every download below.")

# --------------------------------------------------------------------------- downloads
st.subheader("Download the votes" if dash.kind == StudyKind.PAIRWISE else "Download the ratings")
include_stale = st.checkbox("Include stale judgments (made on an older version of the query)",
                            key="dash_include_stale")
engine = get_engine()


def exporter(fmt: str) -> Callable[[], bytes]:
    """A callable that exports the study in ``fmt`` when the download button is clicked."""
    study_name = study.name

    def run() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"votes.{fmt}"
            with session_scope(engine) as session:
                export_votes(session=session, actor=actor, study_name=study_name, path=path, fmt=fmt,
                             include_stale=include_stale)
            return path.read_bytes()

    return run


download_cols = st.columns(3)
for col, fmt in zip(download_cols, ("csv", "jsonl", "parquet"), strict=True):
    col.download_button(f"{fmt.upper()}", data=exporter(fmt), file_name=f"{file_name_part(study.name)}-votes.{fmt}",
                        mime=MIME[fmt], key=f"dash_download_{fmt}", icon=":material/download:",
                        on_click="ignore")
st.caption("FastChat's judgment layout: question_id, model_a, model_b (sorted by name), winner, judge "
           "(annotator), shown_left, rationale, elapsed_s, domain1, domain2, lang; per-criterion choices "
           "as extra rows with a 'criterion' field; 'flags' lists the annotator's flags.")
