"""Layout helpers for long texts: scrollable panes, side by side, collapsible materials.

WritingBench queries reach ~31k characters and responses 40k, so nothing long is rendered
inline: every text lives in a pane of bounded height that scrolls. No DB access.

* :func:`show_text_view` - what an annotator or auditor reads: a query, its materials
  and one or two responses, as one HTML element rendered on the server by
  :func:`annotate.ui.kit.safe_html.markdown_to_safe_html` (one element per rerun however
  many texts; the pages that show 100k characters on every rerun use it);
* :func:`scroll_pane` - a single text the same way (:func:`pane_html`), for the
  experts' editing pages.

One renderer and one rule everywhere: line breaks show as written, a numbered list keeps
its first number, and every pane can show its raw text or its full height.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import streamlit as st

from annotate.ui.kit.safe_html import markdown_to_safe_html
from annotate.ui.kit.safe_markdown import to_safe_markdown

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
    """Show ``text`` in a bordered pane of at most ``height`` pixels that scrolls, rendered
    like every other pane (:func:`pane_html`: line breaks as written, raw-text and
    full-height toggles).

    A text shorter than :data:`SHORT_TEXT` gets a pane as tall as its content, unless
    ``fixed`` says otherwise (``True``: always bounded; ``False``: never).
    """
    if fixed is None:
        fixed = len(text or "") >= SHORT_TEXT
    with st.container(key=key):
        st.html(PreparedHtml(pane_html(text or "", height if fixed else None)))


VIEW_CSS = """
.wj-view{container-type:inline-size;display:flex;flex-direction:column;gap:.75rem;margin-bottom:.25rem}
.wj-view .wj-label{display:flex;align-items:baseline;gap:.6rem;flex-wrap:wrap}
.wj-view .wj-label h4{margin:0;padding:0;font-size:1.25rem;font-weight:600;line-height:1.4}
.wj-view .wj-count{font-size:.8rem;opacity:.65}
.wj-view .wj-box{border:1px solid color-mix(in srgb,currentColor 20%,transparent);border-radius:.5rem;
 display:flex;flex-direction:column;min-width:0;min-height:0}
.wj-view .wj-box>.wj-label{padding:.55rem 1rem;border-bottom:1px solid color-mix(in srgb,currentColor 12%,transparent)}
.wj-view .wj-scroll{overflow:auto;padding:.5rem 1rem;flex:1 1 auto;min-height:0;overflow-wrap:anywhere}
.wj-view .wj-scroll:focus-visible{outline:2px solid color-mix(in srgb,currentColor 45%,transparent);outline-offset:-2px}
.wj-view .wj-scroll>:first-child{margin-top:0}
.wj-view .wj-scroll :is(h4,h5,h6){font-weight:600;line-height:1.3;margin:1.1rem 0 .5rem;padding:0}
.wj-view .wj-scroll h4{font-size:1.3rem}
.wj-view .wj-scroll h5{font-size:1.12rem}
.wj-view .wj-scroll h6{font-size:1rem}
.wj-view .wj-row{display:grid;grid-auto-flow:column;grid-auto-columns:minmax(0,1fr);gap:1rem;align-items:stretch}
@container (max-width:720px){.wj-view .wj-row{grid-auto-flow:row}}
.wj-view .wj-empty{font-style:italic;opacity:.65}
.wj-view table{border-collapse:collapse;margin:.5rem 0 1rem}
.wj-view th,.wj-view td{border:1px solid color-mix(in srgb,currentColor 20%,transparent);padding:.25rem .6rem;
 vertical-align:top}
.wj-view pre{white-space:pre-wrap;padding:.6rem .8rem;border-radius:.4rem;
 background:color-mix(in srgb,currentColor 6%,transparent)}
.wj-view code{font-size:.875em;padding:.1em .25em;border-radius:.25rem;
 background:color-mix(in srgb,currentColor 6%,transparent)}
