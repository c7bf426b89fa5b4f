"""Judge-disagreement audit (researcher, admin): list, detail with tagging, cause summary, causes.

The list holds every (pair, judge run) whose verdict differs from the human majority,
strongest human agreement first (:func:`annotate.services.judges.audit.audit_rows`). Pick a row
(click it, or type its number) to read the pair and tag the disagreement with a cause.
"""

from __future__ import annotations

import html
import zlib
from functools import partial

import pandas as pd
import streamlit as st

from annotate.services.core.errors import ServiceError
from annotate.services.judges import audit_tags
from annotate.services.judges.agreement_view import data_version
from annotate.services.judges.audit import (
    AuditFilters,
    audit_detail,
    disagreement_table,
    filter_disagreements,
)
from annotate.services.judges.judge_runs import list_runs
from annotate.services.studies import studies
from annotate.ui.panes import PreparedHtml, show_text_view
from annotate.ui.safe_markdown import plain_label
from annotate.ui.sanitize import sanitize_html
from annotate.ui.session import db_session, require_page_role
from annotate.ui.task_state import format_duration

AUDIT_QUERY_CSS = ("<style>.wj-audit mark{background:#ffe8a3;color:inherit}.wj-audit sup{color:#8a6d00}"
                   ".wj-audit{overflow-wrap:anywhere}</style>")
"""Styles of the highlighted query (sent with it, in its ``st.html`` element)."""

actor = require_page_role("researcher", "admin")
st.title("Disagreement audit")
flash = st.session_state.pop("audit_flash", None)
if flash:
    st.success(plain_label(flash))

with db_session() as session:
    pairwise = [s.name for s in studies.list_studies(session=session, actor=actor) if s.kind == "pairwise"]
    runs = list_runs(session=session, with_counts=False)  # judge and method names only
if not pairwise or not runs:
    st.info("The audit needs a pairwise study with votes and imported judge scores.")
    st.stop()

study_name = st.selectbox("Study", pairwise, key="audit_study")


@st.cache_data(show_spinner="Finding disagreements...", max_entries=4)
def _table(study: str, version: tuple):  # noqa: ANN202 - a DataFrame
    """The unfiltered disagreement table, recomputed when votes or scores change."""
    with db_session() as session:
        return disagreement_table(session=session, actor=actor, study_name=study)


tab_list, tab_summary, tab_causes = st.tabs(["Disagreements", "Cause summary", "Cause list"])

