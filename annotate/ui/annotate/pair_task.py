"""Rendering of one pairwise task and its choice bar (no DB access).

:func:`show_task` draws the heading, the query, the collapsible materials and the two
responses side by side ("Response A" left, "Response B" right; never model names), in
panes sized to the window above the bar (:func:`pane_height`).
:func:`choice_bar` draws the bar that stays at the bottom of the window
(:data:`annotate.ui.annotate.judge_keys.BAR_KEY`): a slot for messages, the progress, the
per-criterion rows as a compact grid, the four choices and "Skip for now", the flags and
the rationale, previous/next, the time on the pair and the keys. It returns what was
submitted, or ``None``. The page (``annotate/app_pages/annotate/judge_pairs.py``) loads the task
and submits it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from annotate.ui.annotate.judge_keys import BAR_KEY, GRID_KEY, show_keys
from annotate.ui.annotate.task_state import (
    CHOICE_LABELS,
    CHOICES,
    FLAGS,
    NAV_SHORTCUTS,
    OVERALL_CHOICES,
    SHORTCUTS,
)
from annotate.ui.kit.panes import show_text_view
from annotate.ui.kit.safe_markdown import plain_label

BOTH_POOR = "both_poor"
JUDGING_HINT = ("Judge against the query's requirements and the use of its materials (see Guidelines). "
                "Keys: 1 A, 2 B, 3 Equivalent, 4 Both are poor, S skip, ? all keys.")
"""How to judge, shown under the task's heading (part of the heading's markdown element)."""
CRITERION_LABELS: dict[str, str] = {"left": "A", "right": "B", "tie": "Equivalent"}
"""The short labels of a per-criterion row (the rows sit in a compact grid)."""
RAW_PANES = ("Query", "Response A", "Response B")
"""Panes whose raw text (as written, no formatting) the annotator can switch to."""
MARKS: dict[str, str] = {**FLAGS, "query_problem": "Query problem", "response_cut_off": "Cut off"}
"""Options of the "Flags" widget (value -> label): short labels, so that four flags, the rationale
and previous/next share one row of the bar at 1366 px (the Guidelines give both names)."""


@dataclass(frozen=True)
class JudgmentInput:
    """What the annotator submitted: ``choice`` is ``left``/``right``/``tie``/``both_poor``."""

    choice: str
    rationale: str
    flags: list[str]
    per_criterion: dict[str, str | None] = field(default_factory=dict)
    skipped: bool = False  # "Skip for now" was pressed instead of a choice (``choice`` is "")
    navigate: str = ""  # "previous" or "next" was pressed instead of a choice (``choice`` is "")

    @property
    def missing_criteria(self) -> list[str]:
        """Criteria left without a choice (a per-criterion study needs all of them)."""
        return [name for name, value in self.per_criterion.items() if value is None]

    def criteria_choices(self) -> dict[str, str]:
        """The per-criterion choices, once every criterion has one (check :attr:`missing_criteria`
        first; a criterion without a choice raises ``ValueError``).

        Example:
            >>> JudgmentInput("left", "", [], {"Accuracy": "tie"}).criteria_choices()
            {'Accuracy': 'tie'}
        """
        chosen = {name: value for name, value in self.per_criterion.items() if value is not None}
        if len(chosen) != len(self.per_criterion):
            raise ValueError(f"criteria without a choice: {', '.join(self.missing_criteria)}")
        return chosen


def pane_height(criteria: int) -> str:
    """The responses' pane height: what the page's script measured (``--wj-pane-h``: from
    the panes' top to the choice bar), else an estimate of the window less the headers and
    the bar (taller with per-criterion rows); never under 240 px.

    Example:
        >>> pane_height(0)
        'var(--wj-pane-h, max(240px, calc(100vh - 260px)))'
        >>> pane_height(5)
        'var(--wj-pane-h, max(240px, calc(100vh - 360px)))'
    """
    return f"var(--wj-pane-h, max(240px, calc(100vh - {260 + 20 * min(criteria, 8)}px)))"


def show_task(task: Any, *, title: str | None = None) -> None:
    """Heading, notes on an earlier judgment, the query and materials folded to one line
    each, and the two responses filling the window down to the choice bar.

    ``title`` (the page's title), when given, heads the same line.
    """
    heading = f"Pair {task.position:d} of {task.total:d}"
    if task.is_qualification:
        heading += " · qualification round"
    # One compact line: the page title and the pair; how to judge is in the keys overlay
    # and the Guidelines. The texts are one HTML element (:func:`annotate.ui.kit.panes.show_text_view`).
    head = f"#### {plain_label(title) + ' · ' if title else ''}{heading}"
    existing = task.existing
    with st.container(horizontal=True, vertical_alignment="center", key="wj_head"):
        st.markdown(head, help=JUDGING_HINT)
        # One switch for the raw text of each pane: the rendering is sent alone (a raw copy of
        # every text beside it would double the 100k characters sent on every rerun).
        raw = st.pills("Show raw text", RAW_PANES, selection_mode="multi", key=f"pairs_raw_{task.assignment_id}",
                       format_func=lambda pane: f"Raw text: {pane}", label_visibility="collapsed") or []
    if existing is not None:
        label = CHOICE_LABELS["both_poor"] if existing.both_poor else CHOICE_LABELS.get(existing.choice or "", "-")
        note = (f"You judged this pair before: **{label}**, revision {existing.revision:d}. "
                "Choosing again records a new revision.")
        if existing.stale:
            st.warning(note + " The query or its materials changed after your judgment; please judge it again.",
                       icon=":material/history:")
        else:
            st.caption(":material/history: " + note)
    elif getattr(task, "came_back", ""):  # re-queued after an approved edit: say why it is back
        st.warning(plain_label(task.came_back), icon=":material/history:")
    place = f"query {task.query_index} · {task.domain1} › {task.domain2}"
    show_text_view(query=task.instruction, materials=task.materials, query_height="min(420px, 50vh)",
                   responses=(("Response A", task.left_text), ("Response B", task.right_text)),
                   pane_height=pane_height(len(task.criteria) if task.per_criterion else 0),
                   raw_toggles=False, raw=tuple(raw), fold=place)


@dataclass(frozen=True)
class BarContext:
    """What the bar shows beside the form: progress, neighbours, the timer's start."""

    done: int
    total: int
    study_name: str
    elapsed: float
    showing: float = 0.0
    previous: Callable[[], None] | None = None
    following: Callable[[], None] | None = None
    person: int = 0  # the annotator's account id: whose fold states the page remembers


def _criteria_grid(task: Any, key: str) -> dict[str, str | None]:
    existing = task.existing
    criteria: dict[str, str | None] = {}
    options = list(CHOICES.values())
    with st.container(key=GRID_KEY):
        for i, (name, description) in enumerate(task.criteria):
            previous = (existing.per_criterion or {}).get(name) if existing else None
            # Imported criteria are data: name and description show as plain text (both are markdown
            # to Streamlit: an image there was fetched by the annotator's browser).
            criteria[name] = st.radio(
                plain_label(name), options, format_func=CRITERION_LABELS.get, horizontal=True,
                index=options.index(previous) if previous in options else None,
                help=plain_label(description) or None, key=f"{key}_crit_{task.assignment_id}_{i}")
    return criteria


def _choice_buttons(task: Any, key: str, allow_skip: bool) -> str | None:
    existing = task.existing
    stored = None if existing is None else ("both_poor" if existing.both_poor else existing.choice)
    pressed: str | None = None
    with st.container(horizontal=True):
        for label, value in OVERALL_CHOICES.items():
            if st.form_submit_button(label, key=f"{key}_choice_{value}_{task.assignment_id}",
                                     shortcut=SHORTCUTS[value], width="stretch",
                                     type="primary" if stored == value else "secondary"):
                pressed = value
        if allow_skip and st.form_submit_button("Skip for now", key=f"{key}_skip_{task.assignment_id}",
                                                icon=":material/skip_next:", shortcut=NAV_SHORTCUTS["skip"],
                                                help="Come back to this pair after the others."):
            pressed = "skip"
    return pressed


def choice_bar(task: Any, context: BarContext, *, key: str = "pairs",
               allow_skip: bool = False) -> tuple[Any, JudgmentInput | None]:
    """The choice bar of ``task``: ``(message slot, submitted values or None)``.

    The four choices are the form's submit buttons (keys 1-4 when no text field has the
    focus; "Both are poor" stores a tie of two poor responses); the flags, the one-line rationale
    and any per-criterion choices are sent with them. Earlier answers are pre-filled when
    the task is revisited; "Previous pair" and "Next pair" are submit buttons too (they
    return ``navigate``). Messages about the submit go into the returned slot (the bar's
    foot, in view). Few elements: the bar is sent on every rerun.
    """
    aid = task.assignment_id
    existing = task.existing
    bar = st.container(key=BAR_KEY)
    with bar, st.form(f"judge_{aid}", border=False):
        criteria = _criteria_grid(task, key) if task.per_criterion and task.criteria else {}
        pressed = _choice_buttons(task, key, allow_skip)
        with st.container(horizontal=True, vertical_alignment="center"):
            before = [f for f in FLAGS if existing and f in existing.flags]
            marks = st.pills("Flags (optional)", MARKS, selection_mode="multi", default=before or None,
                             format_func=lambda mark: MARKS[mark], key=f"{key}_marks_{aid}", label_visibility="collapsed") or []
            rationale = st.text_input("Rationale (optional)", value=existing.rationale if existing else "",
                                      key=f"{key}_rationale_{aid}", label_visibility="collapsed",
                                      placeholder="Rationale (optional): the deciding requirement (key E)",
                                      width="stretch")
            for label, value, icon in (("Previous pair", "previous", ":material/arrow_back:"),
                                       ("Next pair", "next", ":material/arrow_forward:")):
                if st.form_submit_button(label, key=f"{key}_{value}_{aid}", icon=icon,
                                         shortcut=NAV_SHORTCUTS[value],
                                         disabled=(context.previous if value == "previous" else context.following)
                                         is None):
                    pressed = value
        # The foot: progress, time and keys, and beside them the messages about a choice.
        with st.container(horizontal=True, vertical_alignment="center", key="wj_foot"):
            show_keys(assignment_id=aid, elapsed=context.elapsed, showing=context.showing,
                      progress=(context.done, context.total, context.study_name), person=context.person)
            slot = st.container()  # messages go at the foot of the bar, in view
    if pressed in ("previous", "next"):
        return slot, JudgmentInput(choice="", rationale="", flags=[], navigate=pressed)
    if pressed == "skip":
        return slot, JudgmentInput(choice="", rationale="", flags=[], skipped=True)
    if pressed is None:
        return slot, None
    return slot, JudgmentInput(choice=pressed, rationale=rationale or "", flags=[f for f in FLAGS if f in marks],
                               per_criterion=criteria)
