"""Judge pairs (annotator): the next assigned pair, side by side, and the judgment form.

Reads the task from :mod:`annotate.services.assignments`, submits through
:func:`annotate.services.judgments.submit_judgment`. The responses are labelled "Response A"
(left) and "Response B" (right) as stored in the assignment; model names never appear.
A double click or a resubmitted form re-sends the same submit token, so the judgment is
stored once. ``?assignment=ID`` opens one of the annotator's own tasks directly.
"""

from __future__ import annotations

import streamlit as st

from annotate.services import assignments as tasks
from annotate.services import judgments
from annotate.services.errors import ServiceError
from annotate.ui import task_state
from annotate.ui.panes import QUERY_HEIGHT, materials_section, scroll_pane, side_by_side
from annotate.ui.session import db_session, require_page_role
from annotate.ui.task_state import CHOICE_LABELS, CHOICES, FLAGS, SHORTCUTS

OPEN_KEY = "pairs_open"  # assignment id the annotator chose to revisit
FLASH_KEY = "pairs_flash"

user = require_page_role("annotator")
state = st.session_state
st.title("Judge pairs")

flash = state.pop(FLASH_KEY, None)
if flash:
    st.success(flash, icon=":material/check_circle:")

if "assignment" in st.query_params:
    try:
        state[OPEN_KEY] = int(st.query_params["assignment"])
    except ValueError:
        st.error("The link names no valid task.")
    del st.query_params["assignment"]

with db_session() as session:
    studies = [s for s in tasks.my_studies(session=session, actor=user) if s.kind == "pairwise"]
if not studies:
    st.info("No pairwise tasks are assigned to you yet. A researcher assigns them when a study is created.")
    st.stop()

if len(studies) > 1:
    study = st.selectbox("Study", studies, format_func=lambda s: f"{s.name} ({s.done} of {s.total} done)",
                         key="pairs_study")
else:
    study = studies[0]

open_id = state.get(OPEN_KEY)
try:
    with db_session() as session:
        if open_id is not None:
            task = tasks.get_task(session=session, actor=user, assignment_id=int(open_id))
        else:
            task = tasks.next_task(session=session, actor=user, study_id=study.study_id)
        my_tasks = tasks.my_tasks(session=session, actor=user, study_id=study.study_id)
except ServiceError as exc:
    state.pop(OPEN_KEY, None)
    st.error(f"This task cannot be opened: {exc}")
    st.stop()


def open_task(assignment_id: int | None) -> None:
    """Show ``assignment_id`` next (``None``: the next task in the queue)."""
    if assignment_id is None:
        state.pop(OPEN_KEY, None)
    else:
        state[OPEN_KEY] = assignment_id


def revisit_list() -> None:
    """The annotator's finished tasks, to open one again and revise it."""
    finished = [(aid, pos) for aid, pos, status in my_tasks if status == "done"]
    if not finished:
        return
    with st.expander(f"My judgments ({len(finished)}): open one to revise it"):
        choice = st.selectbox("Judged pair", finished, format_func=lambda t: f"Pair {t[1]}",
                              key="pairs_revisit_choice")
        st.button("Open this pair", key="pairs_revisit_open", on_click=open_task, args=(choice[0],))


done, total = sum(1 for _, _, status in my_tasks if status == "done"), len(my_tasks)
st.progress(done / total if total else 0.0, text=f"{done} of {total} pairs judged in study {study.name}")

if task is None:
    st.success("You have judged every pair assigned to you in this study. Thank you!")
    revisit_list()
    st.stop()

aid = task.assignment_id
task_state.start_time(state, aid)
token = task_state.submit_token(state, aid)

heading = f"Pair {task.position} of {task.total}"
if task.is_qualification:
    heading += " · qualification round"
st.subheader(heading)
st.caption(f"{task.domain1} › {task.domain2} · query {task.query_index}")
if task.existing is not None:
    label = CHOICE_LABELS.get(task.existing.choice or "", "-")
    note = f"You judged this pair before: **{label}**" + (" (both poor)" if task.existing.both_poor else "")
    st.info(note + f", revision {task.existing.revision}. Submitting again records a new revision.",
            icon=":material/history:")
    if task.existing.stale:
        st.warning("The query or its materials changed after your judgment; please judge it again.")
