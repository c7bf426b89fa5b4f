"""Render untrusted markdown (queries, materials, model responses) safely.

Model responses and imported materials are untrusted text. They may contain raw HTML
(``<script>``, ``<iframe>``, ``<img onerror=...>``), remote images that would make the
annotator's browser send a request (tracking pixels), or links with ``javascript:``
targets. :func:`to_safe_markdown` rewrites such text into markdown that shows all of it
*as text*, while keeping ordinary markdown (headings, lists, tables, emphasis, code)
rendering as before:

* every ``<`` outside code is backslash-escaped, so no HTML tag (or HTML comment,
  or autolink) is ever parsed; the tag shows literally as text;
* every image (``![alt](url)``, ``![alt][ref]``) becomes a plain link labelled
  ``image: alt``; nothing is fetched until a person clicks it;
* links and link reference definitions whose target is not ``http``, ``https``,
  ``mailto`` or a relative/fragment URL keep their text but lose the target;
* ``$`` outside code is escaped, so prices such as "$5 and $10" are not typeset as
  LaTeX by Streamlit's markdown.

Code spans and fenced code blocks are copied unchanged: markdown shows them literally.

The function is pure (no Streamlit import), linear in the length of the text, and keeps
its last 64 results (the same task is re-rendered on every rerun).

Example:
    >>> to_safe_markdown('Hi <script>alert(1)</script> ![x](http://t.example/p.png)')
    'Hi \\\\<script>alert(1)\\\\</script> [image: x](http://t.example/p.png)'
    >>> to_safe_markdown("Use `a<b` and pay $5")
    'Use `a<b` and pay \\\\$5'
"""

from __future__ import annotations

import functools
import re

__all__ = ["to_safe_markdown", "plain_label", "is_safe_url", "SAFE_SCHEMES"]

SAFE_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

# A fenced code block is only recognised when its opening fence starts at column 0: such a
# fence is always at the top level, so only a closing fence ends it. (An indented fence may
# sit in a list item that ends earlier; it is treated as prose, which is always safe.)
_FENCE_RE = re.compile(r"^(`{3,}|~{3,})(.*)$")
# Link reference definition: [label]: destination
_REF_DEF_RE = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(<[^>\n]*>|\S+)(.*)$")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


# Every ASCII punctuation character may be backslash-escaped in CommonMark (and so in
# Streamlit's markdown, its widget labels and help tooltips); escaped, none has a meaning.
_PUNCTUATION_RE = re.compile(r"([!-/:-@\[-`{-~])")
# The look-behind makes a match start only at the first blank of a run: without it, every
# blank of a long run followed by no line break is retried to the end of the run (quadratic).
_LINE_BREAKS_RE = re.compile(r"(?<![ \t])[ \t]*(?:\r\n|\r|\n)[ \t\r\n]*")


def plain_label(text: object) -> str:
    r"""``text`` as Streamlit markdown that shows it literally, character for character.

    For anything from an import, an upload or a user shown where Streamlit parses markdown:
    ``st.markdown``/``st.caption``/alerts, widget labels, ``help=`` tooltips, radio and pills
    options. Every ASCII punctuation character is backslash-escaped, so no emphasis, link,
    image, HTML, heading, list, table, ``:color[...]`` directive or ``$`` math can form;
    line breaks stay line breaks (markdown hard breaks) and leading spaces of a line are
    dropped (so no indented code block forms). ``None`` is the empty string; other
    objects are shown as ``str()`` gives them.

    Example:
        >>> plain_label("**B** ![x](http://t.example/p.png) <b>")
        '\\*\\*B\\*\\* \\!\\[x\\]\\(http\\:\\/\\/t\\.example\\/p\\.png\\) \\<b\\>'
        >>> plain_label("line 1\n  - line 2")
        'line 1  \n\\- line 2'
    """
    if text is None:
        return ""
    value = str(text).replace("\x00", "\ufffd").strip()
    return _LINE_BREAKS_RE.sub("  \n", _PUNCTUATION_RE.sub(r"\\\1", value))


def is_safe_url(url: str) -> bool:
    """Whether a link target may be kept: http(s), mailto, or without any scheme."""
    target = url.strip().strip("<>").strip()
    # Browsers ignore control characters and whitespace inside a scheme ("java\tscript:").
    compact = re.sub(r"[\x00-\x20]", "", target)
    match = _SCHEME_RE.match(compact)
    if match is None:
        return True
    return match.group(1).lower() in SAFE_SCHEMES


def _destination_end(text: str, start: int) -> int:
    """End index of the inline link destination starting at ``start`` (CommonMark rules).

    ``<...>`` runs to the ``>``; otherwise the destination runs until whitespace or a
    ``)`` that does not close a ``(`` inside it (balanced parentheses are allowed).
    """
    if start < len(text) and text[start] == "<":
        end = text.find(">", start)
        return len(text) if end < 0 else end + 1
    depth = 0
    pos = start
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char.isspace() or ord(char) < 0x20:
            break
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        pos += 1
    return min(pos, len(text))


