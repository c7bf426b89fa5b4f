"""The annotator's lists beside a task page: skipped tasks and answered ones (pairs or responses).

Both sit in the sidebar, so they are reachable at any time, whatever the scroll. Each line
names the pair, the answer given (judged pairs) and the first words of its query, e.g.
``Pair 4 · A is better · Write a press release for…``. Opening one calls ``open_pair``
with the assignment id; every widget key names the study (a value left from another study
must never pick the task to open).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import streamlit as st

from annotate.services.annotate.tasks import TaskRow
from annotate.services.core.statuses import TaskStatus
from annotate.ui.annotate.task_state import choice_summary
from annotate.ui.kit.safe_markdown import plain_label


def row_label(row: TaskRow, noun: str = "pair") -> str:
    """The list line of one task (a pair's answer is named; a rating's row carries none).

    Example:
        >>> row_label(TaskRow(3, 2, "done", "tie", True, "Write a poem…"))
        'Pair 2 · Both are poor · Write a poem…'
        >>> row_label(TaskRow(4, 5, "skipped", None, False, "请写一篇"))
        'Pair 5 · 请写一篇'
        >>> row_label(TaskRow(6, 1, "done", None, False, "Draft"), "response")
        'Response 1 · Draft'
    """
    parts = [f"{noun.capitalize()} {row.position}"]
    if row.status == TaskStatus.DONE and (row.choice is not None or noun == "pair"):
        parts.append(choice_summary(row.choice, row.both_poor))
    if row.opening:
        parts.append(row.opening)
    return " · ".join(parts)


def _pick_list(rows: Sequence[TaskRow], *, title: str, label: str, button: str, key: str,
               open_pair: Callable[[int], None], noun: str, expanded: bool = False) -> None:
    by_id = {row.assignment_id: row for row in rows}
    # The browser keeps a select box's option labels while its key stays the same: a revised
    # answer showed the old one until a reload. The key names the labels (crc32 of them), and
    # the person's selection is carried over to the new key.
    state = st.session_state
    labels = "\n".join(row_label(row, noun) for row in rows)
    widget = f"{key}_choice_{zlib.crc32(labels.encode('utf-8')):08x}"
    if widget not in state and state.get(f"{key}_picked") in by_id:
        state[widget] = state[f"{key}_picked"]
    with st.sidebar.expander(plain_label(title), expanded=expanded):
        pick = st.selectbox(plain_label(label), list(by_id), format_func=lambda aid: row_label(by_id[aid], noun), key=widget)
        state[f"{key}_picked"] = pick
        st.button(plain_label(button), key=f"{key}_open", on_click=open_pair, args=(pick,), width="stretch")


def task_lists(rows: Sequence[TaskRow], *, study_id: int, open_pair: Callable[[int], None],
               current: int | None = None, noun: str = "pair", prefix: str = "pairs",
               answered: tuple[str, str] = ("My judgments", "Judged")) -> None:
    """The "Skipped pairs" and "My judgments" lists of one study (each only when not empty);
    ``noun``, ``prefix`` (of the widget keys) and ``answered`` (the list's title and the word
    for an answered task) name them for another kind of task."""
    skipped = [r for r in rows if r.status == TaskStatus.SKIPPED and r.assignment_id != current]
    finished = [r for r in rows if r.status == TaskStatus.DONE]
    if skipped:
        _pick_list(skipped, title=f"Skipped {noun}s ({len(skipped)})", label=f"Skipped {noun}",
                   button=f"Open skipped {noun}", key=f"{prefix}_skipped_{study_id}", open_pair=open_pair, noun=noun,
                   expanded=True)
    if finished:
        _pick_list(finished, title=f"{answered[0]} ({len(finished)}): open one to revise it",
                   label=f"{answered[1]} {noun}", button=f"Open this {noun}", key=f"{prefix}_revisit_{study_id}",
                   open_pair=open_pair, noun=noun)
