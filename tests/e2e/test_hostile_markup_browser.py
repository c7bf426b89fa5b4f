"""Hostile markup in every user-supplied field, every page of every role, a real browser.

A listener on 127.0.0.1 (a free port) counts every request it gets. The database is seeded
through the services, with hostile markup wherever a person or a file puts text:

* checklist criteria (names and descriptions) through an imported query file;
* the query text, the response texts and model names;
* a collected material (title, text, source, licence note), verified so annotators see it;
* the study names, display names, rationales and judgment flags;
* judge names, audit causes, tags and notes.

Each markup sample carries script tags, event handlers, an iframe, an SVG, CSS ``url()``,
markdown and HTML images and ``javascript:`` links, every one aimed at the listener or at
``window.__pwned``/``document.title``. Chromium then logs in as each role and opens every
page that role has (:func:`annotate.navigation.pages_for`), waiting for each to render.
After each page: no script ran (``window.__pwned`` unset, the title untouched), no element
in the DOM loads from the listener, no ``javascript:`` link exists; at the end the
listener got zero requests. The hostile texts must also be visible *as text* on the pages
that show them (criteria comparison, study pickers, the greeting...), so the test cannot
pass by showing nothing.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import text

from annotate.db.engine import session_scope
from annotate.navigation import pages_for
from annotate.services.accounts import users
from annotate.services.content.imports import import_queries, import_responses
from annotate.services.core.taxonomy import seed_taxonomy
from annotate.services.judges import audit_tags
from annotate.services.judges.demo_judging import DEMO_AUDIT_STUDY, seed_demo_judging
from annotate.services.refine import materials
from tests.e2e.conftest import log_in, pick, wait_for_app
from tests.fixtures.pairwise_seed import DEMO, PASSWORD, seed_study

ACCOUNTS = {"annotator": "ann1", "expert": "exp", "researcher": "res", "admin": "adm"}
ANNOTATORS = ("ann1", "ann2", "ann3")


class _Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    def _hit(self) -> None:
        self.server.hits.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    do_GET = do_POST = do_HEAD = _hit  # noqa: N815

    def log_message(self, *args) -> None:  # noqa: D102
        pass


def hostile(port: int, where: str) -> str:
    """Markup that loads ``http://127.0.0.1:port/where-...`` or sets ``window.__pwned`` if rendered."""
    base = f"http://127.0.0.1:{port}"
    return (f"HOSTILE-{where} <script>window.__pwned='{where}-script';document.title='pwned'</script> "
            f"<img src=\"{base}/{where}-img.png\" onerror=\"window.__pwned='{where}-onerror'\"> "
            f"![md]({base}/{where}-md.png) ![ref][r-{where}] <iframe src=\"{base}/{where}-iframe\"></iframe> "
            f"<svg onload=\"window.__pwned='{where}-svg'\"></svg> "
            f"<a href=\"javascript:window.__pwned='{where}-a'\">a</a> [js](javascript:window.__pwned='{where}-md') "
            f"<div style=\"background:url({base}/{where}-css)\">css</div> "
            f"<style>body{{background:url({base}/{where}-style)}}</style> :red[red] $\\href{{{base}}}{{x}}$ "
            f"<link rel=\"stylesheet\" href=\"{base}/{where}-link.css\">\n\n[r-{where}]: {base}/{where}-ref.png")


def short_hostile(port: int, where: str) -> str:
    """A short one line sample for names (at most ~100 characters by the schema)."""
    return f"H-{where} <img src=//127.0.0.1:{port}/{where}.png onerror=window.__pwned=1> ![i](//127.0.0.1:{port}/{where})"


