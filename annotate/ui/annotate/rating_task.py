"""Rendering of one pointwise task and its rating form (no DB access).

:func:`show_rating` draws the response to rate; :func:`rating_form` draws the score (1-5),
the error type and the rationale and returns what was submitted (:class:`RatingInput`), or
``None``. The page (``annotate/app_pages/annotate/rate_responses.py``) loads the task and
stores the answer through :mod:`annotate.ui.annotate.task_flow`. Model names never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from annotate.ui.kit.panes import show_text_view
from annotate.ui.kit.safe_markdown import plain_label

SCORE_LABELS = {1: "1 · unacceptable", 2: "2 · poor", 3: "3 · acceptable", 4: "4 · good", 5: "5 · excellent"}
"""Score -> the label the annotator sees."""


@dataclass(frozen=True)
class RatingInput:
    """What the annotator submitted: ``score`` 1-5 (``None``: none chosen), ``error_type``
    from the study's list (``""``: none), the rationale; ``skipped`` when "Skip for now" was
    pressed instead."""

    score: int | None
    error_type: str = ""
    rationale: str = ""
    skipped: bool = False


def show_rating(task: Any, *, title: str | None = None) -> None:
    """Heading (``title``, the page title, first when given), where the query sits, a note on
    an earlier rating, and the query, materials and the response."""
    if title:
        st.title(plain_label(title))
    st.subheader(f"Response {task.position:d} of {task.total:d}")
    st.caption(plain_label(f"{task.domain1} › {task.domain2} · query {task.query_index}"))
    existing = task.existing
    if existing is not None and existing.score is not None:
        st.info(f"You rated this response **{plain_label(existing.score)}** before (revision {existing.revision:d}). "
                "Submitting again records a new revision.", icon=":material/history:")
    show_text_view(query=task.instruction, materials=task.materials, responses=(("Response", task.left_text),))


def rating_form(task: Any, *, low_score: int, allow_skip: bool) -> tuple[Any, RatingInput | None]:
    """The rating form of ``task`` and a "Skip for now" button; ``(slot, submitted)``, where
    ``slot`` is the place above the form for messages about the answer."""
    aid, existing = task.assignment_id, task.existing
    error_types = list(task.error_types)
    slot = st.container()
    with st.form(f"rate_{aid}", border=True):
        scores = list(SCORE_LABELS)
        score = st.radio("How well does the response meet the query's requirements?", scores,
                         format_func=SCORE_LABELS.get, horizontal=True, key=f"rate_score_{aid}",
                         index=scores.index(existing.score) if existing and existing.score in scores else None)
        error_type = st.selectbox(
            f"Main error type (required for a score of {low_score:d} or lower)", error_types,
            index=error_types.index(existing.error_type) if existing and existing.error_type in error_types else None,
            key=f"rate_error_{aid}", placeholder="Choose the main problem")
        rationale = st.text_area("Rationale (optional)", value=existing.rationale if existing else "",
                                 key=f"rate_rationale_{aid}", height=80)
        sent = st.form_submit_button("Submit rating", type="primary", key=f"rate_submit_{aid}")
    if sent:
        return slot, RatingInput(None if score is None else int(score), error_type or "", rationale or "")
    if allow_skip and st.button("Skip for now", key=f"rate_skip_{aid}", icon=":material/skip_next:"):
        return slot, RatingInput(None, skipped=True)
    return slot, None