with tab_list:
    with st.expander("Filters", expanded=False):
        f1, f2, f3 = st.columns(3)
        judges = f1.multiselect("Judge", sorted({r.judge for r in runs}), key="audit_f_judge")
        methods = f2.multiselect("Method", sorted({r.method for r in runs}), key="audit_f_method")
        langs = f3.multiselect("Language", ["en", "zh"], key="audit_f_lang")
        f4, f5 = st.columns(2)
        domains = f4.text_input("Domains (comma-separated, exact names)", key="audit_f_dom")
        subdomains = f5.text_input("Subdomains (comma-separated, exact names)", key="audit_f_sub")
        f6, f7, f8, f9 = st.columns(4)
        min_margin = f6.number_input("Min |score margin|", 0.0, 9.0, 0.0, step=0.1, key="audit_f_min")
        max_margin = f7.number_input("Max |score margin|", 0.0, 9.0, 9.0, step=0.1, key="audit_f_max")
        unanimous = f8.checkbox("Unanimous people only", key="audit_f_unan")
        untagged = f9.checkbox("Untagged only", key="audit_f_untag")

    def _names(text: str) -> tuple[str, ...]:
        return tuple(p.strip() for p in text.split(",") if p.strip())

    filters = AuditFilters(judges=tuple(judges), methods=tuple(methods), domains=_names(domains),
                           subdomains=_names(subdomains), langs=tuple(langs),
                           min_margin=min_margin or None, max_margin=None if max_margin >= 9.0 else max_margin,
                           unanimous_only=unanimous, untagged_only=untagged)
    with db_session() as session:
        version = data_version(session=session)
    table = _table(study_name, version)  # its own session: SQLite sessions here take the write lock
    with db_session() as session:
        rows = filter_disagreements(session=session, table=table, filters=filters)
    st.caption(f"{len(rows):,} disagreements. A/B: the two responses, models sorted by name. "
               "margin = judge's mean score of A minus B. votes = people with the majority / all.")
    # The selection is a row position: it must not outlive the study or filters it was made under.
    table_key = f"audit_table_{zlib.crc32(repr((study_name, filters)).encode())}"
    event = st.dataframe(rows, hide_index=False, width="stretch", height=320, key=table_key,
                         on_select="rerun", selection_mode="single-row",
                         column_config={"strength": st.column_config.NumberColumn(format="%.2f")})
    picked = None
    selected = getattr(getattr(event, "selection", None), "rows", None) if event is not None else None
    if selected:
        picked = int(selected[0])
    if not len(rows):
        st.info("No disagreement matches these filters." if len(table) else
                "Every judge verdict agrees with the people's majority on this study.")
    else:
        d1, d2, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
        number = d1.number_input("Open row #", 0, max(len(rows) - 1, 0), value=picked or 0, step=1,
                                 key=f"audit_row_{table_key}", help="Row number in the table above (or click a row).")
        picked = picked if picked is not None else int(number)
        # a callable: the CSV is written when the button is clicked, not on every run
        d2.download_button("Download this table (CSV)", partial(rows.to_csv, index=False),
                           file_name=f"audit_{study_name}.csv", mime="text/csv", key="audit_dl_table")

    if picked is not None and len(rows):
        row = rows.iloc[picked]
        with db_session() as session:
            try:
                detail = audit_detail(session=session, actor=actor, item_id=int(row["item_id"]))
            except ServiceError as exc:
                st.error(plain_label(exc))
                st.stop()
        st.divider()
        st.subheader(f"Query {detail.query_index:d} · {plain_label(row['method'])}/{plain_label(row['judge'])}")
        st.caption(plain_label(f"{detail.domain1} › {detail.domain2} · {detail.lang} · item {detail.item_id}"))
        st.markdown(f"People's majority: **{plain_label(detail.human)}** ({plain_label(row['votes'])} votes) · this judge's "
                    f"verdict: **{plain_label(row['verdict'])}** (mean score of A minus B: {row['margin']:+.2f})")
        st.markdown("**Query** (sentences named by the query's criteria are highlighted; hover for the criterion)")
        parts = []
        for seg in detail.segments:
            text = html.escape(seg.text).replace("\n", "<br>")
            if seg.criteria:
                title = html.escape("; ".join(seg.criteria), quote=True)
                parts.append(f'<mark title="{title}">{text}</mark><sup>[{html.escape(", ".join(seg.criteria))}]</sup>')
            else:
                parts.append(text)
        with st.container(height=220, border=True, key="audit_query"):
            # Every piece is html-escaped above, and the whole goes through the sanitizer (no markdown).
            st.html(PreparedHtml(AUDIT_QUERY_CSS + f'<div class="wj-audit">{sanitize_html("".join(parts))}</div>'))
        show_text_view(materials=detail.materials, pane_height=400,
                       responses=((f"A · {detail.model_a}", detail.response_a),
                                  (f"B · {detail.model_b}", detail.response_b)))

        st.markdown("**Human votes** (shown left: the response each person saw on the left)")
        st.dataframe(pd.DataFrame([{"annotator": v.annotator, "choice": v.choice + (" (both poor)" if v.both_poor else ""),
                                    "shown left": v.shown_left, "time": format_duration(v.elapsed_s),
                                    "rationale": v.rationale, "stale": v.stale,
                                    **({"per criterion": ", ".join(f"{k}: {c}" for k, c in v.per_criterion.items())}
                                       if v.per_criterion else {})} for v in detail.votes]),
                     hide_index=True, width="stretch", key="audit_votes")

        st.markdown("**Judge scores per criteria method** (★ = criterion with the largest gap toward the verdict)")
        current = f"{row['method']}/{row['judge']}"
        ordered = sorted(detail.runs, key=lambda r: r.label != current)  # the audited run's tab first (open)
        tabs = st.tabs([f"{plain_label(r.label)}: verdict {plain_label(r.verdict)}"
                        + (" (audited)" if r.label == current else "") for r in ordered])
        for tab, run in zip(tabs, ordered, strict=True):
            with tab:
                st.caption(f"Mean A {run.mean_a:.2f} vs B {run.mean_b:.2f} → verdict {plain_label(run.verdict)}"
                           if run.mean_a is not None and run.mean_b is not None else "Scores missing for one response.")
                st.dataframe(pd.DataFrame([{"": "★" if c.driver else "", "criterion": c.name, "A": c.score_a,
                                            "B": c.score_b, "gap (A−B)": c.gap, "reason A": c.reason_a,
                                            "reason B": c.reason_b} for c in run.criteria]),
                             hide_index=True, width="stretch", key=f"audit_scores_{run.label}")

        st.markdown("**Tag this disagreement**")
        with db_session() as session:
            causes = [c.name for c in audit_tags.list_causes(session=session)]
        with st.form("audit_tag_form", clear_on_submit=True):
            cause = st.selectbox("Cause", causes, key="audit_tag_cause")
            note = st.text_area("Note", key="audit_tag_note", height=80)
            tagged = st.form_submit_button("Save tag", type="primary")
        if tagged:
            with db_session() as session:
                try:
                    audit_tags.add_tag(session=session, actor=actor, item_id=detail.item_id, judge=str(row["judge"]),
                                       method=str(row["method"]), cause=cause, note=note)
                except ServiceError as exc:
                    st.error(plain_label(exc))
                else:
                    st.session_state["audit_flash"] = f"Tagged item {detail.item_id} ({current}) as '{cause}'."
                    st.rerun()
        if detail.tags:
            st.dataframe(pd.DataFrame(detail.tags)[["method", "judge", "cause", "note", "author", "created_at"]],
                         hide_index=True, width="stretch", key="audit_item_tags")