def _neutralise_links(text: str) -> str:
    """Drop unsafe inline link targets: ``[t](javascript:x)`` becomes ``[t](#)``."""
    if "](" not in text:
        return text
    out: list[str] = []
    pos = 0
    while True:
        found = text.find("](", pos)
        if found < 0:
            break
        start = found + 2
        while start < len(text) and text[start] in " \t":
            start += 1
        end = _destination_end(text, start)
        out.append(text[pos:start])
        destination = text[start:end]
        out.append(destination if is_safe_url(destination) else "#")
        pos = end
    out.append(text[pos:])
    return "".join(out)


# One left-to-right pass over a prose block finds either an inline code span on one line
# (an opening run of N backticks, not preceded by a backslash, up to the next run of
# exactly N backticks on the same line) or a character to escape with the run of
# backslashes before it. It is a hand-written scan rather than one regular expression so
# that it stays linear in the length of the block whatever the text (a regex with a lazy
# code-span body and a ``\\*`` prefix backtracks quadratically on long backslash runs
# and many unmatched backtick runs).
_TOKEN_RE = re.compile(r"`+|<|\$|!\[")
_REPLACEMENT = {"<": "\\<", "$": "\\$", "![": "[image: "}


def _closing_runs(block: str) -> dict[int, int]:
    """For each backtick run that has one, the end of the next run of the same length on its line.

    Keys are run starts; runs are maximal (never preceded or followed by a backtick).
    """
    runs: list[tuple[int, int]] = []
    pos = block.find("`")
    while pos >= 0:
        end = pos
        while end < len(block) and block[end] == "`":
            end += 1
        runs.append((pos, end))
        pos = block.find("`", end)
    closing: dict[int, int] = {}
    later: dict[int, int] = {}  # run length -> end of the nearest later run on the same line
    line_end = len(block)
    for start, end in reversed(runs):
        if block.rfind("\n", end, line_end) >= 0:  # a line break between this run and the ones seen
            later.clear()
        line_end = start
        found = later.get(end - start)
        if found is not None:
            closing[start] = found
        later[end - start] = end
    return closing


def _escape_prose(block: str) -> str:
    """Escape ``<``, ``$`` and ``![`` outside code spans (see the comment above)."""
    closing = _closing_runs(block) if "`" in block else {}
    out: list[str] = []
    done = 0  # everything before this index is copied or replaced
    for token in _TOKEN_RE.finditer(block):
        start, end = token.span()
        if start < done:
            continue  # inside a code span already copied
        if token.group(0)[0] == "`":
            if start > 0 and block[start - 1] == "\\":
                continue  # an escaped backtick opens nothing
            close = closing.get(start)
            if close is not None:
                out.append(block[done:close])  # code is shown literally by markdown
                done = close
            continue
        slashes = start
        while slashes > done and block[slashes - 1] == "\\":
            slashes -= 1
        if (start - slashes) % 2 == 1:  # already escaped by the author: literal
            out.append(block[done:end])
        else:
            out.append(block[done:start] + _REPLACEMENT[token.group(0)])
        done = end
    out.append(block[done:])
    return "".join(out)


def _escape_block(block: str) -> str:
    """Escape a block of prose lines, leaving inline code spans unchanged.

    Code spans are only recognised within one line and never after a backslash: where
    markdown might see a code span that this function does not, the text is escaped like
    prose (a ``<`` then shows with a backslash), which can never let HTML through.
    """
    if "](" in block:
        block = _neutralise_links(block)
    return _escape_prose(block)


def _escape_ref_definitions(block: str) -> str:
    """Replace unsafe targets of link reference definitions (``[x]: javascript:...``)."""
    if "]:" not in block:
        return block
    lines = block.split("\n")
    for i, line in enumerate(lines):
        match = _REF_DEF_RE.match(line)
        if match and not is_safe_url(match.group(2)):
            lines[i] = f"{match.group(1)}#{match.group(3)}"
    return "\n".join(lines)


@functools.lru_cache(maxsize=64)
def to_safe_markdown(text: str | None) -> str:
    """Return markdown that shows ``text`` without running or loading anything.

    Args:
        text: untrusted markdown (a query, a material, a model response). ``None`` is
            treated as the empty string.

    Returns:
        Markdown to pass to ``st.markdown(..., unsafe_allow_html=False)``: raw HTML shows
        as text, images are links, unsafe link targets are removed, ``$`` is literal;
        code spans and fenced code blocks are unchanged.

    Example:
        >>> to_safe_markdown('<img src="http://x/p.gif" onerror="steal()">')
        '\\\\<img src="http://x/p.gif" onerror="steal()">'
        >>> to_safe_markdown("[click](javascript:alert(1))")
        '[click](#)'
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    if "```" not in text and "~~~" not in text:
        return _escape_block(_escape_ref_definitions(text))
    lines = text.split("\n")
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None  # the opening fence run while inside a fenced block

    def flush_prose() -> None:
        if prose:
            block = "\n".join(prose)
            out.append(_escape_block(_escape_ref_definitions(block)))
            prose.clear()

    for line in lines:
        if fence is None:
            match = _FENCE_RE.match(line)
            # A backtick fence's info string may not contain backticks (CommonMark).
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                flush_prose()
                fence = match.group(1)
                out.append(line)
            else:
                prose.append(line)
        else:
            out.append(line)
            stripped = line.strip()
            if (
                len(line) - len(line.lstrip(" ")) <= 3
                and stripped
                and set(stripped) == {fence[0]}
                and len(stripped) >= len(fence)
            ):
                fence = None
    flush_prose()
    return "\n".join(out)
