"""Sections of the study dashboard page: completion charts, the annotator table (with competence
and flags), and split pairs with adjudication. Every figure comes from
:func:`annotate.services.studies.dashboard.study_dashboard`; these functions only draw it.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.express as px
import streamlit as st

from annotate.db.models import User
from annotate.services.annotate.active_time import idle_seconds
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.statuses import StudyKind
from annotate.services.studies import dashboard as dash_service
from annotate.services.studies.dashboard import AnnotatorStats, Dashboard
from annotate.ui.annotate.task_state import format_duration
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session

WINNER_LABELS = {"a": "Response a wins", "b": "Response b wins", "tie": "Tie"}


def pct(value: float | None) -> str:
    """``0.4567`` -> ``"45.7%"``; ``nan`` -> ``"-"``."""
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def num(value: float | None) -> str:
    """``0.61234`` -> ``"0.612"``; ``nan`` -> ``"-"``."""
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def competence_cell(s: AnnotatorStats) -> str:
    """``"72% [55-88%]"``, or ``"-"`` before the model can be fitted.

    Example:
        >>> s = AnnotatorStats("x", 1, 1, 0.0, 0.0, 0.5, 0, math.nan, 0.0, 0, 0.7234, (0.55, 0.881), False)
        >>> competence_cell(s)
        '72% [55–88%]'
    """
    if math.isnan(s.competence):
        return "-"
    lo, hi = s.competence_ci
    return f"{100 * s.competence:.0f}% [{100 * lo:.0f}–{100 * hi:.0f}%]"


def annotator_frame(dash: Dashboard) -> pd.DataFrame:
    """One row per annotator: progress, time, tie and left-choice rates, gold accuracy, competence, flag."""
    rows = []
    for s in dash.by_annotator:
        row = {
            "Annotator": s.annotator,
            "Done": f"{s.done} of {s.total}",
            "Median time": format_duration(None if math.isnan(s.median_elapsed_s) else s.median_elapsed_s),
            "Median active time": format_duration(None if math.isnan(s.median_active_s) else s.median_active_s),
            "Tie rate": pct(s.tie_rate),
            "Left-choice rate": pct(s.left_rate),
            "Gold accuracy": f"{pct(s.gold_accuracy)} (n={s.gold_n})" if s.gold_n else "-",
        }
        if dash.kind == StudyKind.PAIRWISE:
            row["Competence [95% CI]"] = competence_cell(s)
            row["Flag"] = {True: "indistinguishable from random", False: "", None: "-"}[s.flagged]
        row["Disagrees with others"] = f"{pct(s.disagreement)} (n={s.n_comparisons})" if s.n_comparisons else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def completion_section(dash: Dashboard) -> None:
    """Completion by annotator and by subdomain (two bar charts)."""
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



def active_time_section(dash: Dashboard) -> None:
    """Median active time per answer, over the study and per subdomain."""
    st.subheader("Active time")
    overall = None if math.isnan(dash.median_active_s) else dash.median_active_s
    st.caption(f"Median active time per answer: {format_duration(overall)}. Active time counts while the page "
               "is visible and the person moved the mouse, typed or scrolled within the last "
               f"{idle_seconds():g} seconds; reloads of one task add up, and each revision has its own time. "
               "Per annotator in the table above.")
    rows = [{"Domain": sub["domain1"], "Subdomain": sub["domain2"],
             "Median active time": format_duration(None if math.isnan(sub["median_active_s"])
                                                   else sub["median_active_s"])}
            for sub in dash.active_by_subdomain]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="dash_active_table")


def annotators_section(dash: Dashboard) -> None:
    """The annotator table and the most disagreeing people."""
    st.subheader("Annotators")
    st.dataframe(annotator_frame(dash), hide_index=True, key="dash_annot_table")
    st.caption("Left-choice rate: share of non-tie choices that picked the response shown on the left "
               "(50% = no position bias). Competence: Dawid–Skene probability that the person's label is the "
               "true one (95% bootstrap interval over queries); flagged when the votes cannot be told apart from "
               "random ones (few votes stay flagged until there are enough). Disagreement: share of comparisons "
               "with the other annotators of the same pairs that differ.")
    top = [(name, rate) for name, rate in dash.most_disagreeing if not math.isnan(rate)][:3]
    if top:
        st.markdown("**Most disagreeing with the rest:** " + ", ".join(f"{plain_label(n)} ({pct(r)})" for n, r in top))


def split_pairs_section(dash: Dashboard, actor: User) -> None:
    """Split pairs of a pairwise study and the adjudication form."""
    if dash.kind == StudyKind.PAIRWISE:
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
                        st.error(plain_label(for_person(exc)))
                    else:
                        st.session_state["dashboard_flash"] = f"Adjudication of item {item.item_id} recorded."
                        st.rerun()