.wj-view pre code{padding:0;background:none}
.wj-view blockquote{margin:.5rem 0;padding-left:.9rem;border-left:3px solid color-mix(in srgb,currentColor 25%,transparent)}
.wj-view details.wj-material>summary{cursor:pointer;padding:.55rem 1rem;list-style-position:inside}
.wj-view .wj-tools{margin-left:auto;display:flex;gap:.8rem;font-size:.8rem;opacity:.8}
.wj-view .wj-tools label{display:flex;align-items:center;gap:.25rem;cursor:pointer}
.wj-view .wj-raw{display:none}
.wj-view :is(.wj-raw,.wj-raw-only) pre{white-space:pre-wrap;margin:0;padding:0;background:none;font-size:.9rem}
.wj-view .wj-pane:has(.wj-raw-toggle:checked) .wj-scroll:not(.wj-raw){display:none}
.wj-view .wj-pane:has(.wj-raw-toggle:checked) .wj-raw{display:block}
.wj-view .wj-pane:has(.wj-big-toggle:checked),.wj-view .wj-pane:has(.wj-big-toggle:checked) :is(.wj-box,.wj-scroll){
 max-height:none!important}
.wj-view details.wj-material>.wj-label{padding:.3rem 1rem}
.wj-view details.wj-material[open]>summary{border-bottom:1px solid color-mix(in srgb,currentColor 12%,transparent)}
.wj-view .wj-folds{display:flex;flex-wrap:wrap;gap:.4rem .75rem}
.wj-view details.wj-fold{flex:1 1 18rem;min-width:0}
.wj-view details.wj-fold[open]{flex-basis:100%}
.wj-view details.wj-fold>summary{cursor:pointer;padding:.3rem .8rem;white-space:nowrap;overflow:hidden;
 text-overflow:ellipsis;font-size:.9rem}
.wj-view details.wj-fold>summary b{font-weight:600}
.wj-view details.wj-fold[open]>summary{border-bottom:1px solid color-mix(in srgb,currentColor 12%,transparent)}
.wj-view details.wj-fold .wj-first{opacity:.65}
.wj-view details.wj-fold>.wj-inner{display:flex;flex-direction:column;gap:.4rem;padding:.4rem}
.wj-view details.wj-think{margin:0 0 .6rem;padding:.2rem .6rem;border-radius:.4rem;font-size:.9rem;
 background:color-mix(in srgb,currentColor 5%,transparent)}
.wj-view details.wj-think>summary{cursor:pointer;opacity:.75}
.wj-view.wj-compact{gap:.4rem}
.wj-view.wj-compact .wj-box>.wj-label{padding:.15rem .8rem}
.wj-view.wj-compact .wj-label h4{font-size:1rem;line-height:1.5}
.wj-view.wj-compact .wj-scroll{padding:.35rem .8rem}
"""
"""Styles of :func:`text_view_html` (class names start with ``wj-``; colours follow the
text colour, so the light and the dark theme both work). Sent inside the view's element."""


_CSS_LENGTH = re.compile(r"^[0-9a-z().%+\-*/ ,]{1,80}$")


def css_height(value: int | str) -> str:
    """A pane height as CSS: pixels for a number, else a CSS length such as
    ``"calc(100vh - 300px)"`` (letters, digits and ``().%+-*/ ,`` only: nothing that can
    end the style attribute).

    Example:
        >>> css_height(260), css_height("max(240px, calc(100vh - 330px))")
        ('260px', 'max(240px, calc(100vh - 330px))')
    """
    if isinstance(value, int):
        return f"{int(value)}px"
    if not _CSS_LENGTH.match(value):
        raise ValueError(f"not a CSS length: {value!r}")
    return value


