"""Edit statistics (expert, researcher, admin): edits per domain, stale judgments with the
one-click re-queue (researchers, admins), and the refined benchmark export.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.roles import MANAGERS
from annotate.services.core.statuses import VersionStatus
from annotate.services.refine import edit_statistics, staleness
from annotate.services.refine.refined_export import export_refined
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page

user = require_page(__file__)
st.title("Edit statistics")
if flash := st.session_state.pop("stats_flash", None):
    st.success(plain_label(flash), icon=":material/check_circle:")

with db_session() as session:
    rows = edit_statistics.edit_statistics(session=session)
    counts = staleness.stale_counts(session=session)
    by_study = staleness.stale_by_study(session=session)
if not rows:
    st.info("No queries yet.")
    st.stop()
table = pd.DataFrame(rows)
cols = st.columns(4)
cols[0].metric("Queries", int(table["queries"].sum()))
cols[1].metric("Queries edited", int(table["edited_queries"].sum()))
cols[2].metric("Queries split", int(table["split_queries"].sum()))
cols[3].metric("Edits awaiting review", int(table["instruction_pending"].sum() + table["material_pending"].sum()))
long = table.melt(id_vars="domain", value_vars=[f"{k}_{s}" for k in ("instruction", "material")
                                                 for s in (VersionStatus.APPROVED, VersionStatus.PENDING, VersionStatus.REJECTED)],
                  var_name="edit", value_name="versions")
long["edit"] = long["edit"].str.replace("_", " ")
if long["versions"].sum() == 0:
    st.info("No query has been adapted or pruned yet: experts do that on *Adapt queries* and "
            "*Prune materials*, and the versions per domain are charted here.")
else:
    fig = px.bar(long, x="domain", y="versions", color="edit", barmode="stack",
                 title="Edit versions per domain (instruction adaptations and material prunings, by status)")
    fig.update_layout(height=420, margin={"t": 50, "l": 0, "r": 0, "b": 0}, xaxis_title="",
                      yaxis_title="versions")
    st.plotly_chart(fig, key="edit_stats_chart")
st.dataframe(table.rename(columns=lambda c: c.replace("_", " ")), hide_index=True)

st.subheader("Stale judgments")
st.write(f"{counts['judgments']:,} pairwise judgments, {counts['ratings']:,} ratings and {counts['judge_scores']:,} "
         "judge scores were made on content that has since changed. Statistics include or exclude them "
         "by an explicit choice.")
if user.role in MANAGERS:
    for name, n in by_study:
        c1, c2 = st.columns([3, 1])
        c1.write(f"Study **{plain_label(name)}**: {n:d} stale judgment(s) not yet re-queued")
        if c2.button("Re-queue", key=f"requeue_{name}"):
            with db_session() as session:
                try:
                    report = staleness.requeue_stale(session=session, actor=user, study=name)
                except ServiceError as exc:
                    st.error(plain_label(for_person(exc)))
                else:
                    st.session_state["stats_flash"] = (f"Re-queued {report.created} task(s) for "
                                                       f"{', '.join(report.annotators) or 'nobody'}.")
                    st.rerun()

st.subheader("Refined benchmark")
st.caption("WritingBench JSONL with each query's approved instruction and kept materials (checklists "
           "unchanged), and a provenance file with version ids, editors and reasons.")
if st.button("Prepare the refined export", key="prepare_export"):
    with tempfile.TemporaryDirectory() as tmp, db_session() as session:
        exported = export_refined(session=session, path=Path(tmp) / "refined.jsonl",
                                  provenance_path=Path(tmp) / "provenance.jsonl")
        st.session_state["refined_files"] = ((Path(tmp) / "refined.jsonl").read_bytes(),
                                             (Path(tmp) / "provenance.jsonl").read_bytes(), exported.changed)
if files := st.session_state.get("refined_files"):
    st.write(f"{files[2]:,} changed queries.")
    c1, c2 = st.columns(2)
    c1.download_button("Download refined_benchmark.jsonl", files[0], file_name="refined_benchmark.jsonl",
                       mime="application/jsonl", key="dl_refined")
    c2.download_button("Download provenance.jsonl", files[1], file_name="provenance.jsonl",
                       mime="application/jsonl", key="dl_provenance")
