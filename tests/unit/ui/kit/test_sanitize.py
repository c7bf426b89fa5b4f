"""Plain text in Streamlit's markdown (annotate.ui.kit.safe_markdown.plain_label) and the nh3
sanitizer (annotate.ui.kit.sanitize.sanitize_html).

``plain_label`` is checked against an independent CommonMark parser (markdown-it-py, GFM
tables and strikethrough on, as Streamlit's remark-gfm): the escaped text must render as one
paragraph whose visible text is the input itself, with no element other than ``<p>`` and
``<br>``. The sanitizer is checked with the standard library's HTML parser.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from annotate.ui.kit.safe_markdown import plain_label
from annotate.ui.kit.sanitize import sanitize_html
from tests.fixtures.html_inventory import inventory

_COMMONMARK = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

HOSTILE_TEXT = [
    "**bold** _em_ ~~s~~ `code`",
    "![pixel](http://127.0.0.1:9/p.png)",
    "![x][r]\n\n[r]: http://127.0.0.1:9/r.png",
    '<img src="http://127.0.0.1:9/p.png" onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    "[click](javascript:alert(1)) <javascript:alert(1)> <http://127.0.0.1:9/auto>",
    "# heading\n- item\n1. item\n> quote\n    indented code",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "setext\n===",
    ":red[coloured] :material/home: $x^2$ $$y$$ \\(z\\)",
    "&lt;b&gt; &amp; &#60;i&#62;",
    "trailing backslash \\",
    "tab\tand  spaces",
    "中文：标准，“引号”",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_plain_label_renders_as_its_own_text_and_nothing_else(text):
    html = _COMMONMARK.render(plain_label(text))
    parsed = inventory(html)
    assert {tag for tag, _ in parsed.tags} <= {"p", "br"}, html
    # Line breaks become <br> plus a newline; leading spaces of a line are dropped.
    expected = "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())
    assert "".join(parsed.text).strip() == expected


def test_plain_label_of_none_and_numbers():
    assert plain_label(None) == ""
    assert plain_label(3) == "3"
    assert plain_label(-2.5) == "\\-2\\.5"  # "-" would start a list, "." could end an ordered marker


HOSTILE_HTML = [
    '<img src="http://127.0.0.1:9/p.png" onerror="alert(1)">',
    "<iframe src=http://127.0.0.1:9/></iframe><object data=x></object><embed src=x>",
    "<svg onload=alert(1)><image href=http://127.0.0.1:9/s /></svg>",
    "<a href='javascript:alert(1)'>x</a><a href=' JaVaScRiPt:alert(1)'>y</a>",
    "<a href='data:text/html,<script>alert(1)</script>'>d</a>",
    "<p style='background:url(http://127.0.0.1:9/css)'>s</p>",
    "<td style='text-align:left;background-image:url(http://127.0.0.1:9/td)'>t</td>",
    "<style>body{background:url(http://127.0.0.1:9/css)}</style><link rel=stylesheet href=http://127.0.0.1:9/l>",
    "<form action=http://127.0.0.1:9/f><input autofocus onfocus=alert(1)></form>",
    "<math><mi xlink:href=javascript:alert(1)>m</mi></math><base href=http://127.0.0.1:9/>",
    "<!-- <img src=x> --><scr<script>ipt>alert(1)</script>",
]


@pytest.mark.parametrize("source", HOSTILE_HTML)
def test_sanitizer_keeps_only_allowlisted_tags_attributes_and_schemes(source):
    html = sanitize_html(source)
    assert "\n" not in html
    for tag, attrs in inventory(html).tags:
        assert tag in {"p", "a", "td", "code", "pre"}, (tag, html)
        if tag == "a":
            assert set(attrs) <= {"href", "rel"}, attrs
            assert (attrs.get("href") or "http:").lower().startswith(("http:", "https:", "mailto:")), attrs
            assert attrs["rel"] == "noopener noreferrer nofollow"
        else:
            assert set(attrs) <= {"style"}, (tag, attrs)
            assert attrs.get("style") in (None, "text-align:left"), attrs
    assert "alert" not in "".join(v or "" for _, a in inventory(html).tags for v in a.values())
    assert not any("127.0.0.1" in (v or "") for _, a in inventory(html).tags for v in a.values())


def test_sanitizer_keeps_code_newlines_as_character_references():
    # "<pre><code>a\nb</code></pre>\n<p>c</p>\n": the newline in code must survive, as &#10;.
    assert sanitize_html("<pre><code>a\nb</code></pre>\n<p>c</p>\n") == "<pre><code>a&#10;b</code></pre><p>c</p>"
