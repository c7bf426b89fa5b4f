"""Judge pairs (annotator): the next assigned pair side by side, and the choice bar.

The texts scroll in their panes; the choice bar (choices, skip, per-criterion rows, flags,
rationale, previous/next, time on the pair, keys) stays at the bottom of the window, and
every message about a choice shows at its top. What to load, skip and submit is in
:mod:`annotate.ui.annotate.task_flow` (its :data:`PAIRS` flow); drawing in :mod:`annotate.ui.annotate.pair_task` and
:mod:`annotate.ui.annotate.pair_lists`. A submit carries the token of this showing
(:mod:`annotate.ui.annotate.task_state`): a double click stores once. ``?assignment=ID`` opens one of
the annotator's own tasks; anyone else's is refused.
"""

from __future__ import annotations

import functools

import streamlit as st

from annotate.services.core.names import shown_name, shown_names
from annotate.services.core.statuses import TaskStatus
from annotate.ui.annotate import task_flow, task_state
from annotate.ui.annotate.active_clock import show_active_clock
from annotate.ui.annotate.pair_lists import task_lists
from annotate.ui.annotate.pair_task import BarContext, choice_bar, show_task
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.refine.refine_widgets import side_by_side_diff
from annotate.ui.session import require_page

TITLE = "Judge pairs"
flow = task_flow.PAIRS

user = require_page(__file__)
state = st.session_state
title_pending = [TITLE]  # the title heads the task's first markdown unless something comes first


def show_title() -> None:
    """The page title as an element of its own, before a notice, a picker or a message."""
    if title_pending:
        st.title(title_pending.pop())


flash = state.get(flow.FLASH_KEY)  # shown until the next action (flow.navigate)
flow.take_link()
view = flow.studies_view(user)
if not view.studies:
    show_title()
    st.info("No pairwise tasks are assigned to you yet. A researcher assigns them when a study is created.")
    st.stop()
# Select by id and label by name only: a label that changes (a count of finished tasks) makes Streamlit
# reset the picker to the first study; the counts are in the progress bar instead.
by_id = {s.study_id: s for s in view.studies}
shown = shown_names({i: s.name for i, s in by_id.items()})  # escaped, capped, look-alikes with their id
flow.restore_study(set(by_id))
opened = flow.resolve_link(user, set(by_id))
if len(view.studies) > 1:
    show_title()
study = view.studies[0] if len(view.studies) == 1 else by_id[st.selectbox(
    "Study", list(by_id), format_func=lambda i: shown[i], key=flow.STUDY_KEY, on_change=flow.navigate)]
flow.remember_study(study.study_id)
view, not_opened = flow.load_or_next(user, view, study.study_id, study.name, opened)
if not_opened:  # no dead end: the pair asked for cannot be opened here, so the study's next one is shown
    show_title()
    st.warning(plain_label(not_opened), icon=":material/info:")
task, rows = view.task, view.rows
done = sum(1 for row in rows if row.status == TaskStatus.DONE)


def open_pair(assignment_id: int) -> None:
    """Open one of this study's pairs (from a list or previous/next)."""
    flow.navigate((study.study_id, assignment_id))


task_lists(rows, study_id=study.study_id, open_pair=open_pair, current=task.assignment_id if task else None)
if task is None:
    show_title()
    if flash:
        st.success(plain_label(flash), icon=":material/check_circle:")
    st.progress(1.0 if rows else 0.0, text=f"{done} of {len(rows)} pairs judged in study {plain_label(shown_name(study.name))}")
    skipped = sum(1 for row in rows if row.status == TaskStatus.SKIPPED)
    st.success("You have judged every pair assigned to you in this study. Thank you!" if not skipped else
               f"Only your {skipped} skipped pairs are left: open them from Skipped pairs in the sidebar.")
    st.stop()

aid = task.assignment_id
task_state.start_time(state, aid)
task_state.submit_token(state, aid)  # one per showing: a double click re-sends it
show_active_clock(task)
if state.get(flow.OPEN_KEY) is not None:
    show_title()
    st.button("Back to my next pair", key="pairs_back", on_click=flow.navigate, icon=":material/arrow_forward:")
show_task(task, title=title_pending.pop() if title_pending else None)
if ((task.existing.stale if task.existing is not None else bool(task.came_back))
        and (change := task_flow.query_change(user, task)) is not None):
    with st.expander("What changed in the query since you judged it"):
        side_by_side_diff(change[1], task.instruction, f"version {change[0]} (you judged)",
                          f"version {task.instruction_version_no} (now)")
before, after = task_flow.neighbours(rows, aid)
context = BarContext(done=done, total=len(rows), study_name=shown_name(study.name),
                     elapsed=task_state.shown_elapsed(state, aid), showing=task_state.start_time(state, aid),
                     person=int(user.id or 0),
                     previous=None if before is None else functools.partial(open_pair, before),
                     following=None if after is None else functools.partial(open_pair, after))
slot, submitted = choice_bar(task, context, allow_skip=task.status != TaskStatus.DONE)
if flash:
    slot.success(plain_label(flash), icon=":material/check_circle:")

if submitted is not None and submitted.navigate:
    (context.previous if submitted.navigate == "previous" else context.following)()  # type: ignore[misc]
    st.rerun()
elif submitted is not None and submitted.skipped:
    problem = flow.skip(user, task, study.study_id)
    if problem is None:
        st.rerun()
    slot.error(plain_label(problem))
elif submitted is not None:
    refusal = flow.submit(user, task, study.study_id, submitted)
    if refusal is None:
        st.rerun()
    kind, message = refusal
    (slot.warning if kind == "warning" else slot.error)(
        plain_label(message), icon=":material/timer:" if kind == "warning" else ":material/error:")
