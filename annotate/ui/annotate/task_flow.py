"""What the annotator's task pages do between drawing: which task to show, skip, submit.

One flow for both study kinds: "Judge pairs" (pairwise studies) and "Rate responses"
(pointwise studies) each take a :class:`TaskFlow`, :data:`PAIRS` or :data:`RATINGS`. What
differs between the kinds is a :class:`KindRules` (which studies, the words, what must be
answered before anything is stored, what is stored, the line after a save); the drawing of
the item and of the answer widget is in :mod:`annotate.ui.annotate.pair_task` and
:mod:`annotate.ui.annotate.rating_task`.

State (``st.session_state``, every key prefixed by the kind's ``prefix``):

* ``OPEN_KEY`` - ``(study id, assignment id)`` chosen to open (``None``: the next in the
  queue). The study id travels with the task id, so a task can only ever be opened in the
  study it belongs to (the services refuse any other); a link (``?assignment=ID``) names no
  study and is resolved to the task's own (:meth:`TaskFlow.resolve_link`).
* ``VIEW_KEY`` - the loaded studies, task and task list, kept until the next action, so
  reruns (typing, ticking a flag) do not read the database again.
* ``FLASH_KEY`` - the line telling the annotator what the last action stored; kept
  until the next action (:meth:`TaskFlow.navigate`, or a submit or skip that stores its
  own), so a rerun started by a second key press cannot lose it.

Every function takes the acting user; nothing here draws anything but messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlmodel import Session

from annotate.services.annotate import came_back, judgments, tasks
from annotate.services.annotate.judgments import SubmitResult
from annotate.services.annotate.tasks import StudySummary, TaskRow, TaskView
from annotate.services.core.errors import ServiceError, for_person
from annotate.services.core.names import shown_name
from annotate.services.core.statuses import StudyKind
from annotate.services.refine import materials, versions
from annotate.ui.annotate import task_state
from annotate.ui.annotate.pair_task import JudgmentInput
from annotate.ui.annotate.rating_task import RatingInput
from annotate.ui.session import db_session
from annotate.ui.url_params import url_int

URL_STUDY = "study"
"""The address names the open study (``?study=ID``): a reload stays in it."""


@dataclass(frozen=True)
class Showing:
    """What a submit stores besides the answer: the task, its study, the time on it and the
    submit token of this showing."""

    task: TaskView
    study_id: int
    elapsed_s: float
    token: str


def _pair_problem(answer: JudgmentInput) -> str | None:
    if answer.missing_criteria:
        return "Choose A, B or Equivalent for every criterion first: " + ", ".join(answer.missing_criteria)
    return None


def _store_pair(session: Session, user: Any, showing: Showing, answer: JudgmentInput) -> SubmitResult:
    task = showing.task
    return judgments.submit_judgment(
        session=session, actor=user, assignment_id=task.assignment_id, choice=answer.choice,
        per_criterion=answer.criteria_choices() or None, rationale=answer.rationale, flags=answer.flags,
        elapsed_s=showing.elapsed_s, instruction_version_no=task.instruction_version_no,
        content_revision=task.content_revision, submit_token=showing.token, study_id=showing.study_id)


def _pair_saved(task: TaskView, answer: JudgmentInput, what: str) -> str:
    return f"Pair {task.position}: {task_state.CHOICE_LABELS[answer.choice]} {what}."


def _rating_problem(answer: RatingInput) -> str | None:
    if answer.score is None:
        return "Choose a score first."
    if answer.score <= judgments.LOW_SCORE and not answer.error_type:
        return f"A score of {answer.score} needs an error type."
    return None


def _store_rating(session: Session, user: Any, showing: Showing, answer: RatingInput) -> SubmitResult:
    task = showing.task
    return judgments.submit_rating(
        session=session, actor=user, assignment_id=task.assignment_id, score=int(answer.score or 0),
        error_type=answer.error_type, rationale=answer.rationale, elapsed_s=showing.elapsed_s,
        instruction_version_no=task.instruction_version_no, content_revision=task.content_revision,
        submit_token=showing.token, study_id=showing.study_id)


def _rating_saved(task: TaskView, answer: RatingInput, what: str) -> str:
    return f"Response {task.position}: score {answer.score} {what}."


@dataclass(frozen=True)
class KindRules:
    """What one study kind changes in the flow.

    ``noun`` names one task ("pair", "response"); ``dwell_guard`` refuses an answer that
    comes too soon after the task appeared (the pair's choice buttons save at once, so a
    double click's second click would judge the next pair; a rating needs a score chosen,
    then a submit); ``problem`` says what must be answered first (``None``: nothing);
    ``store`` saves the answer; ``saved`` is the line shown after a save.
    """

    kind: StudyKind
    prefix: str
    noun: str
    dwell_guard: bool
    problem: Callable[[Any], str | None]
    store: Callable[[Session, Any, Showing, Any], SubmitResult]
    saved: Callable[[TaskView, Any, str], str]


PAIR_RULES = KindRules(StudyKind.PAIRWISE, "pairs", "pair", True, _pair_problem, _store_pair, _pair_saved)
RATING_RULES = KindRules(StudyKind.POINTWISE, "rate", "response", False, _rating_problem, _store_rating,
                         _rating_saved)


@dataclass(frozen=True)
class FlowView:
    """One loading of the page: the annotator's studies of the kind, what was asked for
    (``wanted``: study id and the open request), the task (``None``: nothing left) and the
    study's task list."""

    studies: list[StudySummary]
    wanted: tuple[int, Any] | None = None
    task: TaskView | None = None
    rows: tuple[TaskRow, ...] = ()


