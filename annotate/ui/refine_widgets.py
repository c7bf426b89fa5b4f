"""Widgets shared by the expert-refinement pages: query picker, side-by-side diff, history.

No database access: pages pass in what the services returned.
"""

from __future__ import annotations

import difflib

import streamlit as st

DIFF_CSS = """
<style>
table.refine-diff {font-family: ui-monospace, monospace; font-size: 0.82rem; border-collapse: collapse;
  width: 100%;}
table.refine-diff td {vertical-align: top; padding: 1px 4px; white-space: pre-wrap;
  overflow-wrap: anywhere; width: 47%;}
table.refine-diff td.diff_header {width: 2.5em; color: #888; text-align: right;}
table.refine-diff td.diff_next {width: 0; padding: 0; font-size: 0;}
table.refine-diff td.diff_next a {display: none;}
table.refine-diff th {background: #f0f2f6; text-align: left; padding: 4px;}
table.refine-diff .diff_add {background: #c8f0c8;}
table.refine-diff .diff_chg {background: #fde59a;}
table.refine-diff .diff_sub {background: #f8c4c4; text-decoration: line-through;}
</style>
"""


def diff_table_html(old: str, new: str, old_label: str, new_label: str, *, context: bool = True) -> str:
    """An HTML side-by-side diff (``difflib.HtmlDiff``; it escapes the texts).

    Example:
        >>> "diff_chg" in diff_table_html("a b", "a c", "old", "new")
        True
    """
    # No wrapcolumn: difflib would cut lines every N characters, mid-word; the CSS wraps
    # them at word boundaries to the column width instead.
    table = difflib.HtmlDiff().make_table(
        old.splitlines(), new.splitlines(), old_label, new_label, context=context, numlines=2)
    table = table.replace('class="diff"', 'class="refine-diff"', 1)
    # difflib writes every space as &nbsp; (no line break possible); plain spaces under
    # white-space: pre-wrap keep the spacing and wrap between words. The texts are escaped
    # first, so a literal "&nbsp;" typed by a user reads "&amp;nbsp;" and stays.
    table = table.replace("&nbsp;", " ")
    return DIFF_CSS + table


def side_by_side_diff(old: str, new: str, old_label: str, new_label: str) -> None:
    """Show the changed lines of two texts side by side (red removed, green added, yellow changed)."""
    if old == new:
        st.caption("No changes yet.")
        return
    lines = max(len(old.splitlines()), len(new.splitlines()))
    long_text = lines > 12 or max(len(old), len(new)) > 1500
    with st.container(height=420 if long_text else "content", border=True):
        st.html(diff_table_html(old, new, old_label, new_label))


def query_picker(indexes: list[int], *, key: str, label: str = "Query (WritingBench index)") -> int | None:
    """A select box of query indexes; ``?q=INDEX`` in the URL preselects one."""
    if not indexes:
        st.info("No queries yet. A researcher imports them with `annotate import queries FILE`.")
        return None
    wanted = st.query_params.get("q")
    if wanted and wanted.isdigit() and int(wanted) in indexes and key not in st.session_state:
        st.session_state[key] = int(wanted)
    return st.selectbox(label, indexes, key=key)


def show_unified_diff(diff: str) -> None:
    """A unified diff as a code block with wrapped lines (or a note when empty)."""
    if diff:
        st.code(diff, language="diff", wrap_lines=True)  # long paragraphs are one line each
    else:
        st.caption("No textual change.")
