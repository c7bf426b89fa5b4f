"""Rate responses (annotator, pointwise studies): one response, a score 1-5, an error type.

A score at or below :data:`annotate.services.annotate.judgments.LOW_SCORE` needs an error type from
the study's list. Submits through :func:`annotate.services.annotate.judgments.submit_rating` with a
submit token kept per showing (see :mod:`annotate.ui.annotate.task_state`). Model names never appear.
"""

from __future__ import annotations

import streamlit as st

from annotate.services.annotate import judgments, tasks
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import shown_name, shown_names
from annotate.ui.annotate import task_state
from annotate.ui.kit.panes import show_text_view
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import db_session, require_page

OPEN_KEY = "rate_open"
FLASH_KEY = "rate_flash"
SCORE_LABELS = {1: "1 · unacceptable", 2: "2 · poor", 3: "3 · acceptable", 4: "4 · good", 5: "5 · excellent"}

user = require_page(__file__)
state = st.session_state
st.title("Rate responses")

flash = state.pop(FLASH_KEY, None)
if flash:
    st.success(plain_label(flash), icon=":material/check_circle:")

with db_session() as session:
    studies = [s for s in tasks.my_studies(session=session, actor=user) if s.kind == "pointwise"]
if not studies:
    st.info("No rating tasks are assigned to you yet.")
    st.stop()
# Select by id and label by name only: a label that changes (a "done" count) makes Streamlit
# reset the picker to the first study; the counts are in the progress line instead.
by_id = {s.study_id: s for s in studies}
shown = shown_names({i: s.name for i, s in by_id.items()})  # escaped, capped, look-alikes with their id
study = (by_id[st.selectbox("Study", list(by_id), key="rate_study",
                            format_func=lambda i: shown[i])]
         if len(studies) > 1 else studies[0])

opened = state.get(OPEN_KEY)  # (study id, assignment id): a task opens only in its own study
if opened is not None and opened[0] != study.study_id:
    opened = None
    state.pop(OPEN_KEY, None)
try:
    with db_session() as session:
        task = (tasks.get_task(session=session, actor=user, assignment_id=opened[1], study_id=study.study_id)
                if opened is not None
                else tasks.next_task(session=session, actor=user, study_id=study.study_id))
        my_tasks = tasks.my_task_list(session=session, actor=user, study_id=study.study_id)
except ServiceError as exc:
    state.pop(OPEN_KEY, None)
    st.error(f"This task cannot be opened: {plain_label(for_person(exc))}")
    st.stop()


def open_task(assignment_id: int | None) -> None:
    """Show ``assignment_id`` of the open study next (``None``: the next task in the queue)."""
    if assignment_id is None:
        state.pop(OPEN_KEY, None)
    else:
        state[OPEN_KEY] = (study.study_id, assignment_id)


done, total = sum(1 for r in my_tasks if r.status == "done"), len(my_tasks)
st.progress(done / total if total else 0.0, text=f"{done} of {total} responses rated in study {plain_label(shown_name(study.name))}")
finished = {r.assignment_id: r for r in my_tasks if r.status == "done"}
if finished:
    with st.expander(f"My ratings ({len(finished)}): open one to revise it"):
        pick = st.selectbox("Rated response", list(finished), key=f"rate_revisit_choice_{study.study_id}",
                            format_func=lambda a: f"Response {finished[a].position} · {finished[a].opening}")
        st.button("Open", key=f"rate_revisit_open_{study.study_id}", on_click=open_task, args=(pick,))

if task is None:
    st.success("You have rated every response assigned to you in this study. Thank you!")
    st.stop()

aid = task.assignment_id
task_state.start_time(state, aid)
token = task_state.submit_token(state, aid)
existing = task.existing

st.subheader(f"Response {task.position:d} of {task.total:d}")
st.caption(plain_label(f"{task.domain1} › {task.domain2} · query {task.query_index}"))
if existing is not None and existing.score is not None:
    st.info(f"You rated this response **{plain_label(existing.score)}** before (revision {existing.revision:d}). "
            "Submitting again records a new revision.", icon=":material/history:")

show_text_view(query=task.instruction, materials=task.materials, responses=(("Response", task.left_text),))

error_types = list(task.error_types)
with st.form(f"rate_{aid}", border=True):
    scores = list(SCORE_LABELS)
    score = st.radio("How well does the response meet the query's requirements?", scores,
                     format_func=SCORE_LABELS.get, horizontal=True, key=f"rate_score_{aid}",
                     index=scores.index(existing.score) if existing and existing.score in scores else None)
    error_type = st.selectbox(
        f"Main error type (required for a score of {judgments.LOW_SCORE} or lower)", error_types,
        index=error_types.index(existing.error_type) if existing and existing.error_type in error_types else None,
        key=f"rate_error_{aid}", placeholder="Choose the main problem")
    rationale = st.text_area("Rationale (optional)", value=existing.rationale if existing else "",
                             key=f"rate_rationale_{aid}", height=80)
    submitted = st.form_submit_button("Submit rating", type="primary", key=f"rate_submit_{aid}")

if submitted:
    if score is None:
        st.error("Choose a score first.")
    elif score <= judgments.LOW_SCORE and not error_type:
        st.error(f"A score of {plain_label(score)} needs an error type.")
    else:
        try:
            with db_session() as session:
                result = judgments.submit_rating(
                    session=session, actor=user, assignment_id=aid, score=int(score),
                    error_type=error_type or "", rationale=rationale,
                    elapsed_s=task_state.elapsed_seconds(state, aid),
                    instruction_version_no=task.instruction_version_no,
                    content_revision=task.content_revision, submit_token=token,
                    study_id=study.study_id)
        except ServiceError as exc:
            st.error(f"Not saved: {plain_label(for_person(exc))}")
        else:
            task_state.finish(state, aid)
            open_task(None)
            what = "saved" if result.revision == 1 else f"revised (revision {result.revision})"
            state[FLASH_KEY] = f"Response {task.position}: score {score} {what}."
            st.rerun()

if task.status != "done" and st.button("Skip for now", key=f"rate_skip_{aid}", icon=":material/skip_next:"):
    try:
        with db_session() as session:
            tasks.skip_task(session=session, actor=user, assignment_id=aid, study_id=study.study_id)
    except ServiceError as exc:
        st.error(plain_label(for_person(exc)))
    else:
        task_state.finish(state, aid)
        open_task(None)
        st.rerun()
