"""Hostile text in a real browser: a query and responses carrying script tags, iframes,
event handlers and images that point at a loopback listener are shown as text.

A listener on 127.0.0.1 counts every request it gets. The study's instruction and both
responses are replaced (in the database) by markup that would load that listener or run
script if rendered as HTML. Chromium opens the annotator's page through ``annotate serve``;
the hostile markup must appear as visible text, no script may run (``window.__pwned``
stays unset), no iframe/img pointing at the listener may exist in the DOM, and the
listener must receive nothing. The page must also make no request to any host other than
the app server (no phone-home, no external fonts or images).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from sqlalchemy import text

from tests.e2e.conftest import log_in, wait_for_app
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts, seed_content, seed_study


class _Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: D102
        pass


def hostile(port: int, where: str) -> str:
    base = f"http://127.0.0.1:{port}"
    return (f"HOSTILE-{where} <script>window.__pwned = '{where}-script'</script>\n\n"
            f"<img src=\"{base}/{where}-img.png\" onerror=\"window.__pwned='{where}-onerror'\">\n\n"
            f"<iframe src=\"{base}/{where}-iframe\"></iframe>\n\n"
            f"<svg onload=\"window.__pwned='{where}-svg'\"></svg> <a href=\"javascript:window.__pwned=1\">link</a>\n\n"
            f"![remote]({base}/{where}-markdown.png) <style>body{{background:url({base}/{where}-css)}}</style>")


def test_hostile_query_and_responses_show_as_text(live_server, browser_context):
    listener = _Listener()
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    port = listener.server_address[1]
    try:
        engine = live_server.engine
        seed_content(engine)
        seed_accounts(engine)
        seed_study(engine, name="hostile", subdomains=["Abstract"])
        with engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(text("UPDATE instructionversion SET text = :t"), {"t": hostile(port, "query")})
            conn.execute(text("UPDATE response SET text = :t"), {"t": hostile(port, "response")})

        page = browser_context.new_page()
        requests: list[str] = []
        failed: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
        log_in(page, live_server.base_url, "ann1", PASSWORD)
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Judge pairs").click()
        page.get_by_text("HOSTILE-response", exact=False).first.wait_for()
        wait_for_app(page)
        page.wait_for_timeout(1500)  # give any image/iframe time to load

        body = page.inner_text("body")
        assert "HOSTILE-query" in body and body.count("HOSTILE-response") >= 2
        assert "<script>" in body and "<iframe" in body and "onerror=" in body  # shown as text
        assert page.evaluate("() => window.__pwned === undefined")
        for tag in ("img", "iframe", "script", "style", "svg"):
            srcs = page.evaluate(f"() => [...document.querySelectorAll('{tag}')].map(e => e.outerHTML)")
            assert not [s for s in srcs if str(port) in s or "__pwned" in s], (tag, srcs)
        assert listener.hits == []
        assert not [u for u in requests if f":{port}" in u]
        app_host = urlparse(live_server.base_url).netloc
        foreign = sorted({u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                          and urlparse(u).netloc != app_host})
        assert foreign == [], f"requests to other hosts: {foreign}; failed: {failed}"
    finally:
        listener.shutdown()