def _tools(label: str, raw_toggle: bool = True) -> str:
    """The toggles of a pane, without script: the raw text (escaped, as written) instead of
    the rendering (unless the page offers its own raw-text switch), and the full height of
    the text instead of a scrolling box."""
    name = escape(label)
    raw = (f'<label><input type="checkbox" class="wj-raw-toggle" aria-label="Show raw text: {name}">Raw text</label>'
           if raw_toggle else "")
    return (f'<span class="wj-tools">{raw}'
            f'<label><input type="checkbox" class="wj-big-toggle" aria-label="Full height: {name}">Full height</label>'
            "</span>")


def _labelled(title: str, text: str, raw_toggle: bool = True) -> str:
    return (f'<div class="wj-label"><h4>{escape(title)}</h4>'
            f'<span class="wj-count">{char_count_label(text)}</span>{_tools(title, raw_toggle)}</div>')


def raw_html(text: str) -> str:
    r"""``text`` exactly as written: escaped, in a ``<pre>`` (newlines as ``&#10;``).

    Example:
        >>> raw_html("a <b>\nc")
        '<pre>a &lt;b&gt;&#10;c</pre>'
    """
    return "<pre>" + escape(text or "", quote=False).replace("\n", "&#10;") + "</pre>"


_THINK = re.compile(r"\A\s*<think>(.*?)</think>[ \t]*\n?", re.DOTALL | re.IGNORECASE)


def split_reasoning(text: str) -> tuple[str, str]:
    r"""The rule for a model's reasoning block in a response: a ``<think>…</think>`` block at
    the very start is the model's reasoning, not its answer. It is split off (returned
    first) so a pane shows it folded, closed, above the answer; the stored text is left as
    imported, and the raw-text view shows it as written. A block anywhere else is text.

    Example:
        >>> split_reasoning("<think>\nplan\n</think>\nThe answer.")
        ('plan', 'The answer.')
        >>> split_reasoning("The answer. <think>x</think>")
        ('', 'The answer. <think>x</think>')
    """
    found = _THINK.match(text or "")
    if not found:
        return "", text or ""
    return found.group(1).strip(), text[found.end():]


def _reasoning_html(reasoning: str) -> str:
    """A closed fold holding the model's reasoning (see :func:`split_reasoning`)."""
    return (f'<details class="wj-think"><summary>Model\'s reasoning before its answer '
            f"({char_count_label(reasoning)}; not part of the answer)</summary>"
            f"{markdown_to_safe_html(reasoning)}</details>")


def _scroll(text: str, label: str, max_height: int | str | None = None, *, raw_copy: bool = True,
            raw_only: bool = False) -> str:
    """``text`` rendered in a scrolling region, focusable (a keyboard user can scroll it)
    and named ``label`` for screen readers; beside it (``raw_copy``) the raw text, shown by
    its toggle. ``raw_only``: the region shows the raw text instead of the rendering."""
    style = f' style="max-height:{css_height(max_height)}"' if max_height else ""
    if raw_only:
        return f'<div class="wj-scroll wj-raw-only"{style} tabindex="0" role="region" aria-label="{escape(label)}">' \
               f"{raw_html(text)}</div>"
    reasoning, answer = split_reasoning(text)
    body = ((_reasoning_html(reasoning) if reasoning else "") + markdown_to_safe_html(answer)
            or '<p class="wj-empty">(empty)</p>')
    region = f'<div class="wj-scroll"{style} tabindex="0" role="region" aria-label="{escape(label)}">{body}</div>'
    if not raw_copy:
        return region
    return (region + f'<div class="wj-scroll wj-raw"{style} tabindex="0" aria-label="{escape(label)} (raw text)">'
            f"{raw_html(text)}</div>")


def first_words(text: str, limit: int = 90) -> str:
    r"""The start of ``text`` on one line (whitespace collapsed), cut at ``limit`` characters.

    Example:
        >>> first_words("Write a\n\nreport  about x", 12)
        'Write a repo…'
    """
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[:limit].rstrip() + "…"


