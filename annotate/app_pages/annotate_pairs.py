"""Judge pairs (annotator): the next assigned pair side by side, and the judgment form.

Loads the task from :mod:`annotate.services.annotate.assignments` (kept in the session until the
annotator acts, so reruns do not re-read it), renders it with :mod:`annotate.ui.pair_task`
and submits through :func:`annotate.services.annotate.judgments.submit_judgment` with the submit
token of this showing (:mod:`annotate.ui.task_state`): a double click stores once.
``?assignment=ID`` opens one of the annotator's own tasks; anyone else's is refused.
"""

from __future__ import annotations

import streamlit as st

from annotate.services.annotate import assignments as tasks
from annotate.services.annotate import judgments
from annotate.services.core.errors import ServiceError
from annotate.ui import task_state
from annotate.ui.pair_task import judgment_form, show_task
from annotate.ui.session import db_session, require_page_role

OPEN_KEY = "pairs_open"  # (study id, assignment id) chosen to revisit (None: next in the queue)
VIEW_KEY = "pairs_view"  # (studies, (study id, open id), task, my tasks) until the next action
FLASH_KEY = "pairs_flash"

TITLE = "Judge pairs"

user = require_page_role("annotator")
state = st.session_state
title_pending = [TITLE]  # the title heads the task's first markdown unless something comes first


def show_title() -> None:
    """The page title as an element of its own, before a notice, a picker or a message."""
    if title_pending:
        st.title(title_pending.pop())


if flash := state.pop(FLASH_KEY, None):
    show_title()
    st.success(flash, icon=":material/check_circle:")


def reload(open_task: tuple[int | None, int] | None = None, *, keep_open: bool = False) -> None:
    """Forget the loaded task; show ``open_task`` = (study id, assignment id) next (``None``:
    the next in the queue). The study id travels with the task id, so a task can only ever
    be opened in the study it belongs to (the service refuses any other)."""
    state.pop(VIEW_KEY, None)
    if not keep_open:
        state.pop(OPEN_KEY, None)
        if open_task is not None:
            state[OPEN_KEY] = open_task


if "assignment" in st.query_params:
    raw = st.query_params["assignment"]
    del st.query_params["assignment"]
    reload((None, int(raw) if raw.isdigit() else -1))  # a link names no study: the task's own is used

view = state.get(VIEW_KEY)
if view is None:
    with db_session() as session:
        studies = [s for s in tasks.my_studies(session=session, actor=user) if s.kind == "pairwise"]
    view = (studies, None, None, [])
studies = view[0]
if not studies:
    show_title()
    st.info("No pairwise tasks are assigned to you yet. A researcher assigns them when a study is created.")
    st.stop()
# Select by id and label by name only: a label that changes (a "done" count) makes Streamlit
# reset the picker to the first study; the counts are in the progress line instead.
by_id = {s.study_id: s for s in studies}
opened = state.get(OPEN_KEY)
if opened is not None and opened[0] is None:  # from a link: open the task in its own study
    try:
        with db_session() as session:
            owner: int | None = tasks.get_task(session=session, actor=user, assignment_id=opened[1]).study_id
    except ServiceError:
        owner = None  # the open below reports why
    if owner in by_id:
        opened = state[OPEN_KEY] = (owner, opened[1])
        state["pairs_study"] = owner  # before the picker exists in this run
if len(studies) > 1:
    show_title()
study = studies[0] if len(studies) == 1 else by_id[st.selectbox(
    "Study", list(by_id), format_func=lambda i: by_id[i].name,
    key="pairs_study", on_change=reload, kwargs={"keep_open": False})]
