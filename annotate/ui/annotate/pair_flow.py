"""What the "Judge pairs" page does between drawing: which task to show, skip, submit.

State (``st.session_state``):

* :data:`OPEN_KEY` - ``(study id, assignment id)`` chosen to open (``None``: the next in the
  queue). The study id travels with the task id, so a task can only ever be opened in the
  study it belongs to (the services refuse any other); a link (``?assignment=ID``) names no
  study and is resolved to the task's own (:func:`resolve_link`).
* :data:`VIEW_KEY` - the loaded studies, task and task list, kept until the next action, so
  reruns (typing, ticking a flag) do not read the database again.
* :data:`FLASH_KEY` - the line telling the annotator what the last action stored; kept
  until the next action (:func:`navigate`, or a submit or skip that stores its own), so a
  rerun started by a second key press cannot lose it.

Every function takes the acting user; nothing here draws anything but messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from annotate.services.annotate import came_back, judgments, tasks
from annotate.services.annotate.tasks import StudySummary, TaskRow, TaskView
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.refine import materials, versions
from annotate.ui.annotate import task_state
from annotate.ui.annotate.pair_task import JudgmentInput
from annotate.ui.session import db_session
from annotate.ui.url_params import url_int

OPEN_KEY = "pairs_open"
VIEW_KEY = "pairs_view"
FLASH_KEY = "pairs_flash"
STUDY_KEY = "pairs_study"
STUDY_COPY = "pairs_study_chosen"
"""The open study, kept apart from the picker's own state (Streamlit drops a widget's state
on a page that does not draw it: Guidelines and back used to reset the picker)."""
URL_STUDY = "study"
"""The address names the open study (``?study=ID``): a reload stays in it."""


@dataclass(frozen=True)
class PairView:
    """One loading of the page: the annotator's pairwise studies, what was asked for
    (``wanted``: study id and the open request), the task (``None``: nothing left) and the
    study's task list."""

    studies: list[StudySummary]
    wanted: tuple[int, Any] | None = None
    task: TaskView | None = None
    rows: tuple[TaskRow, ...] = ()


def reload(open_task: tuple[int | None, int] | None = None) -> None:
    """Forget the loaded task; show ``open_task`` = (study id, assignment id) next
    (``None``: the next in the queue)."""
    state = st.session_state
    state.pop(VIEW_KEY, None)
    state.pop(OPEN_KEY, None)
    if open_task is not None:
        state[OPEN_KEY] = open_task


def navigate(open_task: tuple[int | None, int] | None = None) -> None:
    """Go to another pair or study (a new action): the last confirmation is dropped, then
    :func:`reload`. A submit or skip replaces it with its own instead; otherwise it stays
    shown until the next action, whatever reruns come between."""
    st.session_state.pop(FLASH_KEY, None)
    reload(open_task)


def take_link() -> None:
    """``?assignment=ID`` opens one of the annotator's own tasks (the link names no study)."""
    if "assignment" in st.query_params:
        raw = st.query_params["assignment"]
        del st.query_params["assignment"]
        wanted = url_int(raw)
        reload((None, -1 if wanted is None else wanted))


def studies_view(user: Any) -> PairView:
    """The loaded view, or a fresh one listing the user's pairwise studies."""
    view = st.session_state.get(VIEW_KEY)
    if view is None:
        with db_session() as session:
            view = PairView([s for s in tasks.my_studies(session=session, actor=user) if s.kind == "pairwise"])
    return view


def restore_study(study_ids: set[int]) -> None:
    """Set the study picker, before it is drawn, to the study the address names, else to the
    one this session had open (``None`` of them one of ``study_ids``: the picker's default)."""
    state = st.session_state
    if STUDY_KEY in state and state[STUDY_KEY] in study_ids:
        return
    raw = st.query_params.get(URL_STUDY, "")
    for wanted in (int(raw) if raw.isdigit() else None, state.get(STUDY_COPY)):
        if wanted in study_ids:
            state[STUDY_KEY] = wanted
            return


def remember_study(study_id: int) -> None:
    """Keep the open study in the session and in the address."""
    st.session_state[STUDY_COPY] = study_id
    if st.query_params.get(URL_STUDY) != str(study_id):
        st.query_params[URL_STUDY] = str(study_id)


def resolve_link(user: Any, study_ids: set[int]) -> tuple[int | None, int] | None:
    """The open request; one from a link gets the task's own study (and the picker is set
    to it before the picker exists in this run)."""
    state = st.session_state
    opened = state.get(OPEN_KEY)
    if opened is not None and opened[0] is None:
        try:
            with db_session() as session:
                owner: int | None = tasks.get_task(session=session, actor=user, assignment_id=opened[1]).study_id
        except ServiceError:
            owner = None  # the open in load() reports why
        if owner in study_ids:
            opened = state[OPEN_KEY] = (owner, opened[1])
            state[STUDY_KEY] = owner
    return opened


