"""Widgets shared by the expert-refinement pages: query picker, side-by-side diff, conflicts.

No database access: pages pass in what the services returned.
"""

from __future__ import annotations

import difflib
import re
import zlib
from html import escape
from typing import cast

import streamlit as st

from annotate.services.core.errors import for_person
from annotate.services.refine.query_list import STATUSES, QueryChoice
from annotate.services.refine.versions import EditConflict
from annotate.ui.kit.panes import scroll_pane
from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.url_params import url_int

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
table.refine-diff td.diff_skip {text-align: center; color: #888; font-style: italic; width: auto;}
</style>
"""


_HUNK_GAP = re.compile(r"</tbody>\s*<tbody>")


def diff_table_html(old: str, new: str, old_label: str, new_label: str, *, context: bool = True) -> str:
    """An HTML side-by-side diff (``difflib.HtmlDiff``; it escapes the texts, not the labels: escaped here).

    Example:
        >>> "diff_chg" in diff_table_html("a b", "a c", "old", "new")
        True
    """
    # No wrapcolumn: difflib would cut lines every N characters, mid-word; the CSS wraps
    # them at word boundaries to the column width instead.
    table = difflib.HtmlDiff().make_table(
        old.splitlines(), new.splitlines(), escape(old_label), escape(new_label), context=context, numlines=2)
    table = table.replace('class="diff"', 'class="refine-diff"', 1)
    if context:  # each run of unchanged lines left out is marked where it was
        table = _HUNK_GAP.sub('</tbody><tbody><tr><td class="diff_skip" colspan="6">… unchanged lines not shown …'
                              "</td></tr></tbody><tbody>", table)
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


PICKED_KEY = "refine_query_picked"
"""The query last picked on any expert page: the next page opens on it (``?q=`` is per page)."""


def query_picker(choices: list[QueryChoice], *, key: str, label: str = "Query") -> int | None:
    """Pick a query by index, domain › subdomain, first words or status; returns its index.

    A status filter narrows the list; the select box searches what is typed in it over the
    whole label, so a project of a thousand queries stays navigable. ``?q=INDEX`` in the URL
    preselects one, and the choice is written back there so a reload keeps it.
    """
    if not choices:
        st.info("No queries yet. A researcher imports them with `annotate import queries FILE`.")
        return None
    c1, c2 = st.columns([1, 4])
    status = c1.selectbox("Show", ("all queries", *STATUSES), key=f"{key}_status")
    shown = {c.index: c for c in choices if status == "all queries" or status in c.statuses}
    if not shown:
        st.info(f"No query has the status “{plain_label(status)}”.")
        return None
    # The options follow the filter, and the browser holds a choice by its label: a save that
    # changes the chosen query's label (its status) reset the box to the first query. So the
    # key names the labels too, and the choice (this session's, else the URL's) is carried
    # over to a new key.
    labels = zlib.crc32("\n".join(c.label for c in shown.values()).encode("utf-8"))
    widget_key = f"{key}_{STATUSES.index(status) if status in STATUSES else 'all'}_{labels:08x}"
    state = st.session_state
    raw = st.query_params.get("q")
    wanted = url_int(raw)
    if raw is not None and wanted is None:
        # a crafted address: say so once, and drop it so the message does not repeat
        st.warning(f"The address names no query (“q={plain_label(raw[:20])}{'…' if len(raw) > 20 else ''}”); "
                   "pick one below.")
        del st.query_params["q"]
    if widget_key not in state:
        for candidate in (state.get(PICKED_KEY), wanted):
            if candidate in shown:
                state[widget_key] = candidate
                break
    index = c2.selectbox(f"{plain_label(label)} ({len(shown):,} shown; type to search)", list(shown), key=widget_key,
                         format_func=lambda i: shown[i].label,
                         help="Type any part of the index, domain, subdomain, first words or status.")
    if index is not None:
        state[PICKED_KEY] = index
        if st.query_params.get("q") != str(index):
            st.query_params["q"] = str(index)
    return index


def show_conflict(exc: EditConflict) -> None:
    """A refused save: the newer version beside the refused text (an instruction), or the
    segments each keeps (a material), so nothing chosen or typed is lost."""
    st.error(plain_label(for_person(exc)), icon=":material/sync_problem:")
    if exc.kind == "material":  # its contents are kept segment positions
        newer, yours = cast(list[int], exc.newer_content), cast(list[int], exc.yours)
        st.caption(f"Version {exc.newer_version_no:d} keeps segments {', '.join(f'{p + 1:d}' for p in newer)}; "
                   f"your choice keeps {', '.join(f'{p + 1:d}' for p in yours)}.")
        return
    c1, c2 = st.columns(2)
    with c1:
        st.markdown(f"**Version {exc.newer_version_no:d}** by {plain_label(exc.newer_author)}")
        scroll_pane(str(exc.newer_content), height=240, fixed=True)
    with c2:
        st.markdown("**Your text** (not saved, still in the editor)")
        scroll_pane(str(exc.yours), height=240, fixed=True)


def show_unified_diff(diff: str) -> None:
    """A unified diff as a code block with wrapped lines (or a note when empty)."""
    if diff:
        st.code(diff, language="diff", wrap_lines=True)  # long paragraphs are one line each
    else:
        st.caption("No textual change.")