with tab_summary:
    with db_session() as session:
        summary = audit_tags.cause_summary(session=session, actor=actor, study_name=study_name)
        csv_text = audit_tags.export_tags(session=session, actor=actor, study_name=study_name, fmt="csv")
        jsonl_text = audit_tags.export_tags(session=session, actor=actor, study_name=study_name, fmt="jsonl")
    if not summary:
        st.caption("No tags yet. Tag a disagreement on the *Disagreements* tab; the causes are counted here.")
    else:
        import plotly.express as px  # only when there is a chart to draw

        frame = pd.DataFrame(summary)
        frame["run"] = frame["method"] + "/" + frame["judge"]
        fig = px.bar(frame, x="run", y="n", color="cause", title="Causes of disagreement per method and judge",
                     labels={"n": "tagged disagreements", "run": "method/judge"})
        fig.update_yaxes(dtick=1, rangemode="tozero")  # counts: whole numbers only
        st.plotly_chart(fig, width="stretch", key="audit_summary_chart")
        st.dataframe(frame[["method", "judge", "cause", "n"]], hide_index=True, width="stretch",
                     key="audit_summary_table")
    e1, e2 = st.columns(2)
    e1.download_button("Download tags (CSV)", csv_text, file_name=f"audit_tags_{study_name}.csv", mime="text/csv",
                       key="audit_dl_csv")
    e2.download_button("Download tags (JSONL)", jsonl_text, file_name=f"audit_tags_{study_name}.jsonl",
                       mime="application/jsonl", key="audit_dl_jsonl")

with tab_causes:
    with db_session() as session:
        all_causes = audit_tags.list_causes(session=session, include_inactive=True)
    st.caption("Causes offered when tagging. Retiring one keeps the tags that use it.")
    for c in all_causes:
        col1, col2 = st.columns([4, 1])
        col1.markdown(plain_label(c.name) if c.active else f"~~{plain_label(c.name)}~~ (retired)")
        if col2.button("Retire" if c.active else "Restore", key=f"audit_cause_{c.id}"):
            with db_session() as session:
                audit_tags.set_cause_active(session=session, actor=actor, name=c.name, active=not c.active)
            st.rerun()
    with st.form("audit_add_cause", clear_on_submit=True):
        new_cause = st.text_input("New cause", key="audit_new_cause")
        if st.form_submit_button("Add cause"):
            with db_session() as session:
                try:
                    audit_tags.add_cause(session=session, actor=actor, name=new_cause)
                except ServiceError as exc:
                    st.error(plain_label(exc))
                else:
                    st.session_state["audit_flash"] = f"Added cause '{new_cause.strip()}'."
                    st.rerun()
