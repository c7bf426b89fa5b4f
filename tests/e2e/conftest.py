"""Reusable fixtures for real-browser tests: a running ``annotate serve`` and Chromium.

* ``live_server``: a fresh migrated SQLite file, and ``annotate --db URL serve`` started as
  a subprocess on a free port; yields a :class:`LiveServer` (``base_url``, ``db_url``,
  ``engine`` for seeding through the services and checking rows afterwards). Seeding may
  happen before or after the first page load: the app reads the database on every rerun.
* ``browser_context``: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright,
  headless, with a fresh user-data-dir; each ``new_page()`` is a separate Streamlit session.
* Helpers: :func:`log_in`, :func:`wait_for_app` (waits until a rerun has finished).

Every test here is marked ``e2e`` by :func:`pytest_collection_modifyitems`. When a test
fails, each open tab is saved as a screenshot under the test's ``tmp_path`` and its URL and
visible text are added to the failure report, with the end of the server's log: a flake
seen only in CI can then be read from CI's output.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.app_server import start_server, stop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 60.0


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Keep each phase's report on the test item, so fixtures can tell whether it failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _failed(request) -> bool:  # type: ignore[no-untyped-def]
    report = getattr(request.node, "report_call", None)
    return report is not None and bool(report.failed)


def _describe_tabs(context, folder: Path) -> str:  # type: ignore[no-untyped-def]
    """Screenshot every open tab into ``folder``; their URLs and visible text, for a report."""
    lines = []
    for number, tab in enumerate((t for t in context.pages if t.url != "about:blank"), start=1):
        shot = folder / f"failure-tab{number}.png"
        try:
            tab.screenshot(path=str(shot))
            text = tab.inner_text("[data-testid='stMain']", timeout=2_000)
        except Exception as exc:  # noqa: BLE001 - a report of a failure must not fail itself
            text = f"(could not read the tab: {exc})"
        lines.append(f"--- tab {number}: {tab.url} (screenshot {shot})\n{text[-3000:]}")
    return "\n".join(lines)


@dataclass
class LiveServer:
    """A running app: where to browse, and its database."""

    base_url: str
    db_url: str
    engine: object
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, n: int = 4000) -> str:
        """The end of the server's output (for failure messages)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""


@pytest.fixture()
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """``annotate serve`` on a free port against a fresh SQLite file in ``tmp_path``."""
    from annotate.db.engine import init_db

    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    engine = init_db(db_url)
    try:
        app = start_server(db_url, tmp_path / "server.log", timeout=SERVER_START_TIMEOUT,
                           health_path="/_stcore/health")
        try:
            yield LiveServer(app.base_url, db_url, engine, app.process, app.log_path)
        finally:
            stop(app)  # its own process group only (start_new_session)
    finally:
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture()
def browser_context(tmp_path: Path, request):  # type: ignore[no-untyped-def]
    """A headless Chromium context with a fresh profile; ``new_page()`` opens a tab."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path / "chromium-profile"
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        try:
            yield context
            if _failed(request):  # the failure summary is printed later: add to its report
                server = request.node.funcargs.get("live_server")
                request.node.report_call.sections.append(("open tabs after the failure", _describe_tabs(
                    context, tmp_path) + (f"\n--- server log (end)\n{server.log_tail()}" if server else "")))
        finally:
            context.close()


_SETTLED_JS = (
    "() => !document.querySelector(\"[data-testid='stStatusWidgetRunningIcon']\")"
    " && !document.querySelector(\"[data-stale='true']\")"
)


def wait_for_app(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished the current rerun: no running icon, no stale elements."""
    page.wait_for_selector("[data-testid='stApp']")
    for _ in range(2):  # a rerun may start just after a first settled check
        page.wait_for_function(_SETTLED_JS, timeout=30_000)
        page.wait_for_timeout(200)
    page.wait_for_function(_SETTLED_JS, timeout=30_000)


def log_in(page, base_url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Open the app and log in through the login form, as a person in a browser of their own:
    the session cookie another tab of this context got is dropped first (that tab stays
    logged in until it reloads)."""
    page.context.clear_cookies(name="annotate_session")
    page.goto(base_url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Home").wait_for()
    wait_for_app(page)


def pick(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Choose ``option`` (a prefix of its text) in the select box labelled ``label``.

    Streamlit's select box is a combobox whose list opens on a click (or its chevron).
    """
    box = page.get_by_role("combobox", name=label).filter(visible=True).first
    match = page.get_by_role("option", name=re.compile("^" + re.escape(option))).first
    chevron = box.locator("xpath=ancestor::*[@data-testid='stSelectbox'][1]").get_by_role("button").last
    for attempt in range(4):  # the list may take a moment, or need the chevron, to open
        (box if attempt % 2 == 0 else chevron).click()
        try:
            match.wait_for(state="visible", timeout=3_000)
            break
        except Exception:  # noqa: BLE001 - not open yet: close whatever opened and try the other way
            box.press("Escape")
            wait_for_app(page)
    match.click()
    wait_for_app(page)
