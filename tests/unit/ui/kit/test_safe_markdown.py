"""Tests of annotate.ui.kit.safe_markdown.

The output is checked by rendering it with an independent CommonMark renderer
(markdown-it-py) configured to pass raw HTML through (``html=True``, the most permissive
setting), then parsing the HTML with the standard library: whatever a markdown renderer
does with our output, no element beyond plain markdown may appear.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from annotate.ui.kit.safe_markdown import to_safe_markdown

_RENDERER = MarkdownIt("commonmark", {"html": True}).enable("table")

# Elements that plain markdown can produce; anything else came from raw HTML.
MARKDOWN_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "a", "ul", "ol", "li", "code",
    "pre", "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render(markdown: str) -> _Collector:
    collector = _Collector()
    collector.feed(_RENDERER.render(markdown))
    return collector


def assert_inert(markdown_source: str) -> _Collector:
    """Render the safe version and check that only markdown elements appear."""
    result = render(to_safe_markdown(markdown_source))
    for tag, attrs in result.tags:
        assert tag in MARKDOWN_TAGS, f"raw HTML element <{tag}> got through"
        assert not any(name.startswith("on") for name in attrs), f"event handler on <{tag}>"
        if tag == "a":
            href = (attrs.get("href") or "").strip().lower()
            assert not href.startswith(("javascript:", "data:", "vbscript:")), href
    return result


ATTACKS = [
    "<script>alert(1)</script>",
    "Before <iframe src='https://evil.example/'></iframe> after",
    '<img src="https://evil.example/pixel.gif" onerror="steal()">',
    "<div onclick='x()'>click</div>",
    "<!-- hidden --> <style>body{display:none}</style>",
    "<a href='javascript:alert(1)'>x</a>",
    "\\\\<script>alert('escaped backslash')</script>",
    "<scr<script>ipt>alert(1)</script>",
    "<svg/onload=alert(1)>",
    "<https://autolink.example/>",
    "<details><summary>s</summary>hidden</details>",
    "  <script>indented</script>",
    "> <script>in a quote</script>",
    "- <script>in a list</script>",
    "| a | b |\n|---|---|\n| <script>x</script> | <img src=x onerror=y> |",
    "``\n<script>span over two lines</script>\n``",
    "```\nunclosed fence\n<script>x</script>",
    # An escaped backtick opens no code span, so what follows is prose, not code.
    "\\`<script>alert(1)</script>`",
    # An indented fence inside a list item ends with the item; the HTML after it is prose.
    "- item\n  ```\n  code\n<script>alert(1)</script>\n",
    "> ```\n<iframe src=x></iframe>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_raw_html_is_shown_as_text_never_as_elements(attack: str) -> None:
    assert_inert(attack)


def test_script_tag_is_visible_as_text() -> None:
    result = assert_inert("Hello <script>alert(1)</script>")
    # The reader sees exactly the characters of the original tag.
    assert "<script>alert(1)</script>" in "".join(result.text)


def test_remote_image_becomes_a_link_and_nothing_is_fetched() -> None:
    source = "See ![chart](https://tracker.example/p.png \"t\") and ![ref image][r]\n\n[r]: http://x.example/i.png"
    result = assert_inert(source)
    assert not any(tag == "img" for tag, _ in result.tags)
    hrefs = [attrs.get("href") for tag, attrs in result.tags if tag == "a"]
    assert "https://tracker.example/p.png" in hrefs  # a click away, not loaded
    assert "image: chart" in "".join(result.text)


def test_escaped_image_syntax_stays_literal_and_double_backslash_is_handled() -> None:
    assert not any(t == "img" for t, _ in assert_inert("\\![not an image](http://x/y.png)").tags)
    # "\\\\" is a literal backslash, so the "![" after it would start an image.
    assert not any(t == "img" for t, _ in assert_inert("\\\\![img](http://x/y.png)").tags)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)", "<javascript:alert(1)>",
])
def test_unsafe_link_targets_are_removed(url: str) -> None:
    result = assert_inert(f"[click]({url}) and [ref][r]\n\n[r]: {url}")
    assert "click" in "".join(result.text)


def test_safe_links_are_kept() -> None:
    result = assert_inert("[doc](https://example.org/a_(b)) [mail](mailto:a@b.c) [rel](#top)")
    hrefs = [attrs.get("href") for tag, attrs in result.tags if tag == "a"]
    assert hrefs == ["https://example.org/a_(b)", "mailto:a@b.c", "#top"]


def test_ordinary_markdown_renders_as_before() -> None:
    source = (
        "# Title\n\nSome **bold** and *em* text.\n\n- one\n- two\n\n"
        "| h1 | h2 |\n|----|----|\n| c1 | c2 |\n\n1. first\n2. second\n\n> quote\n"
    )
    # Nothing in this text needs escaping, so the output is the input.
    assert to_safe_markdown(source) == source
    tags = [tag for tag, _ in render(to_safe_markdown(source)).tags]
    for expected in ("h1", "strong", "em", "ul", "li", "table", "td", "ol", "blockquote"):
        assert expected in tags


def test_code_is_left_exactly_as_written() -> None:
    source = "Use `a < b && $x` here.\n\n```html\n<b>bold</b> $y\n```\nafter <b>"
    out = to_safe_markdown(source)
    assert "`a < b && $x`" in out
    assert "```html\n<b>bold</b> $y\n```" in out
    assert out.endswith("after \\<b>")
    result = assert_inert(source)
    code_text = "".join(result.text)
    assert "<b>bold</b> $y" in code_text  # shown literally inside the code block


def test_dollar_signs_are_literal_not_latex() -> None:
    # Streamlit's markdown would typeset "$5 and $" as math; escaped they stay prices.
    assert to_safe_markdown("costs $5 and $10") == "costs \\$5 and \\$10"
    assert to_safe_markdown("already \\$5") == "already \\$5"


def test_chinese_text_and_empty_input() -> None:
    text = "请写一篇关于<环保>的文章，字数不少于800字。"
    assert to_safe_markdown(text) == "请写一篇关于\\<环保>的文章，字数不少于800字。"
    assert to_safe_markdown("") == ""
    assert to_safe_markdown(None) == ""


def test_windows_newlines_and_nul_bytes() -> None:
    assert to_safe_markdown("a\r\nb\x00") == "a\nb\ufffd"


def test_long_text_is_processed_quickly_enough_to_be_linear() -> None:
    # 200k characters with many special characters; a quadratic scan would never finish
    # in a test run. This is a smoke check, not a timing assertion.
    chunk = "Para with <tag> and `code` and $ and ![i](http://x/y.png) [l](http://z).\n"
    out = to_safe_markdown(chunk * 2800)
    assert out.count("[image: i]") == 2800
