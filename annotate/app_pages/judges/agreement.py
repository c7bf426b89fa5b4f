"""Agreement with human votes (researcher, admin): Table 4, human ceiling, tests, breakdowns, bias,
system rankings and annotator competence.

Every number comes from :func:`annotate.services.judges.agreement_view.agreement_view` and
:mod:`annotate.services.judges.rankings_view` (metaeval); this page only picks the inputs and draws
the results (tabs in :mod:`annotate.ui.judges.agreement_tabs`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import file_name_part, shown_names
from annotate.services.core.statuses import StudyKind
from annotate.services.judges.agreement_view import (
    BREAKDOWNS,
    DOWNLOAD_TYPES,
    agreement_view,
    data_version,
)
from annotate.services.judges.judge_runs import list_runs
from annotate.services.judges.pointwise_view import ratings_version
from annotate.services.studies import lifecycle
from annotate.ui.judges import agreement_tabs, pointwise_tabs
from annotate.ui.kit.heatmaps import agreement_heatmap
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page

DOWNLOAD_LABELS = {"latex": "LaTeX", "markdown": "Markdown"}

actor = require_page(__file__)
st.title("Agreement with human judgments")  # votes (pairwise) or ratings (pointwise)

with db_session() as session:
    listed = lifecycle.list_studies(session=session, actor=actor)
    kinds = {s.name: s.kind for s in listed}
    shown = shown_names({s.name: s.name for s in listed}, ids={s.name: s.id for s in listed})
    runs = list_runs(session=session)
    version = (*data_version(session=session), *ratings_version(session=session))
studies = sorted(kinds, key=lambda n: kinds[n] != StudyKind.PAIRWISE)  # pairwise first, then pointwise (by ratings)
if not studies:
    st.info("No study yet. Create one on *Design a study*.")
    st.stop()
if not runs:
    st.info("No judge scores yet. Import them with `annotate import scores FILE --judge NAME --method M`.")
    st.stop()

c1, c2 = st.columns([1, 2])
study_name = c1.selectbox("Study", studies, key="agr_study", format_func=lambda n: f"{shown[n]} ({kinds[n]})")
labels = {r.label: r.run_id for r in runs}
chosen = c2.multiselect("Judge runs (method/judge)", list(labels), default=list(labels), key="agr_runs")
with st.expander("Settings"):
    s1, s2, s3, s4 = st.columns(4)
    n_resamples = s1.number_input("Bootstrap resamples", 100, 10000, 1000, step=100, key="agr_boot")
    seed = s2.number_input("Seed", 0, 10**6, 0, key="agr_seed")
    epsilon = s3.number_input("Tie margin (mean-score difference counted as a tie)", 0.0, 5.0, 0.0, step=0.1,
                              key="agr_eps")
    split = s4.selectbox("Split human votes", ["tie", "drop"], key="agr_split",
                         help="An exact split among the people counts as a tie, or is left out.")
    include_stale = st.checkbox("Include stale judgments and scores (made on an older version of the query)",
                                value=False, key="agr_stale")
if not chosen:
    st.warning("Pick at least one judge run.")
    st.stop()
if kinds[study_name] == StudyKind.POINTWISE:  # ratings, not votes: correlations (annotate/ui/judges/pointwise_tabs.py)
    pointwise_tabs.pointwise_mode(actor, study_name, tuple(labels[c] for c in chosen), int(n_resamples), int(seed),
                                  bool(include_stale), version)
    st.stop()
st.caption("Judge verdict = the response with the higher mean criterion score. Agreement counts every human vote "
           "against the judge's verdict on its pair (FastChat's definition); intervals are clustered bootstrap "
           "intervals over queries.")


@st.cache_data(show_spinner="Computing agreement...", max_entries=8)
def _view(study: str, run_ids: tuple[int, ...], n: int, seed: int, eps: float, split: str, stale: bool,
          version: tuple):
    with db_session() as session:
        return agreement_view(session=session, actor=actor, study_name=study, run_ids=list(run_ids),
                              n_resamples=n, seed=seed, epsilon=eps, split=split, include_stale=stale)


try:
    view = _view(study_name, tuple(labels[c] for c in chosen), int(n_resamples), int(seed), float(epsilon), split,
                 bool(include_stale), version)
except ServiceError as exc:
    st.warning(plain_label(for_person(exc)))
    st.stop()

for note in view.notes:
    st.caption(f"Note: {plain_label(note)}")
st.subheader("Table 4: agreement per criteria method and judge (%)")
table = pd.DataFrame(view.table_rows, columns=view.table_header)
st.dataframe(table, hide_index=True, width="stretch", key="agr_table")
st.caption("n: human votes compared with the judge's verdict (last row: pairs of people on the same pair). "
           "Last row: the human ceiling (agreement between two people on the same pair). "
           "No-tie agreement leaves out votes and verdicts that are ties. "
           "'p (Holm) vs best': paired test of each row against the best row, Holm-adjusted. "
           "–: not applicable (position consistency needs verdicts in both presentation orders).")
for line in view.human_lines:
    st.markdown(plain_label(line))  # may name imported judges

d_cols = st.columns(len(DOWNLOAD_TYPES))
for col, (fmt, (ext, mime)) in zip(d_cols, DOWNLOAD_TYPES.items(), strict=True):
    col.download_button(f"Download {DOWNLOAD_LABELS.get(fmt, fmt.upper())}", view.downloads[fmt],
                        file_name=f"agreement_{file_name_part(study_name)}.{ext}", mime=mime, key=f"agr_dl_{fmt}")

tab_cmp, tab_bd, tab_bias, tab_crit, tab_groups, tab_rank, tab_ann = st.tabs(
    ["Paired comparisons", "Breakdowns", "Position and length bias", "Criterion-level alignment", "WEval groups",
     "Rankings", "Annotators"])
with tab_cmp:
    agreement_tabs.comparisons_tab(view.comparisons, study_name)
with tab_bd:
    st.caption("Each cell: the share of votes (ties included) on which the judge gives the person's answer, and n, "
               "the number of votes behind it.")
    for key, title in BREAKDOWNS.items():
        fig = agreement_heatmap(view.breakdowns.get(key, pd.DataFrame()), title=f"Agreement by {title.lower()}",
                                x_label=title)
        if fig is not None:
            st.plotly_chart(fig, width="stretch", key=f"agr_hm_{key}")
with tab_bias:
    st.caption("Position bias: share of decisive verdicts that chose the response shown first (0.5 = none; judges "
               "scoring each response alone have no position). Length bias: share of decisive verdicts that chose "
               "the clearly longer response (0.5 = none).")
    st.dataframe(pd.DataFrame(view.bias), hide_index=True, width="stretch")
with tab_crit:
    agreement_tabs.criteria_tab(actor, study_name, [labels[c] for c in chosen], int(n_resamples), int(seed))
with tab_groups:
    agreement_tabs.groups_tab(actor, int(n_resamples), int(seed))
agreement_tabs.rankings_and_annotators(actor, study_name, tuple(labels[c] for c in chosen), int(n_resamples),
                                       int(seed), float(epsilon), bool(include_stale), version, tab_rank, tab_ann)