if open_id is not None:
    st.button("Back to my next pair", key="pairs_back", on_click=open_task, args=(None,),
              icon=":material/arrow_forward:")

st.markdown("#### Query")
scroll_pane(task.instruction, height=QUERY_HEIGHT, key="pairs_query")
materials_section(task.materials)

side_by_side("Response A", task.left_text, "Response B", task.right_text, key="pairs_resp")

existing = task.existing
with st.form(f"judge_{aid}", border=True):
    st.markdown("#### Your judgment")
    st.caption("Judge against the query's requirements and the use of its materials "
               "(see Guidelines). Keys 1, 2, 3 choose A, B, Equivalent when no text field is focused.")
    criterion_choices: dict[str, str | None] = {}
    if task.per_criterion and task.criteria:
        st.markdown("**Per criterion**")
        options = list(CHOICES.values())
        for i, (name, description) in enumerate(task.criteria):
            previous = (existing.per_criterion or {}).get(name) if existing else None
            criterion_choices[name] = st.radio(
                name, options, format_func=CHOICE_LABELS.get, horizontal=True,
                index=options.index(previous) if previous in options else None,
                help=description or None, key=f"pairs_crit_{aid}_{i}")
    flag_cols = st.columns(4)
    both_poor = flag_cols[0].checkbox("Both are poor", value=bool(existing and existing.both_poor),
                                      key=f"pairs_poor_{aid}",
                                      help="Mark this with Equivalent when neither response is acceptable.")
    chosen_flags = [
        value for col, (value, label) in zip(flag_cols[1:], FLAGS.items(), strict=True)
        if col.checkbox(label, value=bool(existing and value in existing.flags), key=f"pairs_flag_{value}_{aid}")
    ]
    rationale = st.text_area("Rationale (optional)", value=existing.rationale if existing else "",
                             key=f"pairs_rationale_{aid}", height=80)
    pressed: str | None = None
    for col, (label, value) in zip(st.columns(3), CHOICES.items(), strict=True):
        current = existing is not None and existing.choice == value
        if col.form_submit_button(label, key=f"pairs_choice_{value}_{aid}", shortcut=SHORTCUTS[value],
                                  type="primary" if current else "secondary", width="stretch"):
            pressed = value

if pressed is not None:
    missing = [name for name, value in criterion_choices.items() if value is None]
    if missing:
        st.error("Choose A, B or Equivalent for every criterion first: " + ", ".join(missing))
    else:
        try:
            with db_session() as session:
                result = judgments.submit_judgment(
                    session=session, actor=user, assignment_id=aid, choice=pressed, both_poor=both_poor,
                    per_criterion=criterion_choices or None, rationale=rationale, flags=chosen_flags,
                    elapsed_s=task_state.elapsed_seconds(state, aid),
                    instruction_version_no=task.instruction_version_no,
                    content_revision=task.content_revision, submit_token=token)
        except ServiceError as exc:
            st.error(f"Not saved: {exc}")
        else:
            task_state.finish(state, aid)
            open_task(None)
            what = "saved" if result.revision == 1 else f"revised (revision {result.revision})"
            state[FLASH_KEY] = f"Pair {task.position}: {CHOICE_LABELS[pressed]} {what}."
            st.rerun()

skip_col, _ = st.columns([1, 3])
if task.status != "done" and skip_col.button("Skip for now", key=f"pairs_skip_{aid}",
                                             icon=":material/skip_next:",
                                             help="Come back to this pair after the others."):
    try:
        with db_session() as session:
            tasks.skip_task(session=session, actor=user, assignment_id=aid)
    except ServiceError as exc:
        st.error(str(exc))
    else:
        task_state.finish(state, aid)
        open_task(None)
        state[FLASH_KEY] = f"Pair {task.position} skipped; it comes back after the others."
        st.rerun()

revisit_list()