class TaskFlow:
    """The flow of one study kind's page (its state keys carry ``rules.prefix``)."""

    def __init__(self, rules: KindRules) -> None:
        self.rules = rules
        self.OPEN_KEY = f"{rules.prefix}_open"
        self.VIEW_KEY = f"{rules.prefix}_view"
        self.FLASH_KEY = f"{rules.prefix}_flash"
        self.STUDY_KEY = f"{rules.prefix}_study"
        self.STUDY_COPY = f"{rules.prefix}_study_chosen"
        """The open study, kept apart from the picker's own state (Streamlit drops a widget's
        state on a page that does not draw it: Guidelines and back would reset the picker)."""

    def reload(self, open_task: tuple[int | None, int] | None = None) -> None:
        """Forget the loaded task; show ``open_task`` = (study id, assignment id) next
        (``None``: the next in the queue)."""
        state = st.session_state
        state.pop(self.VIEW_KEY, None)
        state.pop(self.OPEN_KEY, None)
        if open_task is not None:
            state[self.OPEN_KEY] = open_task

    def navigate(self, open_task: tuple[int | None, int] | None = None) -> None:
        """Go to another task or study (a new action): the last confirmation is dropped, then
        :meth:`reload`. A submit or skip replaces it with its own instead; otherwise it stays
        shown until the next action, whatever reruns come between."""
        st.session_state.pop(self.FLASH_KEY, None)
        self.reload(open_task)

    def take_link(self) -> None:
        """``?assignment=ID`` opens one of the annotator's own tasks (the link names no study)."""
        if "assignment" in st.query_params:
            raw = st.query_params["assignment"]
            del st.query_params["assignment"]
            wanted = url_int(raw)
            self.reload((None, -1 if wanted is None else wanted))

    def studies_view(self, user: Any) -> FlowView:
        """The loaded view, or a fresh one listing the user's studies of this kind."""
        view = st.session_state.get(self.VIEW_KEY)
        if view is None:
            with db_session() as session:
                view = FlowView([s for s in tasks.my_studies(session=session, actor=user)
                                 if s.kind == self.rules.kind])
        return view

    def restore_study(self, study_ids: set[int]) -> None:
        """Set the study picker, before it is drawn, to the study the address names, else to
        the one this session had open (``None`` of them one of ``study_ids``: the default)."""
        state = st.session_state
        if self.STUDY_KEY in state and state[self.STUDY_KEY] in study_ids:
            return
        raw = st.query_params.get(URL_STUDY, "")
        for wanted in (int(raw) if raw.isdigit() else None, state.get(self.STUDY_COPY)):
            if wanted in study_ids:
                state[self.STUDY_KEY] = wanted
                return

    def remember_study(self, study_id: int) -> None:
        """Keep the open study in the session and in the address."""
        st.session_state[self.STUDY_COPY] = study_id
        if st.query_params.get(URL_STUDY) != str(study_id):
            st.query_params[URL_STUDY] = str(study_id)

    def resolve_link(self, user: Any, study_ids: set[int]) -> tuple[int | None, int] | None:
        """The open request; one from a link gets the task's own study (and the picker is set
        to it before the picker exists in this run)."""
        state = st.session_state
        opened = state.get(self.OPEN_KEY)
        if opened is not None and opened[0] is None:
            try:
                with db_session() as session:
                    owner: int | None = tasks.get_task(session=session, actor=user,
                                                       assignment_id=opened[1]).study_id
            except ServiceError:
                owner = None  # the open in load() reports why
            if owner in study_ids:
                opened = state[self.OPEN_KEY] = (owner, opened[1])
                state[self.STUDY_KEY] = owner
        return opened

    def load(self, user: Any, view: FlowView, study_id: int, opened: tuple[int | None, int] | None) -> FlowView:
        """The view for ``study_id`` and the open request, read from the database only when
        they changed. Raises :class:`ServiceError` (and forgets the request) if the task
        cannot be opened in this study."""
        if opened is not None and opened[0] is not None and opened[0] != study_id:
            opened = None  # a task of another study (the picker has changed since): this study's next
            st.session_state.pop(self.OPEN_KEY, None)
        wanted = (study_id, opened)
        if view.wanted == wanted:
            return view
        try:
            with db_session() as session:
                task = (tasks.get_task(session=session, actor=user, assignment_id=opened[1], study_id=study_id)
                        if opened is not None else tasks.next_task(session=session, actor=user, study_id=study_id))
                rows = tasks.my_task_list(session=session, actor=user, study_id=study_id)
        except ServiceError:
            st.session_state.pop(self.OPEN_KEY, None)
            raise
        view = FlowView(view.studies, wanted, task, tuple(rows))
        st.session_state[self.VIEW_KEY] = view
        return view

    def load_or_next(self, user: Any, view: FlowView, study_id: int, study_name: str,
                     opened: tuple[int | None, int] | None) -> tuple[FlowView, str | None]:
        """:meth:`load`, and no dead end: when the task asked for cannot be opened here, the
        study's next task with the sentence that says so (``None`` when it opened)."""
        try:
            return self.load(user, view, study_id, opened), None
        except ServiceError as exc:
            noun, reason = self.rules.noun, for_person(exc).rstrip()
            end = "" if reason.endswith((".", "!", "?")) else "."
            notice = (f"That {noun} could not be opened: {reason}{end} Here is your next {noun} in study "
                      f"{shown_name(study_name)} instead.")
            return self.load(user, view, study_id, None), notice

    def skip(self, user: Any, task: TaskView, study_id: int) -> str | None:
        """Skip ``task``; ``None`` when done (the page reruns), else the reason it was not."""
        try:
            with db_session() as session:
                tasks.skip_task(session=session, actor=user, assignment_id=task.assignment_id, study_id=study_id)
        except ServiceError as exc:
            return for_person(exc)
        task_state.finish(st.session_state, task.assignment_id)
        self.reload()
        noun = self.rules.noun
        st.session_state[self.FLASH_KEY] = (f"{noun.capitalize()} {task.position} skipped; it comes back after "
                                            f"the others (and is listed under Skipped {noun}s).")
        return None

    def submit(self, user: Any, task: TaskView, study_id: int, answer: Any) -> tuple[str, str] | None:
        """Store ``answer``; ``None`` when stored (the page reruns), else ``(kind, message)``
        with kind ``warning`` or ``error``: a click too soon after the task appeared, an
        answer not complete, or the service's refusal in plain words (nothing stored)."""
        state, aid, rules = st.session_state, task.assignment_id, self.rules
        if rules.dwell_guard and task_state.too_soon(state, aid):  # a double click's second click
            return "warning", (f"Not saved: {rules.noun} {task.position} appeared a moment ago, so that click or "
                               f"key press was probably meant for the previous {rules.noun}. Read this {rules.noun}, "
                               "then choose.")
        problem = rules.problem(answer)
        if problem is not None:
            return "error", problem
        showing = Showing(task, study_id, task_state.elapsed_seconds(state, aid), task_state.submit_token(state, aid))
        try:
            with db_session() as session:
                result = rules.store(session, user, showing, answer)
        except ServiceError as exc:
            state.pop(self.VIEW_KEY, None)  # re-read the task: it may have changed meanwhile
            return "error", f"Not saved: {for_person(exc)}"
        # The notice is stored first: a second click can interrupt this run at any line, and the
        # rerun it starts must still tell the annotator that the task was saved.
        what = "saved" if result.revision == 1 else f"revised (revision {result.revision})"
        state[self.FLASH_KEY] = rules.saved(task, answer, what)
        task_state.finish(state, aid)
        self.reload()
        return None


PAIRS = TaskFlow(PAIR_RULES)
"""The flow of "Judge pairs"."""
RATINGS = TaskFlow(RATING_RULES)
"""The flow of "Rate responses"."""


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