def load(user: Any, view: PairView, study_id: int, opened: tuple[int | None, int] | None) -> PairView:
    """The view for ``study_id`` and the open request, read from the database only when
    they changed. Raises :class:`ServiceError` (and forgets the request) if the task cannot
    be opened in this study."""
    if opened is not None and opened[0] is not None and opened[0] != study_id:
        opened = None  # a pair of another study (the picker has changed since): this study's next
        st.session_state.pop(OPEN_KEY, None)
    wanted = (study_id, opened)
    if view.wanted == wanted:
        return view
    try:
        with db_session() as session:
            task = (tasks.get_task(session=session, actor=user, assignment_id=opened[1], study_id=study_id)
                    if opened is not None else tasks.next_task(session=session, actor=user, study_id=study_id))
            rows = tasks.my_task_list(session=session, actor=user, study_id=study_id)
    except ServiceError:
        st.session_state.pop(OPEN_KEY, None)
        raise
    view = PairView(view.studies, wanted, task, tuple(rows))
    st.session_state[VIEW_KEY] = view
    return view


def skip(user: Any, task: TaskView, study_id: int) -> str | None:
    """Skip ``task``; ``None`` when done (the page reruns), else the reason it was not."""
    try:
        with db_session() as session:
            tasks.skip_task(session=session, actor=user, assignment_id=task.assignment_id, study_id=study_id)
    except ServiceError as exc:
        return for_person(exc)
    task_state.finish(st.session_state, task.assignment_id)
    reload()
    st.session_state[FLASH_KEY] = (f"Pair {task.position} skipped; it comes back after the others "
                                   "(and is listed under Skipped pairs).")
    return None


def submit(user: Any, task: TaskView, study_id: int, submitted: JudgmentInput) -> tuple[str, str] | None:
    """Store ``submitted``; ``None`` when stored (the page reruns), else ``(kind, message)``
    with kind ``warning`` or ``error``: a click too soon after the pair appeared, a missing
    criterion, or the service's refusal in plain words (nothing stored)."""
    state, aid = st.session_state, task.assignment_id
    if task_state.too_soon(state, aid):  # a double click's second click, meant for the pair before
        return "warning", (f"Not saved: pair {task.position} appeared a moment ago, so that click or key press "
                           "was probably meant for the previous pair. Read this pair, then choose.")
    if submitted.missing_criteria:
        return "error", "Choose A, B or Equivalent for every criterion first: " + ", ".join(submitted.missing_criteria)
    try:
        with db_session() as session:
            result = judgments.submit_judgment(
                session=session, actor=user, assignment_id=aid, choice=submitted.choice,
                per_criterion=submitted.criteria_choices() or None, rationale=submitted.rationale,
                flags=submitted.flags, elapsed_s=task_state.elapsed_seconds(state, aid),
                instruction_version_no=task.instruction_version_no, content_revision=task.content_revision,
                submit_token=task_state.submit_token(state, aid), study_id=study_id)
    except ServiceError as exc:
        state.pop(VIEW_KEY, None)  # re-read the task: it may have changed meanwhile
        return "error", f"Not saved: {for_person(exc)}"
    # The notice is stored first: a second click can interrupt this run at any line, and the
    # rerun it starts must still tell the annotator that the pair was saved.
    what = "saved" if result.revision == 1 else f"revised (revision {result.revision})"
    state[FLASH_KEY] = f"Pair {task.position}: {task_state.CHOICE_LABELS[submitted.choice]} {what}."
    task_state.finish(state, aid)
    reload()
    return None


def query_change(user: Any, task: TaskView) -> tuple[int, str] | None:
    """``(version number, text)`` of the query's instruction as the annotator's latest judgment
    of ``task`` (or of the task it replaced, when re-queued) saw it, when that is not the
    version shown now; else ``None``."""
    with db_session() as session:
        version_no = came_back.judged_instruction_version(session=session, actor=user,
                                                          assignment_id=task.assignment_id)
        if version_no is None or version_no == task.instruction_version_no:
            return None
        query = materials.query_by_index(session=session, index=task.query_index)
        texts = {v.version_no: v.text for v in versions.instruction_versions(session=session, query_id=int(query.id or 0))}
    return version_no, texts.get(version_no, "")


def neighbours(rows: tuple[TaskRow, ...], current: int) -> tuple[int | None, int | None]:
    """The assignment ids before and after ``current`` in the task list.

    Example:
        >>> rows = tuple(TaskRow(a, p, "pending", None, False, "") for p, a in enumerate((7, 8, 9), 1))
        >>> neighbours(rows, 8), neighbours(rows, 7), neighbours(rows, 9)
        ((7, 9), (None, 8), (8, None))
    """
    ids = [row.assignment_id for row in rows]
    if current not in ids:
        return None, None
    i = ids.index(current)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)