def _material(number: int, title: str, text: str, height: int | str, raw_toggles: bool,
              raw: tuple[str, ...]) -> str:
    name = " ".join((title or "untitled").split())
    summary = f"Material {number}: {name} ({char_count_label(text)})"
    return (f'<details class="wj-material wj-box wj-pane"><summary>{escape(summary)}</summary>'
            f'<div class="wj-label">{_tools(summary, raw_toggles)}</div>'
            f"{_scroll(text, summary, height, raw_copy=raw_toggles, raw_only=summary in raw)}</details>")


def _folds(line: str, query: str | None, query_title: str, materials: tuple[tuple[str, str], ...],
           query_height: int | str, material_height: int | str, raw_toggles: bool, raw: tuple[str, ...]) -> str:
    """The query and the materials, each folded to one line (see :func:`text_view_html`)."""
    parts = ['<div class="wj-folds">']
    if query is not None:
        parts.append(f'<details class="wj-fold wj-box wj-pane wj-query" data-fold="query"><summary><b>'
                     f"{escape(query_title)}</b> · {escape(line)} · {char_count_label(query)} · "
                     f'<span class="wj-first">{escape(first_words(query))}</span></summary>'
                     f'<div class="wj-label" style="padding:.2rem .8rem">{_tools(query_title, raw_toggles)}</div>'
                     f"{_scroll(query, query_title, query_height, raw_copy=raw_toggles, raw_only=query_title in raw)}"
                     "</details>")
    if materials:
        count = f"{len(materials)} document" + ("" if len(materials) == 1 else "s")
        names = "; ".join(" ".join((t or "untitled").split()) for t, _ in materials)
        parts.append(f'<details class="wj-fold wj-box" data-fold="materials"><summary><b>Materials</b> · {count} · '
                     f'<span class="wj-first">{escape(first_words(names))}</span></summary><div class="wj-inner">')
        parts.extend(_material(n, t, x, material_height, raw_toggles, raw) for n, (t, x) in enumerate(materials, 1))
        parts.append("</div></details>")
    parts.append("</div>")
    return "".join(parts)


@functools.lru_cache(maxsize=32)
def text_view_html(
    *,
    query: str | None = None,
    query_title: str = "Query",
    materials: tuple[tuple[str, str], ...] = (),
    responses: tuple[tuple[str, str], ...] = (),
    query_height: int | str = QUERY_HEIGHT,
    material_height: int | str = 320,
    pane_height: int | str = PANE_HEIGHT,
    raw_toggles: bool = True,
    raw: tuple[str, ...] = (),
    fold: str = "",
) -> str:
    r"""One HTML element showing a query, its materials and one or two responses.

    * the query (when given) under its heading, in a bordered pane of at most
      ``query_height`` pixels that scrolls;
    * each material as a collapsed ``<details>`` ("Material 1: title (n characters)")
      holding a pane of at most ``material_height`` pixels;
    * the responses side by side in equal bordered panes of at most ``pane_height``
      pixels, each headed by its title and length (which stay put while the text scrolls);
      on a narrow screen they stack.

    Heights are pixels or CSS lengths (:func:`css_height`, e.g. ``"calc(100vh - 300px)"``).
    Every pane has two toggles: "Raw text" (the text exactly as written, escaped) and
    "Full height" (the whole text, no scrolling box), so a 31k-character query is readable.
    With ``raw_toggles=False`` the raw copy is left out (it doubles what is sent on every
    rerun) and the page switches panes to raw text itself: the query or responses whose
    titles are in ``raw`` show their raw text instead of the rendering.

    ``fold`` (a line such as ``"Query 37 · Domain › Subdomain"``), when given, lays the
    view out for reading two responses: the query and the materials each fold to a
    one-line summary (the fold's line, the length and the first words; ``<details
    data-fold="query">`` and ``data-fold="materials"``) side by side, which the person opens
    on a click, and the headers are compact. The judging page's script remembers each
    fold's state per person (:mod:`annotate.ui.annotate.judge_keys`).

    Every text is rendered by :func:`annotate.ui.kit.safe_html.markdown_to_safe_html`; titles
    are escaped. The styles (:data:`VIEW_CSS`) travel with it, and the result has no
    line feeds. Cached: a rerun showing the same task sends the same string again.

    Example:
        >>> html = text_view_html(query="Write <b>x</b>", responses=(("Response A", "# Hi"),))
        >>> "Write &lt;b&gt;x&lt;/b&gt;" in html and "<h4>Hi</h4>" in html and "\n" not in html
        True
    """
    parts = [f"<style>{VIEW_CSS}</style>", '<div class="wj-view wj-compact">' if fold else '<div class="wj-view">']
    if fold:
        parts.append(_folds(fold, query, query_title, materials, query_height, material_height, raw_toggles, raw))
        query, materials = None, ()
    if query is not None:
        parts.append(f'<section class="wj-query wj-pane">{_labelled(query_title, query, raw_toggles)}'
                     f'<div class="wj-box" style="max-height:{css_height(query_height)};margin-top:.4rem">'
                     f"{_scroll(query, query_title, raw_copy=raw_toggles, raw_only=query_title in raw)}</div></section>")
    if materials:
        count = f"{len(materials)} document" + ("" if len(materials) == 1 else "s")
        parts.append(f'<div class="wj-label"><h4>Materials</h4><span class="wj-count">{count}</span></div>')
        parts.extend(_material(n, t, x, material_height, raw_toggles, raw) for n, (t, x) in enumerate(materials, 1))
    if responses:
        parts.append('<div class="wj-row">')
        for title, text in responses:
            parts.append(f'<section class="wj-box wj-response wj-pane" style="max-height:{css_height(pane_height)}">'
                         f"{_labelled(title, text or '', raw_toggles)}"
                         f"{_scroll(text or '', title, raw_copy=raw_toggles, raw_only=title in raw)}</section>")
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts).replace("\n", "")


