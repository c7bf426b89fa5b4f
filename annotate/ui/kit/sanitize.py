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
    # nh3 0.3 takes time quadratic in the number of characters it escapes in one text (1 MB
    # of "&" or U+00A0: 7 s and 15 s). Each such character goes through as a private-use
    # stand-in and comes back as the very entity nh3 writes for it.
    stand_ins: list[tuple[str, str]] = []
    for entities, written in _ESCAPED:
        if not any(entity in html for entity in entities):
            continue
        stand_in = _absent_character(html)
        for entity in entities:
            html = html.replace(entity, stand_in)
        stand_ins.append((stand_in, written))
    clean = nh3.clean(html, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=set(SAFE_SCHEMES), link_rel=LINK_REL,
                      filter_style_properties={"text-align"}, strip_comments=True)
    if "<pre>" in clean:
        clean = _keep_pre_newlines(clean)
    clean = clean.replace("\n", "")
    for stand_in, written in stand_ins:
        clean = clean.replace(stand_in, written)
    return clean


_ESCAPED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("&amp;",), "&amp;"), (("&lt;",), "&lt;"), (("&gt;",), "&gt;"),
    (("\u00a0", "&nbsp;", "&#160;"), "&nbsp;"))
"""Entities (and characters) passed through nh3 as stand-ins, and what nh3 writes for each."""


def _absent_character(text: str) -> str:
    """A private-use character that does not occur in ``text`` (almost always U+E000)."""
    for code in range(0xE000, 0xF900):
        if chr(code) not in text:
            return chr(code)
    raise ValueError("the text uses every private-use character")  # needs 6,400 distinct ones


def _keep_pre_newlines(html: str) -> str:
    """Newlines from each ``<pre>`` to the next ``</pre>`` become ``&#10;``.

    A scan with ``str.find`` (linear); a lazy ``<pre>.*?</pre>`` regex rescans to the end of
    the text from every unclosed ``<pre>`` (quadratic).
    """
    out: list[str] = []
    done = 0
    while True:
        start = html.find("<pre>", done)
        end = html.find("</pre>", start + 5) if start >= 0 else -1
        if end < 0:
            break
        end += len("</pre>")
        out.append(html[done:start])
        out.append(html[start:end].replace("\n", "&#10;"))
        done = end
    out.append(html[done:])
    return "".join(out)
