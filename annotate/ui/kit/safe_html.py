"""Untrusted markdown (queries, materials, model responses) as safe HTML, on the server.

The annotator pages show a query and two long responses on every rerun. Rendering them
once here (cached) and sending one HTML element is much cheaper per rerun than sending
each text as a Streamlit markdown element (which re-scans every line of a 40k-character
text on every rerun), and it lets the page control exactly what reaches the browser:

* raw HTML in the text is never parsed (markdown-it's ``html`` option is off): ``<script>``
  or ``<img onerror=...>`` show literally, as text;
* images are never loaded: ``![alt](url)`` becomes a link labelled ``image: alt``;
* links keep only ``http``, ``https``, ``mailto`` or relative targets
  (:data:`annotate.ui.kit.safe_markdown.SAFE_SCHEMES`); others stay plain text. Links open
  in a new tab with ``rel="noopener noreferrer nofollow"``;
* line breaks show as written (markdown-it's ``breaks``: one newline is a ``<br>``, as in
  chat interfaces), and a numbered list may start at any number even right after a line
  of text (CommonMark lets only "1." interrupt a paragraph, so "3. x" under a sentence
  would run on as prose while its rival's "1. x" shows as a list: a formatting bias);
* headings are lowered by three levels (a response's "# Title" is an ``<h4>``), so a
  response does not shout over the page's own headings;
* ``$`` means nothing (no LaTeX), as in :func:`annotate.ui.kit.safe_markdown.to_safe_markdown`;
* the result has no line-feed characters (newlines inside code blocks are written as
  ``&#10;``): Streamlit scans an HTML body line by line on every rerun, one line is cheap.

The rendered HTML then goes through the maintained sanitizer nh3
(:func:`annotate.ui.kit.sanitize.sanitize_html`: an allowlist of tags and attributes, no ``img``),
so even a bug in the renderer cannot let markup through. Streamlit's ``st.html`` passes the
result through DOMPurify in the browser as well.

Example:
    >>> markdown_to_safe_html('# Plan\\n\\nHi <b>x</b> ![p](http://t.example/p.png)')
    '<h4>Plan</h4><p>Hi &lt;b&gt;x&lt;/b&gt; <a href="http://t.example/p.png" \
target="_blank" rel="noopener noreferrer nofollow">image: p</a></p>'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block.list import list_block, skipOrderedListMarker
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.token import Token

from annotate.ui.kit.safe_markdown import is_safe_url
from annotate.ui.kit.sanitize import sanitize_html

__all__ = ["markdown_to_safe_html", "HEADING_SHIFT"]

HEADING_SHIFT = 3
"""Levels a heading is lowered by (``#`` -> ``<h4>``; never below ``<h6>``)."""

_LINK_ATTRS = ' target="_blank" rel="noopener noreferrer nofollow"'


def _heading_tag(token: Token) -> str:
    level = int(token.tag[1])
    return f"h{min(6, level + HEADING_SHIFT)}"


def _heading_open(renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f"<{_heading_tag(tokens[idx])}>"


def _heading_close(renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f"</{_heading_tag(tokens[idx])}>"


def _link_open(renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    title = token.attrGet("title")
    title_attr = f' title="{escape(str(title))}"' if title else ""
    return f'<a href="{escape(href)}"{title_attr}{_LINK_ATTRS}>'


def _image(renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image as a link to it: nothing is fetched unless the reader clicks."""
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or [])
    label = f"image: {escape(alt)}" if alt else "image"
    return f'<a href="{escape(str(token.attrGet("src") or ""))}"{_LINK_ATTRS}>{label}</a>'


def _code_text(content: str) -> str:
    return escape(content, quote=False)


def _fence(renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f"<pre><code>{_code_text(tokens[idx].content)}</code></pre>"


def _softbreak(renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return "<br>"  # a line break as written


def _list_any_start(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it's list rule, except that an ordered list starting at any number (not
    only 1) may end the paragraph above it; an empty item still may not."""
    if silent and state.parentType == "paragraph":
        after = skipOrderedListMarker(state, start_line)
        if after >= 0 and state.skipSpaces(after) < state.eMarks[start_line]:
            state.parentType = "list_interrupt"  # not "paragraph": the start-at-1 check is skipped
            try:
                return list_block(state, start_line, end_line, silent)
            finally:
                state.parentType = "paragraph"
    return list_block(state, start_line, end_line, silent)


def _hardbreak(renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return "<br>"


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.block.ruler.at("list", _list_any_start, {"alt": ["paragraph", "reference", "blockquote"]})
    parser.validateLink = is_safe_url  # type: ignore[method-assign]
    rules = {"heading_open": _heading_open, "heading_close": _heading_close, "link_open": _link_open,
             "image": _image, "fence": _fence, "code_block": _fence, "softbreak": _softbreak,
             "hardbreak": _hardbreak}
    for name, rule in rules.items():
        parser.add_render_rule(name, rule)  # bound to the renderer: called with (tokens, idx, options, env)
    return parser


_PARSER = _parser()


@functools.lru_cache(maxsize=64)
def markdown_to_safe_html(text: str | None) -> str:
    r"""``text`` (untrusted markdown) as HTML that runs nothing and loads nothing.

    One line (no ``\n``), passed through :func:`annotate.ui.kit.sanitize.sanitize_html`; kept
    for the last 64 texts, as every rerun of a page shows the same task again.

    Example:
        >>> markdown_to_safe_html("[x](javascript:alert(1)) and `a<b`\n\n```\n1\n2\n```")
        '<p>[x](javascript:alert(1)) and <code>a&lt;b</code></p><pre><code>1&#10;2&#10;</code></pre>'
    """
    if not text:
        return ""
    return sanitize_html(_PARSER.render(text))
