"""Untrusted markdown rendered to HTML on the server (annotate.ui.kit.safe_html) and the
annotator's text view built from it (annotate.ui.kit.panes.text_view_html).

Expected HTML strings are written by hand from the CommonMark rules (comments say why);
the hostile corpus is checked with the standard library's HTML parser, independently of
the renderer: only an allowlist of tags and attributes may appear, every link target must
be http(s), mailto or relative, and nothing may carry ``src``.
"""

from __future__ import annotations

import pytest

from annotate.ui.kit.panes import text_view_html
from annotate.ui.kit.safe_html import markdown_to_safe_html
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
    # Line breaks as written: one newline and two trailing spaces are both <br>; no "\n" left.
    ("a\nb  \nc", "<p>a<br>b<br>c</p>"),
    # A numbered list keeps its first number, even right under a line of text (CommonMark
    # would let only "1." end the paragraph and run "3. x" on as prose).
    ("Steps:\n3. x\n4. y", '<p>Steps:</p><ol start="3"><li>x</li><li>y</li></ol>'),
    # A bare "3." (an empty item) still does not end a paragraph: it is a line of text.
    ("total\n3.\nmore", "<p>total<br>3.<br>more</p>"),
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
    assert "Response B 0 characters Raw text Full height (empty)" in text
    assert "<h4>Title</h4>" in html  # the response's own "#" heading, lowered


def test_text_view_bounds_every_pane_height():
    html = text_view_html(query="q", materials=(("m", "x"),), responses=(("A", "a"), ("B", "b")),
                          query_height=111, material_height=222, pane_height=333)
    styles = [attrs.get("style") for _, attrs in inventory(html).tags if attrs.get("style")]
    # The material's rendering and its raw text share the bound; a response's box holds both.
    assert styles == ["max-height:111px;margin-top:.4rem", "max-height:222px", "max-height:222px",
                      "max-height:333px", "max-height:333px"]


def test_rendering_from_many_threads_gives_the_same_html():
    """App sessions render on their own threads with one shared parser."""
    from concurrent.futures import ThreadPoolExecutor

    from annotate.ui.kit import safe_html

    texts = [f"# Part {i}\n\n" + "Some *text* with a [link](https://e.example/x) and `a<b`.\n\n" * 80
             + "```\ncode <x>\n```\n![i](http://a.example/b) [bad](javascript:x)" for i in range(8)]
    expected = [safe_html._PARSER.render(t) for t in texts]  # one thread, one at a time
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(safe_html._PARSER.render, texts * 4)) == expected * 4


# ----------------------------------------------------------------- faithful rendering


def test_two_responses_keep_their_lines_and_their_list_numbers():
    """The fairness case: A writes one line per point with single newlines, B a numbered
    list that starts at 3 right under a sentence. Both show the lines as written."""
    left = "First point.\nSecond point.\nThird point."
    right = "Continuing the plan:\n3. Draft\n4. Review"
    html = text_view_html(responses=(("Response A", left), ("Response B", right)))
    # By hand: one paragraph with a <br> per newline; a sentence, then <ol start="3">.
    assert '<p>First point.<br>Second point.<br>Third point.</p>' in html
    assert '<p>Continuing the plan:</p><ol start="3"><li>Draft</li><li>Review</li></ol>' in html
    # The raw text of each pane is there too, escaped and as written (newlines as &#10;).
    assert "<pre>First point.&#10;Second point.&#10;Third point.</pre>" in html
    assert "<pre>Continuing the plan:&#10;3. Draft&#10;4. Review</pre>" in html
    parsed = inventory(html)
    toggles = [attrs["aria-label"] for tag, attrs in parsed.tags if tag == "input"]
    assert toggles == ["Show raw text: Response A", "Full height: Response A",
                       "Show raw text: Response B", "Full height: Response B"]


def test_raw_text_escapes_markup():
    html = text_view_html(query="<script>x()</script> & *y*")
    assert "<pre>&lt;script&gt;x()&lt;/script&gt; &amp; *y*</pre>" in html
    assert "script" not in [tag for tag, _ in inventory(html).tags]


def test_a_css_height_cannot_break_out_of_its_attribute():
    with pytest.raises(ValueError, match="not a CSS length"):
        text_view_html(query="q", query_height='1px" onmouseover="x()')


_BLOCK_SYNTAX = __import__("re").compile(r"^\s*([#>|*+\-=`~]|\d+[.)]|\s{4})")


def _rendered_lines(html: str) -> list[str]:
    """The visible lines of rendered HTML: a line ends at every <br> and every paragraph."""
    marked = html.replace("<br>", "\x00").replace("</p>", "\x00")
    text = "".join(inventory(marked).text)
    return [line for line in text.split("\x00") if line.strip()]


def test_real_writingbench_plain_text_keeps_its_line_count(shared_data_dir):
    """Real WritingBench queries (Chinese and English) written as plain lines, without any
    markdown block syntax: the rendering has exactly as many lines as the source."""
    import json

    checked = {"zh": 0, "en": 0}
    with open(shared_data_dir / "benchmark_all.jsonl", encoding="utf-8") as fh:
        for raw in fh:
            query = json.loads(raw)["query"]
            lines = [line for line in query.replace("\r\n", "\n").split("\n") if line.strip()]
            if len(lines) < 3 or any(_BLOCK_SYNTAX.match(line) for line in lines):
                continue
            if any(ch in query for ch in "*_[]<&\\"):
                continue  # inline markup changes the text, not the lines; keep the count exact
            lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in query) else "en"
            if checked[lang] >= 25:
                continue
            rendered = _rendered_lines(markdown_to_safe_html(query))
            assert [r.strip() for r in rendered] == [s.strip() for s in lines]
            checked[lang] += 1
    assert checked["zh"] >= 5 and checked["en"] >= 5, checked
