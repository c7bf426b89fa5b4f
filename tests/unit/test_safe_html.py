"""Untrusted markdown rendered to HTML on the server (annotate.ui.safe_html) and the
annotator's text view built from it (annotate.ui.panes.text_view_html).

Expected HTML strings are written by hand from the CommonMark rules (comments say why);
the hostile corpus is checked with the standard library's HTML parser, independently of
the renderer: only an allowlist of tags and attributes may appear, every link target must
be http(s), mailto or relative, and nothing may carry ``src``.
"""

from __future__ import annotations

import pytest

from annotate.ui.panes import text_view_html
from annotate.ui.safe_html import markdown_to_safe_html
from tests.fixtures.html_inventory import inventory

ALLOWED_TAGS = {"p", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "s", "code", "pre", "a", "blockquote",
                "table", "thead", "tbody", "tr", "th", "td", "br", "hr"}
ALLOWED_ATTRS = {"a": {"href", "title", "target", "rel"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}


# ----------------------------------------------------------------- hand-derived outputs


@pytest.mark.parametrize("source,expected", [
    # Raw HTML is never parsed (html option off): the tag is escaped text in a paragraph.
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    # An image becomes a link to it, labelled with its alt text; nothing is fetched.
    ("![chart](https://x.example/c.png)",
     '<p><a href="https://x.example/c.png" target="_blank" rel="noopener noreferrer nofollow">image: chart</a></p>'),
    # A javascript: target is refused, so the brackets stay literal text (CommonMark).
    ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>"),
    # Headings are lowered by three levels, at most to h6.
    ("# One\n### Three\n##### Five", "<h4>One</h4><h6>Three</h6><h6>Five</h6>"),
    # Soft line break = a space; two trailing spaces = <br>; no "\n" left anywhere.
    ("a\nb  \nc", "<p>a b<br>c</p>"),
    # Code keeps its newlines as &#10; (one-line output) and its "<" escaped.
    ("```\nx < 1\ny\n```", "<pre><code>x &lt; 1&#10;y&#10;</code></pre>"),
    # $ has no meaning (no LaTeX): prices stay as written.
    ("costs $5 and $10", "<p>costs $5 and $10</p>"),
    # GFM table and strikethrough are on.
    ("| a |\n|---|\n| 1 |", "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"),
    ("~~old~~", "<p><s>old</s></p>"),
])
def test_hand_derived_renderings(source, expected):
    assert markdown_to_safe_html(source) == expected


def test_empty_and_none_render_nothing():
    assert markdown_to_safe_html("") == "" and markdown_to_safe_html(None) == ""


def test_code_newlines_come_back_when_the_html_is_parsed():
    parsed = inventory(markdown_to_safe_html("```python\nif a:\n    b()\n```"))
    assert "".join(parsed.text) == "if a:\n    b()\n"


# ----------------------------------------------------------------- hostile corpus

HOSTILE = [
    '<img src="http://127.0.0.1:9/p.png" onerror="alert(1)">',
    "<iframe src=http://127.0.0.1:9/></iframe>",
    "<svg onload=alert(1)></svg>",
    "<scr<script>ipt>alert(1)</script>",
    "<!-- <img src=x> -->",
    "<a href='javascript:alert(1)'>x</a>",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox)",
    "[x](file:///etc/passwd)",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x][ref]\n\n[ref]: http://127.0.0.1:9/tracker.gif",
    "[ref]: javascript:alert(1)\n\n[ref]",
    "<javascript:alert(1)>",
    '[x](http://ok.example "a\\" onmouseover=\\"alert(1)")',
    "<style>body{background:url(http://127.0.0.1:9/css)}</style>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "`<img src=x onerror=alert(1)>`",
    "| <img src=x> | b |\n|---|---|\n| [y](javascript:z) | ![i](http://127.0.0.1:9/i) |",
    "- <b onclick=alert(1)>x</b>\n  > <iframe>",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_yields_only_allowed_tags_and_targets(source):
    html = markdown_to_safe_html(source)
    assert "\n" not in html
    for tag, attrs in inventory(html).tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attrs) <= ALLOWED_ATTRS.get(tag, set()), (tag, attrs)
        if tag == "a":
            href = (attrs.get("href") or "").strip().lower()
            scheme = href.split(":", 1)[0] if ":" in href.split("/", 1)[0] else ""
            assert scheme in {"", "http", "https", "mailto"}, href
            assert attrs["rel"] == "noopener noreferrer nofollow" and attrs["target"] == "_blank"
        if tag in {"th", "td"} and "style" in attrs:
            assert attrs["style"].startswith("text-align:"), attrs


def test_hostile_markup_shows_as_text():
    parsed = inventory(markdown_to_safe_html('Hi <img src="http://127.0.0.1:9/p.png" onerror="x()">'))
    assert "".join(parsed.text) == 'Hi <img src="http://127.0.0.1:9/p.png" onerror="x()">'
    assert [tag for tag, _ in parsed.tags] == ["p"]


# ----------------------------------------------------------------- the text view


def test_text_view_has_one_pane_per_text_and_escapes_titles():
    html = text_view_html(query="Write **two** lines.",
                          materials=(("Notes <script>", "- point one"), ("", "")),
                          responses=(("Response A", "# Title"), ("Response B", "")))
    assert "\n" not in html
    parsed = inventory(html)
    tags = [tag for tag, _ in parsed.tags]
    # "- point one" is 11 characters; the second material has no title and no text.
    assert tags.count("details") == 2 and tags.count("summary") == 2
    assert tags.count("section") == 3  # the query and the two responses
    regions = [attrs["aria-label"] for tag, attrs in parsed.tags if attrs.get("role") == "region"]
    assert regions == ["Query", "Material 1: Notes <script> (11 characters)", "Material 2: untitled (0 characters)",
                       "Response A", "Response B"]
    text = " ".join("".join(parsed.spaced).split())
    assert "Materials 2 documents Material 1: Notes <script> (11 characters)" in text  # titles are text
    assert "script" not in tags
    assert "Response B 0 characters (empty)" in text
    assert "<h4>Title</h4>" in html  # the response's own "#" heading, lowered


def test_text_view_bounds_every_pane_height():
    html = text_view_html(query="q", materials=(("m", "x"),), responses=(("A", "a"), ("B", "b")),
                          query_height=111, material_height=222, pane_height=333)
    styles = [attrs.get("style") for _, attrs in inventory(html).tags if attrs.get("style")]
    assert styles == ["max-height:111px;margin-top:.4rem", "max-height:222px", "max-height:333px",
                      "max-height:333px"]


def test_rendering_from_many_threads_gives_the_same_html():
    """App sessions render on their own threads with one shared parser."""
    from concurrent.futures import ThreadPoolExecutor

    from annotate.ui import safe_html

    texts = [f"# Part {i}\n\n" + "Some *text* with a [link](https://e.example/x) and `a<b`.\n\n" * 80
             + "```\ncode <x>\n```\n![i](http://a.example/b) [bad](javascript:x)" for i in range(8)]
    expected = [safe_html._PARSER.render(t) for t in texts]  # one thread, one at a time
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(safe_html._PARSER.render, texts * 4)) == expected * 4
