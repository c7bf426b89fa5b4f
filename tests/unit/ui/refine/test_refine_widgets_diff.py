"""The side-by-side diff marks where unchanged lines were left out."""

from __future__ import annotations

from annotate.ui.refine.refine_widgets import diff_table_html

OLD = [f"Paragraph {i} of the material." for i in range(30)]


def test_left_out_lines_are_marked_between_hunks():
    new = list(OLD)
    new[2], new[25] = "Paragraph 2, changed.", "Paragraph 25, changed."
    html = diff_table_html("\n".join(OLD), "\n".join(new), "version 1", "version 2")
    # two changes 23 lines apart with 2 lines of context each: two hunks, one gap between them
    assert html.count("unchanged lines not shown") == 1
    assert "Paragraph 12 of the material." not in html  # a line in the gap is not shown


def test_one_hunk_has_no_mark():
    new = list(OLD)
    new[5] = "Paragraph 5, changed."
    assert "unchanged lines not shown" not in diff_table_html("\n".join(OLD), "\n".join(new), "a", "b")
