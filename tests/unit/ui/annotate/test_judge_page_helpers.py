"""The judging page's helpers without a browser: their documented examples, the key list
against the keys the buttons carry, and the lines of the task lists and Home."""

from __future__ import annotations

import doctest
import importlib
import os
import re

import pytest

from annotate.services.annotate.tasks import StudySummary, TaskRow, opening_words
from annotate.ui.annotate.judge_keys import KEYS_SCRIPT, keys_html
from annotate.ui.annotate.pair_lists import row_label
from annotate.ui.annotate.task_state import KEY_HELP, NAV_SHORTCUTS, SHORTCUTS
from annotate.ui.project.my_work import left_line

MODULES = ["annotate.ui.annotate.judge_keys", "annotate.ui.annotate.pair_task", "annotate.ui.annotate.task_flow", "annotate.ui.annotate.active_clock", "annotate.ui.annotate.pair_lists",
           "annotate.ui.project.my_work", "annotate.services.core.errors", "annotate.ui.annotate.task_state", "annotate.ui.kit.panes",
           "annotate.ui.kit.safe_html"]


@pytest.mark.parametrize("name", MODULES)
def test_documented_examples_hold(name, monkeypatch):
    # Some examples set and delete environment variables (task_state's ANNOTATE_MIN_DWELL_S):
    # monkeypatch restores the suite's values afterwards, so later page tests are unaffected.
    for var in ("ANNOTATE_MIN_DWELL_S",):
        monkeypatch.setenv(var, os.environ.get(var, ""))
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_button_key_is_in_the_overlay():
    listed = {part.strip().lower() for key, _ in KEY_HELP for part in key.split("/")}
    for key in (*SHORTCUTS.values(), *NAV_SHORTCUTS.values(), "e", "g", "?"):
        assert key.lower() in listed, key


def test_the_key_script_survives_the_browser_sanitizer():
    # DOMPurify (SAFE_FOR_XML) drops a <script> whose text has "<" before a letter, digit or "/".
    assert not re.search(r"<[/\w]", KEYS_SCRIPT)
    html = keys_html(assignment_id=3, elapsed=61.7, showing=10.0)
    assert html.count("<script>") == 1 and 'data-elapsed="61"' in html and "\n" not in html


def test_list_lines_name_the_answer_and_the_query_opening():
    # By hand: 8 words at most, "…" when cut; a tie marked both-poor reads "Both are poor".
    opening = opening_words("Write a press release for the launch of our new bike lane network")
    assert opening == "Write a press release for the launch of…"
    assert row_label(TaskRow(9, 4, "done", "left", False, opening)) == (
        "Pair 4 · A is better · Write a press release for the launch of…")
    assert row_label(TaskRow(9, 4, "done", "tie", True, "x")) == "Pair 4 · Both are poor · x"
    assert row_label(TaskRow(9, 5, "skipped", None, False, "y")) == "Pair 5 · y"


def test_home_line_counts_what_is_left():
    assert left_line(StudySummary(1, "pilot", "pairwise", "active", 14, 15)) == (
        "1 pair left in study pilot (14 of 15 judged)")
