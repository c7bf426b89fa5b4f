"""*Design a study*: "Add votes where they matter most" — extend an existing pairwise study.

The plan (:func:`annotate.services.studies.extend.plan_extension`, no writes) shows the
expected 95% interval width of the target difference now, after the votes spread evenly and
after the adaptive allocation; "Add votes" writes exactly that plan
(:func:`annotate.services.studies.extend.extend_study`, same inputs and seed).
"""

from __future__ import annotations

import itertools

import streamlit as st

from annotate.db.models import User
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import shown_name, shown_names
from annotate.services.core.statuses import StudyKind
from annotate.services.judges.judge_runs import list_runs
from annotate.services.studies import extend, lifecycle
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session

DEFAULT_TARGET = "The best judge row against the next"
STRATEGY_LABELS = {"adaptive": "Where they matter most (adaptive)", "uniform": "Evenly over the pairs (uniform)"}
PLAN_KEY = "extend_plan"  # (inputs, ExtensionPlan) last previewed


def target_name(target: tuple[str, str] | None) -> str:
    """A target difference as the pick list shows it (plain text).

    Example:
        >>> target_name(("dynamic/demo-critic", "dynamic/demo-judge"))
        'dynamic/demo-critic minus dynamic/demo-judge'
    """
    return DEFAULT_TARGET if target is None else f"{target[0]} minus {target[1]}"


def _inputs(actor: User, annotator_names: list[str]) -> dict | None:
    with db_session() as session:
        listed = [s for s in lifecycle.list_studies(session=session, actor=actor) if s.kind == StudyKind.PAIRWISE]
        pairwise = [s.name for s in listed]
        shown = shown_names({s.name: s.name for s in listed}, ids={s.name: s.id for s in listed})
        labels = [r.label for r in list_runs(session=session, with_counts=False)]
    if not pairwise:
        st.caption("No pairwise study yet.")
        return None
    c1, c2, c3, c4 = st.columns([2, 1, 2, 1])
    study = c1.selectbox("Study", pairwise, key="ext_study", format_func=lambda n: shown[n])
    votes = c2.number_input("Votes to add", min_value=1, value=50, step=10, key="ext_votes")
    strategy = c3.radio("Strategy", list(STRATEGY_LABELS), format_func=STRATEGY_LABELS.get, key="ext_strategy")
    seed = c4.number_input("Seed", min_value=0, value=0, step=1, key="ext_seed")
    # select-box options are shown as plain text (no markdown), so the names are shown as they are
    targets: list[tuple[str, str] | None] = [None, *itertools.permutations(labels, 2)]
    picked = st.selectbox("Target difference (method/judge minus method/judge)", targets, key="ext_target",
                          format_func=target_name)
    target = DEFAULT_TARGET if picked is None else f"{picked[0]}-{picked[1]}"
    extra = st.multiselect("More annotators who may take the new votes", annotator_names, key="ext_people")
    return {"study_name": study, "n": int(votes), "strategy": strategy, "seed": int(seed),
            "target": None if target == DEFAULT_TARGET else target, "annotators": list(extra)}


def _show(plan: extend.ExtensionPlan) -> None:
    if plan.widths and plan.target is not None:  # widths are empty without a target
        w = plan.widths
        cols = st.columns(3)
        cols[0].metric("Expected width now", f"{100 * w['now']:.1f} pp")
        cols[1].metric("After these votes, spread evenly", f"{100 * w['uniform']:.1f} pp",
                       delta=f"{100 * (w['uniform'] - w['now']):.1f} pp", delta_color="inverse")
        cols[2].metric("After these votes, where they matter most", f"{100 * w['adaptive']:.1f} pp",
                       delta=f"{100 * (w['adaptive'] - w['now']):.1f} pp", delta_color="inverse")
        st.caption(f"Target: {plain_label(plan.target[0])} minus {plain_label(plan.target[1])}. Expected width of "
                   "the 95% interval of the difference in agreement with people, in percentage points. The adaptive "
                   "estimate is design-based (Horvitz–Thompson difference estimator), so it stays unbiased although "
                   "the votes go where the two rows disagree and the people split.")
    for line in plan.summary_lines():
        if not line.startswith("expected"):
            st.markdown(f"- {plain_label(line)}")


def extend_section(actor: User, annotator_names: list[str]) -> None:
    """The whole "Add votes where they matter most" section (the page puts it in an expander of that name)."""
    st.caption("More annotators on an existing study's pairs, chosen to narrow the interval of one judge "
               "difference fastest. Nobody judges a pair twice and the sides stay counterbalanced.")
    inputs = _inputs(actor, annotator_names)
    if inputs is None:
        return
    if st.button("Preview the new votes", key="ext_preview"):
        try:
            with db_session() as session:
                st.session_state[PLAN_KEY] = (inputs, extend.plan_extension(session=session, **inputs))
        except ServiceError as exc:
            st.session_state.pop(PLAN_KEY, None)
            st.error(plain_label(for_person(exc)))
    kept = st.session_state.get(PLAN_KEY)
    if kept is None or kept[0] != inputs:
        st.caption("Press **Preview the new votes** to see the expected widths; nothing is added before you confirm.")
        return
    _show(kept[1])
    if st.button("Add votes", type="primary", key="ext_add", icon=":material/add_task:"):
        try:
            with db_session() as session:
                plan = extend.extend_study(session=session, actor=actor, **inputs)
        except ServiceError as exc:
            st.error(plain_label(for_person(exc)))
        else:
            st.session_state.pop(PLAN_KEY, None)
            st.session_state["design_flash"] = f"Added {len(plan.new)} assignments to study {shown_name(inputs['study_name'])}."
            st.rerun()
