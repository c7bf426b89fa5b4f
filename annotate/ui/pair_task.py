"""Rendering of one pairwise task and its judgment form (no DB access).

:func:`show_task` draws the heading, the query, the collapsible materials and the two
responses side by side ("Response A" left, "Response B" right; never model names).
:func:`judgment_form` draws the form and returns what was submitted, or ``None``.
The page (``annotate/app_pages/annotate_pairs.py``) loads the task and submits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from annotate.ui.panes import show_text_view
from annotate.ui.safe_markdown import to_safe_markdown
from annotate.ui.task_state import CHOICE_LABELS, CHOICES, FLAGS, SHORTCUTS

BOTH_POOR = "both_poor"
JUDGING_HINT = ("Judge against the query's requirements and the use of its materials (see Guidelines); "
                "keys 1, 2, 3 choose A, B, Equivalent when no text field is focused.")
"""How to judge, shown under the task's heading (part of the heading's markdown element)."""
MARKS: dict[str, str] = {BOTH_POOR: "Both are poor", **FLAGS}
"""Options of the "Marks" widget: "both are poor" and the flags (value -> label)."""


@dataclass(frozen=True)
class JudgmentInput:
    """What the annotator submitted: ``choice`` is ``left``/``right``/``tie``."""

    choice: str
    both_poor: bool
    rationale: str
    flags: list[str]
    per_criterion: dict[str, str | None] = field(default_factory=dict)
    skipped: bool = False  # "Skip for now" was pressed instead of a choice (``choice`` is "")

    @property
    def missing_criteria(self) -> list[str]:
        """Criteria left without a choice (a per-criterion study needs all of them)."""
        return [name for name, value in self.per_criterion.items() if value is None]


def show_task(task, *, progress: str = "",  # type: ignore[no-untyped-def]
              title: str | None = None) -> None:
    """Heading, notes on an earlier judgment, query, materials and the two responses.

    ``progress`` (e.g. "3 of 15 pairs judged") is added to the line under the heading;
    ``title`` (the page's title), when given, heads the same markdown element.
    """
    heading = f"Pair {task.position} of {task.total}"
    if task.is_qualification:
        heading += " · qualification round"
    # The page title, the heading and its caption lines (where the task is; how to judge)
    # are one markdown element; the query, materials and responses are one HTML element
    # (:func:`annotate.ui.panes.show_text_view`): few elements per rerun.
    place = to_safe_markdown(" · ".join(filter(None, (f"{task.domain1} › {task.domain2}",
                                                      f"query {task.query_index}", progress))))
    head = ((f"# {title}\n" if title else "") + f"### {heading}\n"
            f":gray[:small[{place}]]  \n:gray[:small[{JUDGING_HINT}]]")
    existing = task.existing
    st.markdown(head)
    if existing is not None:
        label = CHOICE_LABELS.get(existing.choice or "", "-")
        note = f"You judged this pair before: **{label}**" + (" (both poor)" if existing.both_poor else "")
        st.info(note + f", revision {existing.revision}. Submitting again records a new revision.",
                icon=":material/history:")
        if existing.stale:
            st.warning("The query or its materials changed after your judgment; please judge it again.")
    show_text_view(query=task.instruction, materials=task.materials,
                   responses=(("Response A", task.left_text), ("Response B", task.right_text)))


def judgment_form(task, *, key: str = "pairs",  # type: ignore[no-untyped-def]
                  allow_skip: bool = False) -> JudgmentInput | None:
    """The judgment form of ``task``; the submitted values, or ``None`` if nothing was pressed.

    The three choices are the form's submit buttons (keys 1, 2, 3 when no text field has
    the focus, as :data:`JUDGING_HINT` under the task's heading says); the marks ("both are poor" and the flags, one multi-choice widget), the
    rationale and any per-criterion choices are sent with them. Earlier answers are pre-filled when the task is revisited.
    """
    aid = task.assignment_id
    existing = task.existing
    with st.form(f"judge_{aid}", border=True):
        criteria: dict[str, str | None] = {}
        if task.per_criterion and task.criteria:
            st.markdown("**Per criterion**")
            options = list(CHOICES.values())
            for i, (name, description) in enumerate(task.criteria):
                previous = (existing.per_criterion or {}).get(name) if existing else None
                criteria[name] = st.radio(
                    name, options, format_func=CHOICE_LABELS.get, horizontal=True,
                    index=options.index(previous) if previous in options else None,
                    help=description or None, key=f"{key}_crit_{aid}_{i}")
        # "Both are poor" and the flags are one multi-choice widget (one element, not four).
        before = ([BOTH_POOR] if existing and existing.both_poor else []) + (
            [f for f in FLAGS if existing and f in existing.flags])
        marks = st.pills("Marks (optional)", MARKS, selection_mode="multi", default=before or None,
                         format_func=MARKS.get, key=f"{key}_marks_{aid}",
                         help="Both are poor: neither response is acceptable (usually with Equivalent).") or []
        rationale = st.text_area("Rationale (optional)", value=existing.rationale if existing else "",
                                 key=f"{key}_rationale_{aid}", height=80)
        pressed: str | None = None
        with st.container(horizontal=True):
            for label, value in CHOICES.items():
                current = existing is not None and existing.choice == value
                if st.form_submit_button(label, key=f"{key}_choice_{value}_{aid}", shortcut=SHORTCUTS[value],
                                         type="primary" if current else "secondary", width="stretch"):
                    pressed = value
            if allow_skip and st.form_submit_button("Skip for now", key=f"{key}_skip_{aid}",
                                                    icon=":material/skip_next:",
                                                    help="Come back to this pair after the others."):
                pressed = "skip"
    if pressed == "skip":
        return JudgmentInput(choice="", both_poor=False, rationale="", flags=[], skipped=True)
    if pressed is None:
        return None
    return JudgmentInput(choice=pressed, both_poor=BOTH_POOR in marks, rationale=rationale or "",
                         flags=[f for f in FLAGS if f in marks], per_criterion=criteria)