def hostile_query_file(port: int, folder: Path) -> Path:
    """The demo queries with every criterion name and description hostile (and the query text)."""
    lines = []
    for line in (DEMO / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["query"] = record["query"] + "\n\n" + hostile(port, f"query{record['index']}")
        for i, criterion in enumerate(record.get("checklist") or []):
            criterion["name"] = f"{i} " + short_hostile(port, f"crit-name-{record['index']}-{i}")
            criterion["criteria_description"] = hostile(port, f"crit-desc-{record['index']}-{i}")
        lines.append(json.dumps(record, ensure_ascii=False))
    path = folder / "hostile_queries.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def seed_hostile(engine, port: int, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Everything a person or a file can write, hostile; through the services where they exist."""
    with session_scope(engine) as session:
        seed_taxonomy(session)
        import_queries(session=session, path=hostile_query_file(port, folder))
        import_responses(session=session, path=DEMO / "responses.jsonl")
        for name in ANNOTATORS:
            users.create_user(session=session, username=name, role="annotator", password=PASSWORD,
                              display_name=short_hostile(port, f"display-{name}"))
        for name, role in (("exp", "expert"), ("exp2", "expert"), ("res", "researcher"), ("adm", "admin")):
            users.create_user(session=session, username=name, role=role, password=PASSWORD,
                              display_name=short_hostile(port, f"display-{name}"))
        res = users.get_user_by_username(session=session, username="res")
        seed_demo_judging(session=session, researcher=res, annotators=list(ANNOTATORS))  # judged, judge scores
        exp = users.get_user_by_username(session=session, username="exp")
        exp2 = users.get_user_by_username(session=session, username="exp2")
        query_id = materials.query_by_index(session=session, index=900001).id
        for n, verify in ((1, True), (2, False)):  # one verified (annotators see it), one pending
            doc = materials.add_material(session=session, actor=exp, query_id=query_id,
                                         title=short_hostile(port, f"material-title-{n}"),
                                         text=hostile(port, f"material-text-{n}"),
                                         source_url=f"javascript:window.__pwned='src{n}'",
                                         license_note=short_hostile(port, f"licence-{n}"))
            if verify:
                materials.verify_material(session=session, actor=exp2, document_id=doc.id)
        materials.set_needs_materials(session=session, actor=exp, query_id=query_id, needs=True,
                                      requirement=hostile(port, "needs-materials"))
        audit_tags.ensure_default_causes(session=session)
        audit_tags.add_cause(session=session, actor=res, name=short_hostile(port, "cause")[:100])
    # Open tasks for ann1: per-criterion pairs (the criteria form) and ratings.
    seed_study(engine, name="open-pairs", annotators=("ann1", "ann2"), per_subdomain=1, per_criterion=True,
               subdomains=["Abstract"])
    seed_study(engine, name="open-ratings", annotators=("ann1",), per_subdomain=1, kind="pointwise",
               subdomains=["Abstract"], overlap=1)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        # A tag on a disagreement, with a hostile cause and note.
        item = conn.execute(text("SELECT si.id FROM studyitem si JOIN study s ON s.id = si.study_id "
                                 "WHERE s.name = :n ORDER BY si.id LIMIT 1"), {"n": DEMO_AUDIT_STUDY}).scalar_one()
        run = conn.execute(text("SELECT judge, method FROM judgerun ORDER BY id LIMIT 1")).one()
        author = conn.execute(text("SELECT id FROM user WHERE username = 'res'")).scalar_one()
        conn.execute(text("INSERT INTO audittag (item_id, judge, method, cause, note, author_id, created_at) "
                          "VALUES (:i, :j, :m, :c, :n, :a, CURRENT_TIMESTAMP)"),
                     {"i": item, "j": run.judge, "m": run.method, "c": short_hostile(port, "cause")[:100],
                      "n": hostile(port, "tag-note"), "a": author})
        # Fields no form lets a person fill with markup, written directly: what an import could hold.
        conn.execute(text("UPDATE response SET text = :t"), {"t": hostile(port, "response")})
        conn.execute(text("UPDATE llmmodel SET name = 'M' || id || ' ' || :t"), {"t": short_hostile(port, "model")})
        conn.execute(text("UPDATE judgment SET rationale = :t, flags = :f"),
                     {"t": hostile(port, "rationale"), "f": json.dumps([short_hostile(port, "flag")])})
        conn.execute(text("UPDATE judgerun SET judge = judge || ' ' || :t"), {"t": short_hostile(port, "judge")})
        conn.execute(text("UPDATE audittag SET judge = judge || ' ' || :t"), {"t": short_hostile(port, "judge")})
        conn.execute(text("UPDATE study SET name = name || ' ' || :t"), {"t": short_hostile(port, "study")})


_DOM_CHECK = """(port) => {
  // Attributes that make the browser fetch something or run code. Text (a title, an
  // aria-label, an SVG label of a chart) may hold the hostile markup: shown, it is harmless.
  const loading = ['src', 'srcset', 'href', 'xlink:href', 'style', 'data', 'action', 'formaction', 'poster',
                   'background', 'srcdoc'];
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    const isLink = el.localName === 'a';
    for (const attr of el.getAttributeNames()) {
      const value = el.getAttribute(attr) || '';
      if (attr.startsWith('on') && value.includes('__pwned')) bad.push(el.outerHTML.slice(0, 200));
      if (isLink && (attr === 'href' || attr === 'xlink:href')) {
        if (value.trim().toLowerCase().startsWith('javascript:')) bad.push(el.outerHTML.slice(0, 200));
      } else if (loading.includes(attr) && (value.includes(':' + port) || value.includes('__pwned'))) {
        bad.push(el.outerHTML.slice(0, 200));
      }
    }
    if (el.localName === 'script' && (el.textContent || '').includes('__pwned')) bad.push(el.outerHTML.slice(0, 200));
  }
  return {pwned: window.__pwned === undefined ? null : String(window.__pwned), title: document.title, bad};
}"""


def _open_nav_link(page, title: str) -> None:  # type: ignore[no-untyped-def]
    nav = page.get_by_test_id("stSidebarNavItems")
    link = nav.get_by_role("link", name=title, exact=True)
    if not link.count():
        more = page.get_by_test_id("stSidebarNavViewButton")
        if more.count():
            more.first.click()
    link.first.click()
    wait_for_app(page)


def _pick_study(page, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """Choose the study whose name starts with ``prefix`` where the page offers a choice."""
    box = page.get_by_role("combobox", name="Study").filter(visible=True)
    if box.count():
        pick(page, "Study", prefix)


def _hover_tooltips(page, limit: int = 10) -> str:  # type: ignore[no-untyped-def]
    """Hover the first ``limit`` help icons (a tooltip renders its markdown only when shown);
    the text of the tooltips shown."""
    texts = []
    icons = page.locator("[data-testid='stTooltipHoverTarget']").filter(visible=True)
    for i in range(min(icons.count(), limit)):
        try:
            icons.nth(i).hover(timeout=2_000)
            page.wait_for_timeout(250)
            tip = page.locator("[data-testid='stTooltipContent']")
            if tip.count():
                texts.append(tip.last.inner_text(timeout=1_000))
        except Exception:  # noqa: BLE001 - an icon scrolled away or covered: the others still count
            continue
    page.mouse.move(0, 0)
    return "\n".join(texts)


def _check(page, port: int, where: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    state = page.evaluate(_DOM_CHECK, port)
    if state["pwned"] is not None or state["title"] == "pwned" or state["bad"]:
        problems.append(f"{where}: {state}")


def test_hostile_markup_in_every_field_never_runs_or_loads(live_server, browser_context, tmp_path):
    listener = _Listener()
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    port = listener.server_address[1]
    try:
        seed_hostile(live_server.engine, port, tmp_path)
        page = browser_context.new_page()
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if f":{port}" in r.url else None)
        problems: list[str] = []
        seen: dict[str, str] = {}
        for role, username in ACCOUNTS.items():
            log_in(page, live_server.base_url, username, PASSWORD)
            _check(page, port, f"{role} home", problems)
            for spec in pages_for(role):
                _open_nav_link(page, spec.title)
                # the study with open tasks (annotators), the judged one with judge scores (the others)
                _pick_study(page, "open-" if role == "annotator" else DEMO_AUDIT_STUDY)
                page.wait_for_timeout(300)  # images and frames would start loading now
                _check(page, port, f"{role} {spec.title}", problems)
                seen[f"{role} {spec.title}"] = page.inner_text("body")
                seen[f"{role} {spec.title} tooltips"] = _hover_tooltips(page)
                _check(page, port, f"{role} {spec.title} (tooltips open)", problems)
                tabs = page.locator("[data-testid='stMain'] [role='tab']")
                for i in range(1, tabs.count()):  # every other tab of the page (the first is open)
                    if not tabs.nth(i).is_visible():  # a tab inside a tab panel not shown now
                        continue
                    tabs.nth(i).click()
                    wait_for_app(page)
                    _check(page, port, f"{role} {spec.title} tab {i}", problems)
                    seen[f"{role} {spec.title} tab {i}"] = page.inner_text("body")
            page.goto("about:blank")
            page.context.clear_cookies()
        page.wait_for_timeout(1000)
        assert problems == [], "\n".join(problems)
        assert listener.hits == [], listener.hits
        assert outside == [], outside
        # The hostile texts were shown, as text (the test cannot pass by showing nothing).
        everything = "\n".join(seen.values())
        for marker in ("HOSTILE-crit-desc-", "H-crit-name-", "H-study", "H-display-ann1", "H-display-res",
                       "H-cause", "H-judge", "H-material-title-1", "HOSTILE-response", "HOSTILE-query"):
            assert marker in everything, f"{marker} shown nowhere"
        assert f"<img src=//127.0.0.1:{port}/" in everything  # markup shown literally, as text
        assert "sentences named by the query's criteria" in seen["researcher Disagreement audit"]  # its detail
        judging = seen["annotator Judge pairs"] + seen["annotator Judge pairs tooltips"]
        assert "H-crit-name-" in judging and "HOSTILE-crit-desc-" in judging  # the per-criterion form
    finally:
        listener.shutdown()

