"""A model's ``<think>`` block at the start of a response is shown folded, closed, above the
answer; the raw-text view shows the response as imported."""

from __future__ import annotations

from annotate.ui.kit.panes import split_reasoning, text_view_html

RESPONSE = "<think>\nThe user wants 45 minutes; timings must add up.\n</think>\nLesson: Why do things float?"


def test_a_leading_block_is_folded_above_the_answer():
    html = text_view_html(responses=(("Response A", RESPONSE),), raw_toggles=False)
    fold_start = html.index('<details class="wj-think">')
    fold_end = html.index("</details>", fold_start)
    # the reasoning (47 characters, counted by hand: "The user wants 45 minutes; timings must add up.")
    assert "The user wants 45 minutes; timings must add up." in html[fold_start:fold_end]
    assert "(47 characters; not part of the answer)" in html[fold_start:fold_end]
    assert "<details class=\"wj-think\" open" not in html  # closed
    assert html.index("Lesson: Why do things float?") > fold_end  # the answer follows, unfolded
    assert "&lt;think&gt;" not in html and "<think>" not in html


def test_the_raw_view_shows_the_text_as_imported():
    html = text_view_html(responses=(("Response A", RESPONSE),), raw_toggles=False, raw=("Response A",))
    assert '<details class="wj-think">' not in html and "&lt;think&gt;" in html


def test_only_a_leading_block_is_reasoning():
    assert split_reasoning("  <THINK>a</THINK>b") == ("a", "b")
    assert split_reasoning("Answer first. <think>x</think>") == ("", "Answer first. <think>x</think>")
    assert split_reasoning("<think>never closed") == ("", "<think>never closed")