@functools.lru_cache(maxsize=32)
def pane_html(text: str, height: int | str | None = PANE_HEIGHT, label: str = "Text") -> str:
    r"""One text in a bordered pane (at most ``height`` tall; ``None``: as tall as the text)
    with the raw-text and full-height toggles, rendered as in :func:`text_view_html`.

    Example:
        >>> html = pane_html("one\ntwo", 200)
        >>> "one<br>two" in html and "max-height:200px" in html and "Raw text" in html
        True
    """
    return (f'<style>{VIEW_CSS}</style><div class="wj-view"><div class="wj-pane">'
            f'<div class="wj-label">{_tools(label)}</div><div class="wj-box">'
            f"{_scroll(text, label, height)}</div></div></div>").replace("\n", "")


@dataclass(frozen=True)
class PreparedHtml:
    """HTML handed to ``st.html`` through its documented ``_repr_html_`` protocol.

    Streamlit takes such a body as it is, where a plain string is first dedented, a
    regular-expression scan of every character (about 2 ms per 100k characters, on every
    rerun); :func:`text_view_html` has no indentation to remove.

    Example:
        >>> PreparedHtml("<p>x</p>")._repr_html_()
        '<p>x</p>'
    """

    html: str

    def _repr_html_(self) -> str:
        return self.html


def show_text_view(
    *,
    query: str | None = None,
    materials: Sequence[tuple[str, str]] = (),
    responses: Sequence[tuple[str, str]] = (),
    **sizes: Any,
) -> None:
    """Show :func:`text_view_html` as one ``st.html`` element (one message per rerun).

    ``sizes``: ``query_height``, ``material_height``, ``pane_height`` (pixels or CSS
    lengths), and ``raw_toggles``/``raw`` as :func:`text_view_html` takes them.
    """
    html = text_view_html(query=query, materials=tuple((str(t or ""), str(x or "")) for t, x in materials),
                          responses=tuple((str(t), str(x or "")) for t, x in responses), **sizes)
    st.html(PreparedHtml(html))
