"""Rate responses (annotator, pointwise studies): one response, a score 1-5, an error type.

The same task flow as "Judge pairs" (:data:`annotate.ui.annotate.task_flow.RATINGS`): what to
load, skip and submit; the response and the form are drawn by
:mod:`annotate.ui.annotate.rating_task`. A score at or below
:data:`annotate.services.annotate.judgments.LOW_SCORE` needs an error type from the study's list.
A submit carries the token of this showing (:mod:`annotate.ui.annotate.task_state`): a double
click stores once. ``?assignment=ID`` opens one of the annotator's own tasks. Model names never
appear.
"""

from __future__ import annotations

import streamlit as st

from annotate.services.annotate.judgments import LOW_SCORE
from annotate.services.core.names import shown_name, shown_names
from annotate.services.core.statuses import TaskStatus
from annotate.ui.annotate import task_flow, task_state
from annotate.ui.annotate.active_clock import show_active_clock
from annotate.ui.annotate.pair_lists import task_lists
from annotate.ui.annotate.rating_task import rating_form, show_rating
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.session import require_page

TITLE = "Rate responses"
flow = task_flow.RATINGS

user = require_page(__file__)
state = st.session_state
st.title(TITLE)

flash = state.get(flow.FLASH_KEY)  # shown until the next action (flow.navigate)
if flash:
    st.success(plain_label(flash), icon=":material/check_circle:")
flow.take_link()
view = flow.studies_view(user)
if not view.studies:
    st.info("No rating tasks are assigned to you yet.")
    st.stop()
# Select by id and label by name only: a label that changes (a count of finished tasks) makes
# Streamlit reset the picker to the first study; the counts are in the progress line instead.
by_id = {s.study_id: s for s in view.studies}
shown = shown_names({i: s.name for i, s in by_id.items()})  # escaped, capped, look-alikes with their id
flow.restore_study(set(by_id))
opened = flow.resolve_link(user, set(by_id))
study = view.studies[0] if len(view.studies) == 1 else by_id[st.selectbox(
    "Study", list(by_id), format_func=lambda i: shown[i], key=flow.STUDY_KEY, on_change=flow.navigate)]
flow.remember_study(study.study_id)
view, not_opened = flow.load_or_next(user, view, study.study_id, study.name, opened)
if not_opened:  # no dead end: the study's next response instead
    st.warning(plain_label(not_opened), icon=":material/info:")
task, rows = view.task, view.rows
done = sum(1 for row in rows if row.status == TaskStatus.DONE)


def open_response(assignment_id: int) -> None:
    """Open one of this study's responses (from a list)."""
    flow.navigate((study.study_id, assignment_id))


task_lists(rows, study_id=study.study_id, open_pair=open_response, current=task.assignment_id if task else None,
           noun="response", prefix=flow.rules.prefix, answered=("My ratings", "Rated"))
st.progress(done / len(rows) if rows else 0.0,
            text=f"{done} of {len(rows)} responses rated in study {plain_label(shown_name(study.name))}")
if task is None:
    st.success("You have rated every response assigned to you in this study. Thank you!")
    st.stop()

aid = task.assignment_id
task_state.start_time(state, aid)
task_state.submit_token(state, aid)  # one per showing: a double click re-sends it
show_active_clock(task)
if state.get(flow.OPEN_KEY) is not None:
    st.button("Back to my next response", key="rate_back", on_click=flow.navigate, icon=":material/arrow_forward:")
show_rating(task)
slot, submitted = rating_form(task, low_score=LOW_SCORE, allow_skip=task.status != TaskStatus.DONE)

if submitted is not None and submitted.skipped:
    problem = flow.skip(user, task, study.study_id)
    if problem is None:
        st.rerun()
    slot.error(plain_label(problem))
elif submitted is not None:
    refusal = flow.submit(user, task, study.study_id, submitted)
    if refusal is None:
        st.rerun()
    kind, message = refusal
    (slot.warning if kind == "warning" else slot.error)(plain_label(message), icon=":material/error:")
