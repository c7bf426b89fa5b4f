"""Design a study (researcher, admin): the settings, the resulting counts, then "Create".

"Preview counts" runs :func:`annotate.services.studies.design.plan_study` (no writes) and keeps
the previewed design; "Create study" creates exactly that design
(:func:`annotate.services.studies.design.create_study`, one transaction). "Add votes where they
matter most" extends an existing study (:mod:`annotate.ui.studies.extend_study`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotate.services.content.project_overview import query_counts
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import shown_name
from annotate.services.core.statuses import StudyKind
from annotate.services.studies.design import (
    DEFAULT_ERROR_TYPES,
    KINDS,
    StudyDesign,
    annotator_choices,
    create_study,
    plan_study,
)
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page
from annotate.ui.studies.extend_study import extend_section

PREVIEW_KEY = "design_preview"  # (StudyDesign, StudyPlan) last previewed

actor = require_page(__file__)
st.title("Design a study")
st.caption("WritingBench's human study: 3 queries from each of the 100 subdomains, two responses from two "
           "different models per query, 5 annotators per pair. Every number below is a setting.")

flash = st.session_state.pop("design_flash", None)
if flash:
    st.success(plain_label(flash))

with db_session() as session:
    annotator_names = annotator_choices(session=session, actor=actor)
    subdomain_counts = query_counts(session=session)
subdomain_names = [c.subdomain for c in subdomain_counts]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        if line.strip():
            left, sep, right = line.partition(" vs ")
            if not sep:
                left, _, right = line.partition(",")
            pairs.append((left.strip(), right.strip()))
    return pairs


with st.form("study_design"):
    name = st.text_input("Study name", placeholder="e.g. pilot-2025-06")
    kind = st.radio("Kind", KINDS, horizontal=True,
                    format_func={"pairwise": "Pairwise (A vs B)", "pointwise": "Pointwise (rate 1-5)"}.get)
    c1, c2, c3 = st.columns(3)
    per_subdomain = c1.number_input("Queries per subdomain (N)", min_value=1, value=3, step=1)
    overlap = c2.number_input("Annotators per item (K)", min_value=1, value=min(5, max(1, len(annotator_names))),
                              step=1)
    seed = c3.number_input("Random seed", min_value=0, value=0, step=1)
    annotators = st.multiselect("Annotators", annotator_names, default=annotator_names,
                                help="Active accounts with the annotator role.")
    chosen_subdomains = st.multiselect("Subdomains (empty = all with queries)", subdomain_names)
    models_text = st.text_input("Models (comma-separated; empty = every model with responses)")
    pairs_text = st.text_area("Model pairs (optional, one per line: model-x vs model-y)", height=80,
                              help="When given, each query's pair is drawn among these pairs.")
    c4, c5, c6 = st.columns(3)
    gold_rate = c4.number_input("Gold pair rate", min_value=0.0, max_value=0.9, value=0.0, step=0.05,
                                help="Share of the items that are gold pairs with a known answer.")
    qualification = c5.number_input("Qualification items", min_value=0, value=0, step=1,
                                    help="Items every annotator judges before the real work.")
    per_criterion = c6.checkbox("Also ask per criterion", help="A choice per criterion of the query's criteria.")
    error_types_text = st.text_area("Error types (pointwise; one per line; empty = defaults)",
                                    placeholder="\n".join(DEFAULT_ERROR_TYPES[:3]), height=80)
    previewed = st.form_submit_button("Preview counts", type="primary")

with st.expander("Add votes where they matter most (extend an existing study)", icon=":material/insights:"):
    extend_section(actor, annotator_names)

if previewed:
    design = StudyDesign(
        name=name.strip(), kind=kind, per_subdomain=int(per_subdomain), overlap=int(overlap),
        annotators=list(annotators), models=_split(models_text) or None,
        model_pairs=_pairs(pairs_text) or None, seed=int(seed), gold_rate=float(gold_rate),
        qualification_items=int(qualification), per_criterion=bool(per_criterion),
        error_types=[t.strip() for t in error_types_text.splitlines() if t.strip()] or None,
        subdomains=list(chosen_subdomains) or None)
    try:
        with db_session() as session:
            plan = plan_study(session=session, design=design)
    except ServiceError as exc:
        st.session_state.pop(PREVIEW_KEY, None)
        st.error(plain_label(for_person(exc)))
    else:
        st.session_state[PREVIEW_KEY] = (design, plan)

preview = st.session_state.get(PREVIEW_KEY)
if preview is None:
    st.info("Fill in the settings and press **Preview counts**; nothing is created before you confirm.")
    st.stop()

design, plan = preview
st.subheader(f"Preview of study {plain_label(shown_name(design.name)) or '(no name yet)'}")
cols = st.columns(5)
cols[0].metric("Queries", f"{plan.n_queries:,}")
cols[1].metric("Items", f"{plan.n_items:,}")
cols[2].metric("Gold items", f"{plan.n_gold:,}")
cols[3].metric("Qualification items", f"{plan.n_qualification:,}")
cols[4].metric("Assignments", f"{plan.n_assignments:,}")
short = [w for w in plan.warnings if w.startswith("subdomain ")]
if len(short) > 3:  # one warning for many subdomain shortfalls, the list on demand
    st.warning(f"{len(short)} subdomains have fewer eligible queries than the {design.per_subdomain:d} wanted "
               "(often no query of theirs has responses yet); the study uses what there is.")
    with st.expander(f"The {len(short)} subdomains"):
        st.markdown("\n".join(f"- {plain_label(w)}" for w in short))
for warning in plan.warnings:
    if len(short) <= 3 or warning not in short:
        st.warning(plain_label(warning))
left, right = st.columns(2)
with left:
    st.markdown("**Assignments per annotator**")
    st.dataframe(pd.DataFrame(list(plan.per_annotator.items()), columns=["Annotator", "Assignments"]),
                 hide_index=True)
    st.markdown("**Items per model pair**" if design.kind == StudyKind.PAIRWISE else "**Items per model**")
    st.dataframe(pd.DataFrame(list(plan.per_model_pair.items()), columns=["Models", "Items"]), hide_index=True)
with right:
    st.markdown(f"**Items per subdomain** ({len(plan.per_subdomain)} subdomains)")
    st.dataframe(pd.DataFrame(list(plan.per_subdomain.items()), columns=["Subdomain", "Items"]),
                 hide_index=True, height=300)

if st.button("Create study", type="primary", icon=":material/add_task:",
             help="Creates exactly the design previewed above, with its items and assignments."):
    try:
        with db_session() as session:
            study = create_study(session=session, actor=actor, design=design)
    except ServiceError as exc:
        st.error(plain_label(for_person(exc)))
    else:
        st.session_state.pop(PREVIEW_KEY, None)
        st.session_state["design_flash"] = (f"Study {study.name} created: {plan.n_items} items, "
                                            f"{plan.n_assignments} assignments.")
        st.rerun()
