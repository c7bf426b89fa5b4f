"""Pieces of the *Disagreement audit* page: filters, the list's column order, the detail's
query, votes and judge scores, and the cause summary and cause list tabs.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from annotate.db.models import User
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import file_name_part, shown_name
from annotate.services.judges import audit_tags
from annotate.services.judges.audit import AuditDetail, AuditFilters
from annotate.ui.annotate.task_state import format_duration
from annotate.ui.kit.panes import PreparedHtml
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.kit.sanitize import sanitize_html
from annotate.ui.session import db_session

AUDIT_QUERY_CSS = ("<style>.wj-audit mark{background:#ffe8a3;color:inherit}.wj-audit sup{color:#8a6d00}"
                   ".wj-audit{overflow-wrap:anywhere}</style>")
"""Styles of the highlighted query (sent with it, in its ``st.html`` element)."""

#: What an auditor reads first: the two verdicts and how strongly each side holds it.
LEAD_COLUMNS = ("human", "verdict", "margin", "votes", "strength", "method", "judge", "query", "cause")


def lead_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with :data:`LEAD_COLUMNS` first, the rest after them in their order.

    Example:
        >>> frame = pd.DataFrame(columns=["item_id", "query", "human", "verdict", "margin", "x"])
        >>> list(lead_columns(frame).columns)
        ['human', 'verdict', 'margin', 'query', 'item_id', 'x']
    """
    lead = [c for c in LEAD_COLUMNS if c in rows.columns]
    return rows[lead + [c for c in rows.columns if c not in lead]]


def _options(table: pd.DataFrame, column: str) -> list[str]:
    return sorted({str(v) for v in table[column].dropna()}) if column in table.columns else []


def audit_filters(table: pd.DataFrame, judges: Sequence[str], methods: Sequence[str], *, key: str) -> AuditFilters:
    """The filter expander; domain, subdomain and language are pick lists of the values in
    ``table`` (the study's disagreements), so their widgets' keys carry ``key`` (the study)."""
    with st.expander("Filters", expanded=False):
        f1, f2, f3 = st.columns(3)
        picked_judges = f1.multiselect("Judge", sorted(set(judges)), key="audit_f_judge")
        picked_methods = f2.multiselect("Method", sorted(set(methods)), key="audit_f_method")
        langs = f3.multiselect("Language", _options(table, "lang"), key=f"audit_f_lang_{key}")
        f4, f5 = st.columns(2)
        domains = f4.multiselect("Domain", _options(table, "domain"), key=f"audit_f_dom_{key}",
                                 placeholder="Any domain (type to search)")
        in_domains = table[table["domain"].isin(domains)] if domains else table
        subdomains = f5.multiselect("Subdomain", _options(in_domains, "subdomain"), key=f"audit_f_sub_{key}",
                                    placeholder="Any subdomain (type to search)")
        f6, f7, f8, f9 = st.columns(4)
        min_margin = f6.number_input("Min |score margin|", 0.0, 9.0, 0.0, step=0.1, key="audit_f_min")
        max_margin = f7.number_input("Max |score margin|", 0.0, 9.0, 9.0, step=0.1, key="audit_f_max")
        unanimous = f8.checkbox("Unanimous people only", key="audit_f_unan")
        untagged = f9.checkbox("Untagged only", key="audit_f_untag")
    return AuditFilters(judges=tuple(picked_judges), methods=tuple(picked_methods), domains=tuple(domains),
                        subdomains=tuple(subdomains), langs=tuple(langs), min_margin=min_margin or None,
                        max_margin=None if max_margin >= 9.0 else max_margin, unanimous_only=unanimous,
                        untagged_only=untagged)


def show_query(detail: AuditDetail) -> None:
    """The query with the sentences its criteria name highlighted (hover names the criterion)."""
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


def show_votes(detail: AuditDetail) -> None:
    """Every person's vote on the pair."""
    st.markdown("**Human votes** (shown left: the response each person saw on the left)")
    st.dataframe(pd.DataFrame([{"annotator": v.annotator, "choice": v.choice + (" (both poor)" if v.both_poor else ""),
                                "shown left": v.shown_left, "time": format_duration(v.elapsed_s),
                                "rationale": v.rationale, "stale": v.stale,
                                **({"per criterion": ", ".join(f"{k}: {c}" for k, c in v.per_criterion.items())}
                                   if v.per_criterion else {})} for v in detail.votes]),
                 hide_index=True, width="stretch", key="audit_votes")


def show_run_scores(detail: AuditDetail, current: str) -> None:
    """One tab per judge run with its criterion scores; the audited run's tab first."""
    st.markdown("**Judge scores per criteria method** (★ = criterion with the largest gap toward the verdict)")
    ordered = sorted(detail.runs, key=lambda r: r.label != current)
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


def cause_summary(summary: list[dict], csv_text: str, jsonl_text: str, study_name: str) -> None:
    """The tagged causes per method and judge, as a chart and a table, with the downloads."""
    if not summary:
        st.caption("No tags yet. Tag a disagreement on the *Disagreements* tab; the causes are counted here.")
    else:
        import plotly.express as px  # only when there is a chart to draw

        frame = pd.DataFrame(summary)
        frame["run"] = frame["method"] + "/" + frame["judge"]
        frame["cause"] = frame["cause"].map(shown_name)  # older causes may hide characters
        fig = px.bar(frame, x="run", y="n", color="cause", title="Causes of disagreement per method and judge",
                     labels={"n": "tagged disagreements", "run": "method/judge"})
        fig.update_yaxes(dtick=1, rangemode="tozero")  # counts: whole numbers only
        st.plotly_chart(fig, width="stretch", key="audit_summary_chart")
        st.dataframe(frame[["method", "judge", "cause", "n"]], hide_index=True, width="stretch",
                     key="audit_summary_table")
    e1, e2 = st.columns(2)
    e1.download_button("Download tags (CSV)", csv_text, file_name=f"audit_tags_{file_name_part(study_name)}.csv", mime="text/csv",
                       key="audit_dl_csv")
    e2.download_button("Download tags (JSONL)", jsonl_text, file_name=f"audit_tags_{file_name_part(study_name)}.jsonl",
                       mime="application/jsonl", key="audit_dl_jsonl")


def cause_list(actor: User, all_causes: list) -> None:
    """The causes offered when tagging: retire or restore one, add one."""
    st.caption("Causes offered when tagging. Retiring one keeps the tags that use it.")
    for c in all_causes:
        col1, col2 = st.columns([4, 1])
        col1.markdown(plain_label(shown_name(c.name)) if c.active else f"~~{plain_label(shown_name(c.name))}~~ (retired)")
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
                    st.error(plain_label(for_person(exc)))
                else:
                    st.session_state["audit_flash"] = f"Added cause '{new_cause.strip()}'."
                    st.rerun()
