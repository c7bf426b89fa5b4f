"""Layout helpers for long texts: scrollable panes side by side, collapsible materials.

WritingBench queries reach ~31k characters and responses 40k, so nothing long is rendered
inline: every text lives in a fixed-height scrollable container (``st.container(height=...)``)
and is passed through :func:`annotate.ui.safe_markdown.to_safe_markdown` first. No DB access.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import streamlit as st

from annotate.ui.safe_markdown import to_safe_markdown

PANE_HEIGHT = 560
"""Default height in pixels of a response pane (about one screen on a laptop)."""

QUERY_HEIGHT = 260
"""Default height of the query pane: tall enough for a short query, scrolls for long ones."""


def char_count_label(text: str) -> str:
    """A short length label such as ``"12,345 characters"``.

    Example:
        >>> char_count_label("abc")
        '3 characters'
    """
    n = len(text or "")
    return f"{n:,} character" + ("" if n == 1 else "s")


_ATX_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def demote_headings(markdown: str, by: int = 3) -> str:
    r"""Lower every ATX heading of ``markdown`` by ``by`` levels (at most level 6), outside
    fenced code, so a response's own "# Title" does not look larger than the page's
    headings around its pane.

    Example:
        >>> demote_headings("# Plan\n\n```\n# a comment\n```\n## Steps")
        '#### Plan\n\n```\n# a comment\n```\n##### Steps'
    """
    lines = markdown.split("\n")
    fence: str | None = None
    for i, line in enumerate(lines):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None
            continue
        opened = _FENCE_OPEN.match(line)
        if opened:
            fence = opened.group(1)
            continue
        lines[i] = _ATX_HEADING.sub(lambda m: m.group(1) + "#" * min(6, len(m.group(2)) + by), line)
    return "\n".join(lines)


@functools.lru_cache(maxsize=64)
def pane_markdown(text: str) -> str:
    r"""``text`` as a pane shows it: safe markdown with its headings demoted.

    A pure function of the text, cached (a few dozen texts): a rerun of a page showing the
    same 40k-character responses does not scan them again.

    Example:
        >>> pane_markdown("# Plan <b>")
        '#### Plan \\<b>'
    """
    return demote_headings(to_safe_markdown(text))


SHORT_TEXT = 600
"""Texts shorter than this many characters get a pane that fits them instead of scrolling."""


def scroll_pane(text: str, *, height: int = PANE_HEIGHT, key: str | None = None,
                fixed: bool | None = None) -> None:
    """Show ``text`` as safe markdown in a bordered pane of fixed ``height`` that scrolls.

    A text shorter than :data:`SHORT_TEXT` gets a bordered pane as tall as its content,
    unless ``fixed`` says otherwise (``True``: always scroll; ``False``: never).
    """
    if fixed is None:
        fixed = len(text or "") >= SHORT_TEXT
    pane_height: int | str = height if fixed else "content"
    with st.container(height=pane_height, border=True, key=key):
        if text:
            st.markdown(pane_markdown(text))
        else:
            st.caption("(empty)")


@functools.lru_cache(maxsize=64)
def titled_pane_markdown(title: str, text: str) -> str:
    r"""``text`` as :func:`pane_markdown` shows it, under a heading ``title`` and its length.

    The heading is part of the pane's markdown (one element, not two); cached like
    :func:`pane_markdown`. An empty text shows "(empty)".

    Example:
        >>> titled_pane_markdown("Response A", "# Plan <b>")
        '#### Response A\n:gray[:small[10 characters]]\n\n---\n\n#### Plan \\<b>'
    """
    body = pane_markdown(text) if text else "_(empty)_"
    return f"#### {title}\n:gray[:small[{char_count_label(text)}]]\n\n---\n\n{body}"


def side_by_side(
    left_title: str,
    left_text: str,
    right_title: str,
    right_text: str,
    *,
    height: int = PANE_HEIGHT,
    key: str = "pair",
) -> None:
    """Two texts side by side in equal scrollable panes, each headed by its title and length.

    Five elements in all (a row, two panes, two markdown texts): the title and length head
    each pane's markdown rather than sitting above it in columns of their own.
    """
    fixed = max(len(left_text or ""), len(right_text or "")) >= SHORT_TEXT
    pane_height: int | str = height if fixed else "content"
    with st.container(horizontal=True, gap="medium"):
        for title, text, side in ((left_title, left_text, "left"), (right_title, right_text, "right")):
            with st.container(height=pane_height, border=True, key=f"{key}_{side}"):
                st.markdown(titled_pane_markdown(title, text or ""))


def materials_section(
    materials: Sequence[tuple[str, str]],
    *,
    height: int = 320,
    expanded: bool = False,
) -> None:
    """Each material as a collapsed expander holding a scrollable pane.

    Args:
        materials: ``(title, text)`` pairs in the order the query lists them.
        height: height of each material's pane.
        expanded: open every expander initially.
    """
    if not materials:
        return
    st.markdown(f"**Materials** ({len(materials)})")
    for number, (title, text) in enumerate(materials, start=1):
        safe_title = to_safe_markdown(" ".join((title or "untitled").split()))
        label = f"Material {number}: {safe_title} ({char_count_label(text)})"
        with st.expander(label, expanded=expanded):
            scroll_pane(text, height=height)
