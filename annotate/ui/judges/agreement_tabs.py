"""Tabs of the Agreement page: paired comparisons, criterion-level alignment, Rankings, Annotators.

Every number comes from the services (:mod:`annotate.services.judges.agreement_view`,
:mod:`annotate.services.judges.rankings_view`, :mod:`annotate.services.judges.criteria_view`);
these functions draw tables and figures and offer each figure's data as CSV and JSON.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots
from streamlit.delta_generator import DeltaGenerator

from annotate.db.models import User
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.judges.criteria_view import criterion_alignment
from annotate.services.judges.groups_view import MAX_BYTES, MAX_FILES, groups_view
from annotate.services.judges.rankings_view import (
    AnnotatorsView,
    Download,
    RankingsView,
    annotators_view,
    estimator_caption,
    rankings_view,
)
from annotate.services.studies.extension_estimate import extension_estimate
from annotate.ui.kit.heatmaps import agreement_heatmap
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session
from metaeval.stats.settings import COMPETENCE

STAT_LABELS = {"kendall_tau_b": "Kendall tau-b", "spearman": "Spearman", "pair_order_agreement": "Pair-order agreement"}


def download_buttons(downloads: dict[str, Download], keys: list[str], key_prefix: str) -> None:
    """One download button per key, labelled by its file name (with a download icon), in one row."""
    cols = st.columns(max(len(keys), 4))
    for col, key in zip(cols, keys, strict=False):
        d = downloads[key]
        col.download_button(plain_label(d.file_name), d.data, file_name=d.file_name, mime=d.mime,
                            key=f"{key_prefix}_{key}", icon=":material/download:", on_click="ignore")


def extension_note(study_name: str) -> None:
    """After ``annotate study extend``: the design-based estimate of the extension's target difference."""
    with db_session() as session:
        try:
            est = extension_estimate(session=session, study_name=study_name)
        except ServiceError as exc:
            st.caption(f"Note: {plain_label(for_person(exc))}")
            return
    if est is None:
        return
    a, b = (plain_label(x) for x in est["target"])
    lo, hi = est["ci"]
    st.info(f"This study was extended ({plain_label(est['strategy'])}, {plain_label(est['n_added_done'])} of "
            f"{plain_label(est['n_added'])} added votes in). "
            f"Design-based estimate of {a} minus {b}: {100 * est['value']:.1f} pp [{100 * lo:.1f}, {100 * hi:.1f}] "
            f"({plain_label(est['method'])}). After an adaptive extension the per-vote differences below weight the "
            "pairs that received the added votes more; this estimate does not.")
    for note in est["notes"]:
        st.caption(f"Note: {plain_label(note)}")


def comparisons_tab(comparisons: list[dict], study_name: str | None = None) -> None:
    """Paired comparisons of the judge rows (difference in percentage points, p values), and the
    extension's design-based estimate when the study was extended."""
    if study_name is not None:
        extension_note(study_name)
    if not comparisons:
        st.caption("One row only: nothing to compare.")
        return

    def _pp(value: float | None) -> float | None:
        return None if value is None else 100 * value

    st.dataframe(pd.DataFrame([{"A": c["a"], "B": c["b"], "difference (pp)": _pp(c["difference"]),
                                "CI low": _pp(c["ci"][0]), "CI high": _pp(c["ci"][1]),
                                "p": c["p_value"], "p (Holm)": c["p_holm"]} for c in comparisons]),
                 hide_index=True, width="stretch",
                 column_config={**{k: st.column_config.NumberColumn(format="%.1f")
                                   for k in ("difference (pp)", "CI low", "CI high")},
                                **{k: st.column_config.NumberColumn(format="%.3f") for k in ("p", "p (Holm)")}})
    st.caption("Difference: agreement of A minus agreement of B, in percentage points, with its paired "
               "bootstrap interval (resampling queries); p: sign-flip test over queries; p (Holm): adjusted for "
               "the number of comparisons.")


