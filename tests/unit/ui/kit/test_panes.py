"""Headings inside a text pane are lowered so a response's "# Title" stays smaller than
the page's own headings; code blocks and non-headings are left alone."""

from __future__ import annotations

import pytest

from annotate.ui.kit.panes import demote_headings


@pytest.mark.parametrize("source,expected", [
    ("# Title", "#### Title"),             # 1 + 3
    ("## Part", "##### Part"),             # 2 + 3
    ("### Step", "###### Step"),           # 3 + 3 = 6, the deepest level
    ("##### Deep", "###### Deep"),         # 5 + 3 capped at 6
    ("   # indented", "   #### indented"),  # up to three spaces is still a heading
    ("    # code", "    # code"),          # four spaces: indented code, not a heading
    ("#hashtag", "#hashtag"),              # no space after '#': not a heading
    ("\\# escaped", "\\# escaped"),
    ("#", "####"),                         # an empty heading
    ("text # not a heading", "text # not a heading"),
])
def test_single_lines(source: str, expected: str) -> None:
    assert demote_headings(source) == expected


def test_fenced_code_is_untouched_and_the_fence_closes() -> None:
    source = "# A\n```python\n# comment\n````\n## B\n~~~\n# x\n~~~\n# C"
    # the "````" line closes the ``` fence (at least as long); "## B" is prose again
    assert demote_headings(source) == "#### A\n```python\n# comment\n````\n##### B\n~~~\n# x\n~~~\n#### C"


def test_a_shorter_or_different_fence_does_not_close() -> None:
    source = "````\n```\n# inside\n~~~~\n# still inside\n````\n# out"
    assert demote_headings(source) == "````\n```\n# inside\n~~~~\n# still inside\n````\n#### out"
