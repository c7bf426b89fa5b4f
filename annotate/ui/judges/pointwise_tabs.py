"""The Agreement page's mode for pointwise studies: correlations of judge runs with the people's
ratings at item, system and global level, the people's ceiling, paired comparisons of runs and
breakdowns by domain and language.

Every number comes from :func:`annotate.services.judges.pointwise_view.pointwise_view`; this
module draws tables and offers the report as Markdown and JSON.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotate.db.models import User
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import file_name_part
from annotate.services.judges.pointwise_view import (
    BREAKDOWN_FIELDS,
    correlation_frame,
    pointwise_disagreements,
    pointwise_view,
)
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session


def _num(x: object) -> str:
    return "–" if x is None else f"{float(x):.3f}"  # type: ignore[arg-type]


def _ci(ci: object) -> str:
    lo, hi = ci if isinstance(ci, (list, tuple)) and len(ci) == 2 else (None, None)
    return f"[{_num(lo)}, {_num(hi)}]"


@st.cache_data(show_spinner="Computing correlations...", max_entries=8)
def _view(_actor: User, study: str, run_ids: tuple[int, ...], n: int, seed: int, stale: bool, version: tuple):
    """The view, cached on everything but the actor (any researcher or admin sees the same)."""
    with db_session() as session:
        return pointwise_view(session=session, actor=_actor, study_name=study,
                              run_ids=list(run_ids), n_resamples=n, seed=seed, include_stale=stale)


def pointwise_mode(actor: User, study_name: str, run_ids: tuple[int, ...], n_resamples: int, seed: int,
                   include_stale: bool, version: tuple) -> None:
    """Draw the pointwise analysis of ``study_name`` (the page stops after it)."""
    try:
        view = _view(actor, study_name, run_ids, n_resamples, seed, include_stale, version)
    except ServiceError as exc:
        st.warning(plain_label(for_person(exc)))
        return
    for note in view.notes:
        st.caption(f"Note: {plain_label(note)}")
    st.subheader("Pointwise study: correlation of judge scores with the people's ratings")
    st.dataframe(view.table, hide_index=True, width="stretch", key="pw_table")
    st.caption("item: per query, across its models, averaged over queries (constant groups are counted, not "
               "averaged); system: the models' mean scores; global: every rated response. Kendall = tau-b; "
               "intervals resample queries.")
    for w in view.warnings:
        st.warning(plain_label(f"Degenerate level: {w}"))
    c = view.ceiling
    if c.get("n_rater_pairs"):
        st.markdown(plain_label(
            f"The people with each other (the ceiling, {c['n_rater_pairs']} rater pair"
            f"{'' if c['n_rater_pairs'] == 1 else 's'}, {c['n_shared']} shared "
            f"ratings): Cohen's kappa {_num(c['cohen_kappa'])} {_ci(c['ci']['cohen_kappa'])}, quadratic-weighted "
            f"{_num(c['cohen_kappa_quadratic'])} {_ci(c['ci']['cohen_kappa_quadratic'])}, Pearson "
            f"{_num(c['pearson'])} {_ci(c['ci']['pearson'])}."))
    else:
        st.caption("No response was rated by two people: no ceiling.")
    for line in view.summary:
        st.caption(plain_label(line))
    d1, d2, _ = st.columns([1, 1, 3])
    d1.download_button("Download Markdown", view.downloads["markdown"], file_name=f"correlation_{file_name_part(study_name)}.md",
                       mime="text/markdown", key="pw_dl_md")
    d2.download_button("Download JSON", view.downloads["json"], file_name=f"correlation_{file_name_part(study_name)}.json",
                       mime="application/json", key="pw_dl_json")
    tab_cmp, *tab_bd = st.tabs(["Paired comparisons", *(f"By {t.lower()}" for t in BREAKDOWN_FIELDS.values())])
    with tab_cmp:
        if not view.comparisons:
            st.caption("Pick two or more judge runs to compare them.")
        else:
            st.dataframe(pd.DataFrame([{
                "Level": r["level"], "A": r["a"], "B": r["b"], "A value": _num(r["a_value"]),
                "B value": _num(r["b_value"]), "A - B [95% CI]": f"{_num(r['difference'])} {_ci(r['ci'])}",
                "p": _num(r["p_value"]), "p (Holm)": _num(r["p_holm"]), "Queries": r["n_items"]}
                for r in view.comparisons]), hide_index=True, width="stretch", key="pw_cmp")
            st.caption("Paired bootstrap over queries (the same draw for both runs); Holm within each level.")
    for tab, (fld, title) in zip(tab_bd, BREAKDOWN_FIELDS.items(), strict=True):
        with tab:
            rows = view.breakdowns.get(fld, [])
            frame = correlation_frame(rows)
            frame.insert(0, title, [r["group"] for r in rows])
            st.dataframe(frame, hide_index=True, width="stretch", key=f"pw_bd_{fld}")


def pointwise_audit(actor: User, study_name: str) -> None:
    """The Audit page for a pointwise study: rated responses where a judge run and the people
    differ most (both on 0..1), largest gap first."""
    with db_session() as session:
        try:
            rows = pointwise_disagreements(session=session, actor=actor, study_name=study_name)
        except ServiceError as exc:
            st.info(plain_label(for_person(exc)))
            return
    st.caption("A pointwise study: each row is a rated response and a judge run. people = the mean rating (1-5), "
               "judge = the run's mean criterion score (1-10); gap = judge minus people, both put on 0..1 "
               "((x - 1) / 4 and (x - 1) / 9). Largest gaps first.")
    if rows.empty:
        st.info("No judge run scores this study's rated responses.")
        return
    st.dataframe(rows, hide_index=True, width="stretch", height=420, key="audit_pw_table",
                 column_config={"people": st.column_config.NumberColumn(format="%.2f"),
                                "judge": st.column_config.NumberColumn(format="%.2f"),
                                "gap": st.column_config.NumberColumn(format="%+.2f")})