def criteria_tab(actor: User, study_name: str, run_ids: list[int], n_resamples: int, seed: int) -> None:
    """Criterion-level alignment (studies that asked people per criterion)."""
    with db_session() as session:
        try:
            al = criterion_alignment(session=session, actor=actor, study_name=study_name, run_ids=run_ids,
                                     n_resamples=int(min(n_resamples, 500)), seed=int(seed))
        except ServiceError as exc:
            al = None
            st.warning(plain_label(for_person(exc)))
    if al is None:
        st.caption("This study did not ask people per criterion.")
        return
    for note in al.notes:
        st.caption(f"Note: {plain_label(note)}")
    if al.overall.empty:
        return
    st.dataframe(al.overall, hide_index=True, width="stretch")
    for frame, title, key in ((al.by_position, "Agreement per criterion position", "agr_crit_pos"),
                              (al.by_domain, "Per-criterion agreement by domain", "agr_crit_dom")):
        fig = agreement_heatmap(frame, title=title)  # share and n in every cell
        if fig is not None:
            st.plotly_chart(fig, width="stretch", key=key)
    st.markdown("**Criteria that disagree most**")
    st.dataframe(al.worst.rename(columns={"group": "criterion", "column": "judge"}), hide_index=True, width="stretch")


# --------------------------------------------------------------------------- rankings


def _gap(a: float | None, b: float | None) -> float:
    return 0.0 if a is None or b is None or pd.isna(a) or pd.isna(b) else float(a) - float(b)


