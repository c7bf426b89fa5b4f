"""Study dashboard (researcher, admin): progress, timing, position bias, agreement, gold
accuracy, adjudication of split pairs, and the votes for download.

All figures come from :func:`annotate.services.studies.dashboard.study_dashboard`; downloads from
:func:`annotate.services.studies.votes_export.export_votes` (generated when the button is clicked).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from annotate.db.engine import session_scope
from annotate.services.core.errors import ServiceError
from annotate.services.refine import staleness
from annotate.services.studies import dashboard as dash_service
from annotate.services.studies import studies
from annotate.services.studies.votes_export import export_votes
from annotate.ui.safe_markdown import plain_label
from annotate.ui.session import db_session, get_engine, require_page_role
from annotate.ui.task_state import format_duration

WINNER_LABELS = {"a": "Response a wins", "b": "Response b wins", "tie": "Tie"}
MIME = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}

actor = require_page_role("researcher", "admin")
st.title("Study dashboard")

flash = st.session_state.pop("dashboard_flash", None)
if flash:
    st.success(plain_label(flash))

with db_session() as session:
    all_studies = studies.list_studies(session=session, actor=actor)
if not all_studies:
    st.info("No study yet. Create one on the **Design a study** page or with `annotate study create`.")
    st.stop()

study = st.selectbox("Study", all_studies, format_func=lambda s: f"{s.name} ({s.kind}, {s.status})",
                     key="dashboard_study")
try:
    with db_session() as session:
        dash = dash_service.study_dashboard(session=session, actor=actor, study_name=study.name)
except ServiceError as exc:
    st.error(plain_label(exc))
    st.stop()


def pct(value: float) -> str:
    """``0.4567`` -> ``"45.7%"``; ``nan`` -> ``"-"``."""
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def num(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


cols = st.columns(5)
cols[0].metric("Judgments" if dash.kind == "pairwise" else "Ratings", f"{dash.done:,} of {dash.total:,}")
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
            st.error(plain_label(exc))
        else:
            st.session_state["dashboard_flash"] = (
                f"Re-queued {report.created} task(s) for {', '.join(report.annotators) or 'nobody'}.")
            st.rerun()

# --------------------------------------------------------------------------- completion
st.subheader("Completion")
left, right = st.columns(2)
annot_rows = [{"Annotator": s.annotator, "Done": s.done, "Remaining": s.total - s.done} for s in dash.by_annotator]
if annot_rows:
    frame = pd.DataFrame(annot_rows).melt(id_vars="Annotator", var_name="Status", value_name="Tasks")
    fig = px.bar(frame, x="Tasks", y="Annotator", color="Status", orientation="h",
                 color_discrete_map={"Done": "#2e7d32", "Remaining": "#cfd8dc"},
                 title="By annotator")
    fig.update_layout(height=max(220, 40 * len(annot_rows) + 120), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      yaxis={"categoryorder": "category descending"}, legend_title_text="")
    left.plotly_chart(fig, key="dash_annot_chart")
if dash.by_subdomain:
    sub_frame = pd.DataFrame(dash.by_subdomain)
    sub_frame["Complete (%)"] = (100 * sub_frame["share"]).round(1)
    fig = px.bar(sub_frame, x="Complete (%)", y="domain2", color="domain1", orientation="h",
                 hover_data={"done": True, "total": True}, title="By subdomain",
                 labels={"domain2": "Subdomain", "domain1": "Domain"})
    fig.update_layout(height=max(260, 18 * len(sub_frame) + 140), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"range": [0, 100]}, yaxis={"categoryorder": "array",
                                                        "categoryarray": list(sub_frame["domain2"])[::-1]})
    right.plotly_chart(fig, key="dash_sub_chart")

# --------------------------------------------------------------------------- annotators
st.subheader("Annotators")
table = pd.DataFrame([{
    "Annotator": s.annotator,
    "Done": f"{s.done} of {s.total}",
    "Median time": format_duration(None if math.isnan(s.median_elapsed_s) else s.median_elapsed_s),
    "Tie rate": pct(s.tie_rate),
    "Left-choice rate": pct(s.left_rate),
    "Gold accuracy": f"{pct(s.gold_accuracy)} (n={s.gold_n})" if s.gold_n else "-",
    "Disagrees with others": f"{pct(s.disagreement)} (n={s.n_comparisons})" if s.n_comparisons else "-",
} for s in dash.by_annotator])
st.dataframe(table, hide_index=True, key="dash_annot_table")
st.caption("Left-choice rate: share of non-tie choices that picked the response shown on the left "
           "(50% = no position bias). Disagreement: share of comparisons with the other annotators of the "
           "same pairs that differ.")
top = [(name, rate) for name, rate in dash.most_disagreeing if not math.isnan(rate)][:3]
if top:
    st.markdown("**Most disagreeing with the rest:** " + ", ".join(f"{plain_label(n)} ({pct(r)})" for n, r in top))

# --------------------------------------------------------------------------- adjudication
if dash.kind == "pairwise":
    st.subheader(f"Split pairs ({len(dash.split_items)})")
    if not dash.split_items:
        st.caption("No pair has split votes yet.")
    else:
        st.caption("Pairs whose annotators did not all agree. 'a' and 'b' are the two responses in canonical "
                   "order (model names sorted), not the sides shown. The resolved label is kept apart from "
                   "the votes.")
        st.dataframe(pd.DataFrame([{
            "Item": s.item_id, "Query": s.query_index, "Subdomain": s.domain2,
            "a wins": s.counts.get("a", 0), "b wins": s.counts.get("b", 0), "Ties": s.counts.get("tie", 0),
            "Majority": s.majority or "none", "Adjudicated": s.adjudicated or "-", "Note": s.note,
        } for s in dash.split_items]), hide_index=True, key="dash_split_table")
        with st.form("adjudicate"):
            item = st.selectbox("Pair", dash.split_items, key="adj_item",
                                format_func=lambda s: f"item {s.item_id} · query {s.query_index} · {s.domain2}")
            winner = st.radio("Resolved label", list(WINNER_LABELS), format_func=WINNER_LABELS.get,
                              horizontal=True, key="adj_winner")
            note = st.text_input("Note (optional)", key="adj_note")
            if st.form_submit_button("Record adjudication"):
                try:
                    with db_session() as session:
                        dash_service.record_adjudication(session=session, actor=actor, item_id=item.item_id,
                                                         winner=winner, note=note)
                except ServiceError as exc:
                    st.error(plain_label(exc))
                else:
                    st.session_state["dashboard_flash"] = f"Adjudication of item {item.item_id} recorded."
                    st.rerun()

# --------------------------------------------------------------------------- downloads
st.subheader("Download the votes" if dash.kind == "pairwise" else "Download the ratings")
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
    col.download_button(f"{fmt.upper()}", data=exporter(fmt), file_name=f"{study.name}-votes.{fmt}",
                        mime=MIME[fmt], key=f"dash_download_{fmt}", icon=":material/download:",
                        on_click="ignore")
st.caption("FastChat's judgment layout: question_id, model_a, model_b (sorted by name), winner, judge "
           "(annotator), shown_left, rationale, elapsed_s, domain1, domain2, lang; per-criterion choices "
           "as extra rows with a 'criterion' field.")
