"""The annotator's open work on Home: "N pairs left in study X" and a button to continue.

Each open study of the annotator gets one line and a "Continue" button that opens the
judging (or rating) page on that study's next task.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from annotate.services.annotate import tasks
from annotate.services.annotate.tasks import StudySummary
from annotate.services.core.names import shown_name
from annotate.services.core.statuses import StudyKind, StudyStatus
from annotate.ui.kit.safe_markdown import to_safe_markdown
from annotate.ui.session import db_session

PAGES = {"pairwise": ("app_pages/annotate/judge_pairs.py", "pairs_study", "pairs_open", "pairs_view"),
         "pointwise": ("app_pages/annotate/rate_responses.py", "rate_study", "rate_open", None)}
"""Study kind -> (page, its study picker's key, its open-task key, its loaded-view key)."""


def left_line(study: StudySummary) -> str:
    """What is left in one study, in words.

    Example:
        >>> left_line(StudySummary(1, "pilot", "pairwise", "active", 3, 15))
        '12 pairs left in study pilot (3 of 15 judged)'
        >>> left_line(StudySummary(2, "rate", "pointwise", "active", 4, 5))
        '1 response left to rate in study rate (4 of 5 rated)'
        >>> left_line(StudySummary(1, "pilot", "pairwise", "active", 13, 15, came_back=2))
        '2 pairs left in study pilot (13 of 15 judged; 2 came back: their query changed since you judged them)'
    """
    back = (f"; {study.came_back} came back: {'its' if study.came_back == 1 else 'their'} query changed since you "
            f"judged {'it' if study.came_back == 1 else 'them'}" if study.came_back else "")
    left = study.total - study.done
    if study.kind == StudyKind.POINTWISE:
        what = f"{left} response{'' if left == 1 else 's'} left to rate"
        return f"{what} in study {shown_name(study.name)} ({study.done} of {study.total} rated{back})"
    return (f"{left} pair{'' if left == 1 else 's'} left in study {shown_name(study.name)} "
            f"({study.done} of {study.total} judged{back})")


def show_my_work(user: Any) -> None:
    """One line and a "Continue" button per active study with tasks left; a thank-you when none."""
    with db_session() as session:
        studies = [s for s in tasks.my_studies(session=session, actor=user) if s.status == StudyStatus.ACTIVE]
    open_ones = [s for s in studies if s.done < s.total and s.kind in PAGES]
    if not studies:
        return
    if not open_ones:
        st.success("Nothing is left in your studies. Thank you!")
        return
    for study in open_ones:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(f"**{to_safe_markdown(left_line(study))}**")
        if right.button("Continue", key=f"home_continue_{study.study_id}", type="primary",
                        icon=":material/arrow_forward:", width="stretch"):
            page, picker, open_key, view_key = PAGES[study.kind]
            for key in (open_key, view_key):
                if key:
                    st.session_state.pop(key, None)
            st.session_state[picker] = study.study_id
            st.switch_page(page)