def forest_figure(table: pd.DataFrame, title: str) -> go.Figure:
    """Strength with its 95% interval per model, one panel per source (people first) sharing the model axis."""
    sources = list(dict.fromkeys(table["source"]))
    human = table[table["source"] == "human"].sort_values("strength")
    models = list(human["model"]) + [m for m in dict.fromkeys(table["model"]) if m not in set(human["model"])]
    fig = make_subplots(rows=1, cols=max(len(sources), 1), shared_yaxes=True, subplot_titles=sources,
                        horizontal_spacing=0.02)
    for k, source in enumerate(sources, start=1):
        part = table[table["source"] == source]
        fig.add_trace(go.Scatter(
            x=part["strength"], y=part["model"], mode="markers", name=source, showlegend=False,
            error_x={"type": "data", "symmetric": False,
                     "array": [_gap(h, s) for h, s in zip(part["ci_hi"], part["strength"], strict=True)],
                     "arrayminus": [_gap(s, lo) for s, lo in zip(part["strength"], part["ci_lo"], strict=True)]}),
            row=1, col=k)
        fig.add_vline(x=0.0, line_dash="dot", line_color="#999", row=1, col=k)
    fig.update_yaxes(categoryorder="array", categoryarray=models)
    fig.update_annotations(font_size=11)
    fig.update_layout(title=title, template="plotly_white", height=max(260, 40 * len(models) + 140),
                      margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def domain_figure(by_domain: pd.DataFrame) -> go.Figure:
    """Strength per model and domain: one panel per domain, one colour per source (dodged vertically)."""
    models = sorted(by_domain["model"].unique())
    sources = list(dict.fromkeys(by_domain["source"]))
    step = 0.6 / max(len(sources), 1)
    frame = by_domain.assign(y=[models.index(m) + (sources.index(s) - (len(sources) - 1) / 2) * step
                                for m, s in zip(by_domain["model"], by_domain["source"], strict=True)])
    fig = px.scatter(frame, x="strength", y="y", color="source", facet_col="group", facet_col_wrap=3,
                     facet_row_spacing=0.14, hover_data={"model": True, "y": False, "n": True},
                     error_x=frame["ci_hi"] - frame["strength"], error_x_minus=frame["strength"] - frame["ci_lo"],
                     title="Bradley–Terry strength by domain (95% interval)", template="plotly_white")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    fig.update_yaxes(tickvals=list(range(len(models))), ticktext=models, title_text="", range=[-0.6, len(models) - 0.4])
    rows = -(-by_domain["group"].nunique() // 3)
    fig.update_layout(height=max(320, rows * (45 * len(models) + 130)), legend_title_text="")
    return fig


def _interval(v: float, lo: float, hi: float, digits: int = 2) -> str:
    return "–" if pd.isna(v) else f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def rankings_tab(view: RankingsView) -> None:
    """Table and forest plot of the rankings, judge-vs-people rank agreement, the per-domain breakdown."""
    for note in view.notes:
        st.caption(f"Note: {plain_label(note)}")
    t = view.table
    st.dataframe(pd.DataFrame({
        "Source": t["source"], "Model": t["model"],
        "Strength [95% CI]": [_interval(*r) for r in zip(t["strength"], t["ci_lo"], t["ci_hi"], strict=True)],
        "Rank [95% CI]": [f"{r} [{lo}–{hi}]" for r, lo, hi in zip(t["rank"], t["rank_lo"], t["rank_hi"], strict=True)],
        "Elo": t["elo"].round(0), "n": t["n"]}), hide_index=True, width="stretch", key="rk_table")
    st.caption("Strength: Bradley–Terry log-strength (mean 0 over the models; a tie is half a win each); "
               "Elo = 400/ln 10 × strength + 1000. Intervals: bootstrap over queries; rank 1 = strongest.")
    if caption := estimator_caption(view.result.settings.get("estimator")):
        st.caption(plain_label(caption))
    st.plotly_chart(forest_figure(t, "Bradley–Terry strength with 95% bootstrap interval"), width="stretch",
                    key="rk_forest")
    download_buttons(view.downloads, ["rankings_csv", "rankings_json", "report_csv", "report_json"], "rk_dl")
    if not view.vs_human.empty:
        st.markdown("**Does each judge rank the models the way people do?**")
        vs = view.vs_human
        st.dataframe(pd.DataFrame({"Judge": vs["judge"], "Statistic": vs["statistic"].map(STAT_LABELS),
                                   "Value [95% CI]": [_interval(*r) for r in zip(vs["value"], vs["ci_lo"], vs["ci_hi"],
                                                                                 strict=True)]}),
                     hide_index=True, width="stretch", key="rk_vs")
        download_buttons(view.downloads, ["vs_human_csv", "vs_human_json"], "rk_dl")
    if not view.by_domain.empty:
        st.markdown("**By domain**")
        st.plotly_chart(domain_figure(view.by_domain), width="stretch", key="rk_domain")
        download_buttons(view.downloads, ["rankings_by_domain_csv", "rankings_by_domain_json"], "rk_dl")


# --------------------------------------------------------------------------- WEval groups


def groups_tab(actor: User, n_resamples: int, seed: int) -> None:
    """WEval requirement-drop groups beside Table 4: upload scored groups files, see tau, tau-b,
    position consistency and exact match per judge/method (numbers from ``groups_view``)."""
    st.caption("Gold without people: each group holds responses to variants of one instruction that keep "
               "C, C-1, ... of its requirements; the gold order is the number kept. Upload files written by "
               "`metaeval groups score` (one per judge or method); the figures equal `metaeval agreement --groups`.")
    c1, c2 = st.columns([3, 1])
    uploads = c1.file_uploader(f"Scored groups files (.jsonl; at most {MAX_FILES}, {MAX_BYTES // 2**20} MiB each)",
                               type=["jsonl"], accept_multiple_files=True, key="agr_groups_files")
    size = c2.number_input("Group size C (0: from '4c' in the file name)", 0, 50, 0, key="agr_groups_c")
    if not uploads:
        st.info("No groups file yet. Build and score one with `metaeval groups build` and `metaeval groups score`.")
        return
    try:
        view = groups_view(actor=actor, files=[(u.name, u.getvalue()) for u in uploads],
                           group_size=int(size) or None, n_resamples=n_resamples, seed=seed)
    except ServiceError as exc:
        st.warning(plain_label(for_person(exc)))
        return
    st.dataframe(pd.DataFrame(view.table_rows, columns=view.table_header), hide_index=True, width="stretch",
                 key="agr_groups_table")
    for note in view.notes:
        st.caption(plain_label(note))
    if view.comparison_rows:
        st.markdown("**Paired comparisons (Holm-adjusted)**")
        st.dataframe(pd.DataFrame(view.comparison_rows, columns=view.comparison_header), hide_index=True,
                     width="stretch", key="agr_groups_cmp")
    download_buttons(view.downloads, list(view.downloads), "agr_groups_dl")


# --------------------------------------------------------------------------- annotators


def competence_figure(table: pd.DataFrame) -> go.Figure:
    """Competence with its 95% interval per annotator, the chance level as an open marker."""
    t = table.sort_values("competence")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t["competence"], y=t["annotator"], mode="markers", name="competence",
                             error_x={"type": "data", "symmetric": False, "array": t["ci_hi"] - t["competence"],
                                      "arrayminus": t["competence"] - t["ci_lo"]}))
    fig.add_trace(go.Scatter(x=t["chance"], y=t["annotator"], mode="markers", name="chance (random voter)",
                             marker={"symbol": "circle-open", "size": 10}))
    fig.update_layout(title="Competence: P(label = true label), 95% bootstrap interval", template="plotly_white",
                      xaxis={"range": [0, 1]}, height=max(240, 36 * len(t) + 140),
                      margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def annotators_tab(view: AnnotatorsView) -> None:
    """Competence, chance level, flag and gold accuracy per annotator."""
    t = view.table
    st.dataframe(pd.DataFrame({
        "Annotator": t["annotator"], "Votes": t["n"],
        "Competence [95% CI]": [_interval(*r) for r in zip(t["competence"], t["ci_lo"], t["ci_hi"], strict=True)],
        "Chance": [f"{c:.2f}" for c in t["chance"]], "Flag": ["indistinguishable from random" if f else "" for f in t["flagged"]],
        "Gold accuracy": [("–" if g is None or pd.isna(g) else f"{100 * g:.0f}% (n={n})")
                          for g, n in zip(t["gold_accuracy"], t["gold_n"], strict=True)]}),
        hide_index=True, width="stretch", key="an_table")
    st.caption(f"Model: {plain_label(view.model)} (latent-class fit of the votes). Flag: {plain_label(view.flag_rule)}; people with few votes "
               f"stay flagged until they have enough. Intervals: {plain_label(COMPETENCE.describe())}.")
    if caption := estimator_caption(view.estimator):
        st.caption(plain_label(caption))
    st.plotly_chart(competence_figure(t), width="stretch", key="an_fig")
    download_buttons(view.downloads, ["annotators_csv", "annotators_json"], "an_dl")


@st.cache_data(show_spinner="Ranking the models...", max_entries=8)
def cached_rankings(_actor: User, study: str, run_ids: tuple[int, ...], n: int, seed: int, eps: float, stale: bool,
                    version: tuple) -> RankingsView:
    """:func:`rankings_view`, cached per inputs and data version."""
    with db_session() as session:
        return rankings_view(session=session, actor=_actor, study_name=study, run_ids=list(run_ids), n_resamples=n,
                             seed=seed, epsilon=eps, include_stale=stale)


@st.cache_data(show_spinner="Fitting annotator competence...", max_entries=8)
def cached_annotators(_actor: User, study: str, model: str, n: int, seed: int, stale: bool,
                      version: tuple) -> AnnotatorsView:
    """:func:`annotators_view`, cached per inputs and data version."""
    with db_session() as session:
        return annotators_view(session=session, actor=_actor, study_name=study, model=model, n_resamples=n,
                               seed=seed, include_stale=stale)


def rankings_and_annotators(actor: User, study: str, run_ids: tuple[int, ...], n: int, seed: int, eps: float,
                            stale: bool, version: tuple, tab_rankings: DeltaGenerator,
                            tab_annotators: DeltaGenerator) -> None:
    """Fill the Rankings and Annotators tabs (errors are shown in the tab)."""
    with tab_rankings:
        try:
            rankings_tab(cached_rankings(actor, study, run_ids, n, seed, eps, stale, version))
        except ServiceError as exc:
            st.warning(plain_label(for_person(exc)))
    with tab_annotators:
        model = st.radio("Model", ["dawid-skene", "mace"], horizontal=True, key="an_model",
                         format_func={"dawid-skene": "Dawid–Skene", "mace": "MACE"}.get)
        try:
            # competence has its own settings (the CLI's and the dashboard's), not the Agreement page's
            annotators_tab(cached_annotators(actor, study, model, COMPETENCE.n_resamples, COMPETENCE.seed, stale,
                                             version))
        except ServiceError as exc:
            st.warning(plain_label(for_person(exc)))
