"""Real browser: a page of another site (here: another port of the same host) cannot use a
logged-in admin's session cookie.

The admin logs in through the app in Chromium; then, in the same browser, a hostile page
served from another loopback port tries what it can with the admin's cookie (same host, so
the SameSite=Lax cookie rides along): open the app's websocket (the channel that runs pages
such as *Accounts*), post the logout form, and open the logout page by its address. Every
attempt fails: the websocket handshake is refused before it opens (with no network look-up
on the server), the logout post gets 403,
the logout page only shows a button; the admin is still logged in and no account changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from tests.e2e.conftest import log_in, wait_for_app
from tests.fixtures.app_server import free_port
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts

HOSTILE_PAGE = """<!doctype html><html><body><h1>Free prizes</h1>
<iframe name="sink"></iframe>
<form id="out" method="post" action="APP/session/logout" target="sink"></form>
<script>
window.attack = {ws: "pending", post: "pending"};
const ws = new WebSocket("WSAPP/_stcore/stream");
ws.onopen = () => { window.attack.ws = "opened"; };
ws.onclose = (e) => { if (window.attack.ws === "pending") window.attack.ws = "refused " + e.code; };
fetch("APP/session/logout", {method: "POST", mode: "no-cors", credentials: "include"})
  .then(() => { window.attack.post = "sent"; }, () => { window.attack.post = "failed"; });
document.getElementById("out").submit();
</script></body></html>"""


@pytest.fixture()
def hostile_site(live_server) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """A page that attacks ``live_server``, served on another port of 127.0.0.1 and of
    127.0.0.2 (a loopback address Streamlit's own origin check does not know); yields both URLs."""
    page = HOSTILE_PAGE.replace("WSAPP", live_server.base_url.replace("http://", "ws://")) \
        .replace("APP", live_server.base_url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    servers = [ThreadingHTTPServer((host, free_port()), Handler) for host in ("127.0.0.1", "127.0.0.2")]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://{server.server_address[0]}:{server.server_address[1]}/" for server in servers]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def accounts_now(engine) -> dict[str, tuple[str, bool, int]]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return {u.username: (u.role, bool(u.active), int(u.session_epoch or 0))
                for u in users.list_users(session=session, actor=None)}


def test_a_page_on_another_port_cannot_use_the_admins_session(live_server, browser_context, hostile_site):
    seed_accounts(live_server.engine)
    before = accounts_now(live_server.engine)
    app = browser_context.new_page()
    log_in(app, live_server.base_url, "adm", PASSWORD)

    responses: list[tuple[str, int]] = []
    for url in hostile_site:
        hostile = browser_context.new_page()
        hostile.on("response", lambda r: responses.append((r.request.method, r.status))
                   if "/session/logout" in r.url else None)
        hostile.goto(url)
        hostile.wait_for_function("window.attack.ws !== 'pending' && window.attack.post !== 'pending'")
        hostile.wait_for_timeout(1000)  # the form post into the frame
        result = hostile.evaluate("window.attack")
        assert result["ws"].startswith("refused"), (url, result)  # the handshake never opened
    assert responses and {status for _, status in responses} == {403}, responses
    # refused without a network look-up (Streamlit's check would have looked up the
    # machine's external address for the unknown 127.0.0.2, and logged that it failed)
    assert "external IP" not in live_server.log_tail(200_000)

    # a link to the logout page (a GET) logs nobody out either: it shows a button
    link = browser_context.new_page()
    link.goto(f"{live_server.base_url}/logout")
    link.locator("form.annotate-logout").wait_for()
    wait_for_app(link)

    app.reload()  # the admin is still logged in
    app.get_by_role("heading", name="Home").wait_for()
    assert app.locator("form.annotate-login").count() == 0
    assert accounts_now(live_server.engine) == before  # no role, activation or login changed