wanted = (study.study_id, opened)
if view[1] != wanted:
    try:
        with db_session() as session:
            task = (tasks.get_task(session=session, actor=user, assignment_id=opened[1], study_id=study.study_id)
                    if opened is not None
                    else tasks.next_task(session=session, actor=user, study_id=study.study_id))
            queue = tasks.my_tasks(session=session, actor=user, study_id=study.study_id)
    except ServiceError as exc:
        state.pop(OPEN_KEY, None)
        show_title()
        st.error(f"This task cannot be opened: {exc}")
        st.stop()
    view = (studies, wanted, task, queue)
    state[VIEW_KEY] = view
_, _, task, queue = view

done = sum(1 for _, _, status in queue if status == "done")
progress = f"{done} of {len(queue)} pairs judged in study {study.name}"


def revisit_list() -> None:
    """The annotator's judged pairs, to open one again and revise it."""
    finished = [(aid, pos) for aid, pos, status in queue if status == "done"]
    if finished:
        with st.expander(f"My judgments ({len(finished)}): open one to revise it"):
            # Keys name the study: a widget keeps its value when its options change, and a
            # value left from another study must never pick the task to open.
            pick = st.selectbox("Judged pair", finished, format_func=lambda t: f"Pair {t[1]}",
                                key=f"pairs_revisit_choice_{study.study_id}")
            st.button("Open this pair", key=f"pairs_revisit_open_{study.study_id}", on_click=reload,
                      args=((study.study_id, pick[0]),))


if task is None:
    show_title()
    st.progress(1.0, text=progress)
    st.success("You have judged every pair assigned to you in this study. Thank you!")
    revisit_list()
    st.stop()

aid = task.assignment_id
task_state.start_time(state, aid)
token = task_state.submit_token(state, aid)  # one per showing: a double click re-sends it
if state.get(OPEN_KEY) is not None:
    show_title()
    st.button("Back to my next pair", key="pairs_back", on_click=reload, icon=":material/arrow_forward:")
# The progress line (and the title, if still pending) are part of the task's heading.
show_task(task, progress=progress, title=title_pending.pop() if title_pending else None)
submitted = judgment_form(task, allow_skip=task.status != "done")

if submitted is not None and submitted.skipped:
    try:
        with db_session() as session:
            tasks.skip_task(session=session, actor=user, assignment_id=aid, study_id=study.study_id)
    except ServiceError as exc:
        st.error(str(exc))
    else:
        task_state.finish(state, aid)
        reload()
        state[FLASH_KEY] = f"Pair {task.position} skipped; it comes back after the others."
        st.rerun()
elif submitted is not None:
    if task_state.too_soon(state, aid):  # a double click's second click, meant for the pair before
        st.warning(f"Not saved: pair {task.position} appeared a moment ago, so that click or key press was "
                   "probably meant for the previous pair. Read this pair, then choose.", icon=":material/timer:")
    elif submitted.missing_criteria:
        st.error("Choose A, B or Equivalent for every criterion first: " + ", ".join(submitted.missing_criteria))
    else:
        try:
            with db_session() as session:
                result = judgments.submit_judgment(
                    session=session, actor=user, assignment_id=aid, choice=submitted.choice,
                    both_poor=submitted.both_poor, per_criterion=submitted.per_criterion or None,
                    rationale=submitted.rationale, flags=submitted.flags,
                    elapsed_s=task_state.elapsed_seconds(state, aid),
                    instruction_version_no=task.instruction_version_no,
                    content_revision=task.content_revision, submit_token=token,
                    study_id=study.study_id)
        except ServiceError as exc:
            state.pop(VIEW_KEY, None)  # re-read the task: it may have changed meanwhile
            st.error(f"Not saved: {exc}")
        else:
            # The notice is stored first: a second click can interrupt this run at any line,
            # and the rerun it starts must still tell the annotator that the pair was saved.
            what = "saved" if result.revision == 1 else f"revised (revision {result.revision})"
            state[FLASH_KEY] = f"Pair {task.position}: {task_state.CHOICE_LABELS[submitted.choice]} {what}."
            task_state.finish(state, aid)
            reload()
            st.rerun()

revisit_list()
