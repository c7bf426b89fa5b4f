"""Per-assignment state of the judging pages, kept in ``st.session_state``.

* **Submit token**: generated once when an assignment is first shown and reused by every
  submit of that showing, so a double click (two reruns) or a resubmitted form sends the
  same token and the service stores the judgment once. It is dropped after a successful
  submit, so a later deliberate revision gets a new token (a new revision).
* **Start time**: when the assignment was first shown in this browser session; the time
  on task sent with the judgment is ``now - start``.
* **Minimum dwell**: a choice made less than :func:`min_dwell_seconds` after the pair
  appeared is refused (:func:`too_soon`). A slow double click, or a key pressed twice,
  otherwise judges the *next* pair: the first click saves this pair and the page shows the
  next one, whose buttons are under the pointer when the second click lands. The submit
  token cannot catch that (the second click belongs to a new showing).

Also the fixed vocabularies of the judging form (labels shown to annotators and the values
the services take). No DB access.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any, Protocol

CHOICES: dict[str, str] = {
    "A is better": "left",
    "B is better": "right",
    "Equivalent": "tie",
}
"""Label shown to the annotator -> the side-relative choice the services take (also the
options of a per-criterion row)."""

OVERALL_CHOICES: dict[str, str] = {**CHOICES, "Both are poor": "both_poor"}
"""The overall choices: the three above and "Both are poor", which the services store as a
tie of two poor responses (:data:`annotate.services.annotate.judgments.BOTH_POOR`)."""

CHOICE_LABELS: dict[str, str] = {value: label for label, value in OVERALL_CHOICES.items()}

SHORTCUTS: dict[str, str] = {"left": "1", "right": "2", "tie": "3", "both_poor": "4"}
"""Keyboard shortcut of each choice button (ignored while typing in a text field)."""

NAV_SHORTCUTS: dict[str, str] = {"skip": "s", "previous": "p", "next": "n"}
"""Keyboard shortcuts of "Skip for now", "Previous pair" and "Next pair"."""

KEY_HELP: tuple[tuple[str, str], ...] = (
    ("1 / 2 / 3", "A is better / B is better / Equivalent (saves at once)"),
    ("4", "Both are poor (saved as a tie of two poor responses)"),
    ("S", "Skip for now (the pair comes back after the others)"),
    ("P / N", "Previous pair / next pair in your list"),
    ("E", "Write the rationale (Esc leaves the box)"),
    ("G", "Go to the per-criterion choices; there 1 / 2 / 3 choose and move to the next row, "
          "J / K move down / up, Esc leaves"),
    ("?", "Show or hide this list"),
)
"""Every key of the judging page and what it does (the "?" overlay and the guidelines)."""


def choice_summary(choice: str | None, both_poor: bool) -> str:
    """How a stored answer reads in the lists: a tie with both_poor is "Both are poor".

    Example:
        >>> choice_summary("left", False), choice_summary("tie", True), choice_summary(None, False)
        ('A is better', 'Both are poor', 'not judged')
    """
    if choice is None:
        return "not judged"
    return CHOICE_LABELS["both_poor"] if choice == "tie" and both_poor else CHOICE_LABELS.get(choice, choice)

FLAGS: dict[str, str] = {
    "query_problem": "Problem with the query",
    "response_cut_off": "A response is cut off",
    "needs_expert": "Needs an expert",
    "needs_materials": "Needs materials",
}
"""Flag value -> label (the services' flag vocabulary)."""

class TaskState(Protocol):
    """What the helpers below use of their state: ``st.session_state`` on a page, a plain
    ``dict`` in tests and doctests.

    ``st.session_state`` is a ``MutableMapping[str | int, Any]``, which is not a
    ``MutableMapping[str, Any]`` (mapping keys are invariant), so the helpers name only the
    operations they need, each on ``str`` keys.
    """

    def __contains__(self, key: object, /) -> bool: ...

    def __getitem__(self, key: str, /) -> Any: ...

    def __setitem__(self, key: str, value: Any, /) -> None: ...

    def pop(self, key: str, default: None, /) -> Any: ...


_TOKEN = "task_token_{}"
_START = "task_start_{}"
_SHOWN = "task_shown_{}"


def submit_token(state: TaskState, assignment_id: int) -> str:
    """The submit token of this showing of ``assignment_id`` (created on first call).

    Example:
        >>> state = {}
        >>> submit_token(state, 7) == submit_token(state, 7)
        True
    """
    key = _TOKEN.format(assignment_id)
    if key not in state:
        state[key] = uuid.uuid4().hex
    return str(state[key])


def start_time(state: TaskState, assignment_id: int, *, now: float | None = None) -> float:
    """When ``assignment_id`` was first shown in this session (epoch seconds)."""
    key = _START.format(assignment_id)
    if key not in state:
        state[key] = time.time() if now is None else now
    return float(state[key])


def elapsed_seconds(state: TaskState, assignment_id: int, *, now: float | None = None) -> float:
    """Seconds since ``assignment_id`` was first shown, rounded to 0.1 s.

    Example:
        >>> state = {}
        >>> _ = start_time(state, 3, now=100.0)
        >>> elapsed_seconds(state, 3, now=142.26)
        42.3
    """
    begin = start_time(state, assignment_id, now=now)
    current = time.time() if now is None else now
    return round(max(0.0, current - begin), 1)


MIN_DWELL_ENV = "ANNOTATE_MIN_DWELL_S"
DEFAULT_MIN_DWELL_S = 0.8
"""Nobody reads a query and two responses in under this many seconds; a double click's
second click comes a few tenths of a second after the first."""


def min_dwell_seconds() -> float:
    """The minimum seconds between a pair appearing and a choice on it (``ANNOTATE_MIN_DWELL_S``,
    default :data:`DEFAULT_MIN_DWELL_S`; ``0`` turns the guard off, e.g. for scripted tests).

    Example:
        >>> os.environ[MIN_DWELL_ENV] = "1.5"; min_dwell_seconds()
        1.5
        >>> del os.environ[MIN_DWELL_ENV]; min_dwell_seconds() == DEFAULT_MIN_DWELL_S
        True
    """
    raw = os.environ.get(MIN_DWELL_ENV, "").strip()
    if not raw:
        return DEFAULT_MIN_DWELL_S
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise ValueError(f"{MIN_DWELL_ENV} must be a number of seconds, got {raw!r}") from None


def too_soon(state: TaskState, assignment_id: int, *, now: float | None = None,
             minimum: float | None = None) -> bool:
    """Whether a choice on ``assignment_id`` now comes too soon after it appeared (see above).

    Example:
        >>> state = {}
        >>> _ = start_time(state, 5, now=100.0)
        >>> too_soon(state, 5, now=100.3, minimum=0.8), too_soon(state, 5, now=101.0, minimum=0.8)
        (True, False)
    """
    limit = min_dwell_seconds() if minimum is None else minimum
    begin = start_time(state, assignment_id, now=now)
    current = time.time() if now is None else now
    return current - begin < limit


def shown_elapsed(state: TaskState, assignment_id: int) -> float:
    """The seconds on ``assignment_id`` when its timer was first drawn in this session (the
    browser counts on from there, so the page sends the same timer on every rerun).

    Example:
        >>> state = {}
        >>> _ = start_time(state, 4, now=time.time() - 30)
        >>> shown_elapsed(state, 4) == shown_elapsed(state, 4) >= 30
        True
    """
    key = _SHOWN.format(assignment_id)
    if key not in state:
        state[key] = elapsed_seconds(state, assignment_id)
    return float(state[key])


def finish(state: TaskState, assignment_id: int) -> None:
    """Forget the token and start time of ``assignment_id`` after a successful submit or skip."""
    state.pop(_TOKEN.format(assignment_id), None)
    state.pop(_START.format(assignment_id), None)
    state.pop(_SHOWN.format(assignment_id), None)


def format_duration(seconds: float | None) -> str:
    """``95.0`` -> ``"1 min 35 s"``; ``None`` -> ``"-"``.

    Example:
        >>> format_duration(95.0), format_duration(12.4), format_duration(None)
        ('1 min 35 s', '12 s', '-')
    """
    if seconds is None:
        return "-"
    total = int(round(seconds))
    minutes, secs = divmod(total, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
