"""The one HTML sanitizer of the app: a maintained library (nh3, the Ammonia sanitizer).

Every HTML string built from untrusted text (queries, materials, responses, criteria...)
passes through :func:`sanitize_html` before it reaches ``st.html``. Only the tags of
:data:`ALLOWED_TAGS` and the attributes of :data:`ALLOWED_ATTRIBUTES` survive; link
targets keep only the schemes of :data:`annotate.ui.kit.safe_markdown.SAFE_SCHEMES`;
``style`` keeps only ``text-align`` (table column alignment); there is no ``img``,
``iframe``, ``svg`` or ``style`` element, and every link gets
``rel="noopener noreferrer nofollow"``. No Streamlit import.

Example:
    >>> sanitize_html('<p onclick="x()">a<img src="http://t.example/p.png"></p>')
    '<p>a</p>'
"""

from __future__ import annotations

import re

import nh3

from annotate.ui.kit.safe_markdown import SAFE_SCHEMES

__all__ = ["sanitize_html", "ALLOWED_TAGS", "ALLOWED_ATTRIBUTES", "LINK_REL"]

LINK_REL = "noopener noreferrer nofollow"
"""The ``rel`` of every link the sanitizer lets through."""

ALLOWED_TAGS: frozenset[str] = frozenset({
    "p", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "s", "code", "pre", "a", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "br", "hr", "mark", "sup"})
"""Tags kept (what :mod:`annotate.ui.kit.safe_html` emits for markdown; ``mark``/``sup``: the
audit page's highlighted query)."""

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title", "target"}, "ol": {"start"},
                                           "th": {"style"}, "td": {"style"}, "mark": {"title"}}
"""Attributes kept per tag (``rel`` is set by the sanitizer itself on every link)."""

_PRE_BLOCK = re.compile(r"<pre>.*?</pre>", re.DOTALL)


def sanitize_html(html: str) -> str:
    r"""``html`` with everything outside the allowlist removed, on one line.

    Newlines inside ``<pre>`` become ``&#10;`` (the sanitizer's output escapes ``<`` in
    text, so ``</pre>`` only ever closes a real block); all other newlines are dropped
    (they only separate block tags). ``<script>`` and ``<style>`` go with their content.

    Example:
        >>> sanitize_html('<p>a</p>\n<a href="javascript:x()" target="_blank">j</a>'
        ...               '<pre>1\n2</pre><script>y()</script>')
        '<p>a</p><a target="_blank" rel="noopener noreferrer nofollow">j</a><pre>1&#10;2</pre>'
    """
    clean = nh3.clean(html, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=set(SAFE_SCHEMES), link_rel=LINK_REL,
                      filter_style_properties={"text-align"}, strip_comments=True)
    if "<pre>" in clean:
        clean = _PRE_BLOCK.sub(lambda m: m.group(0).replace("\n", "&#10;"), clean)
    return clean.replace("\n", "")
