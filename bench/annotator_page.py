"""Server-side time of one rerun of the annotator page with the longest texts.

Shows the longest real WritingBench query (about 31k characters, read from
``$WRITINGBENCH_DATA/benchmark_all.jsonl`` or ``--queries FILE``) with two
40k-character responses on the "Judge pairs" page (``streamlit.testing.v1.AppTest``
against a temporary SQLite file seeded through the services), and times a rerun of it
next to a bare Streamlit script that renders the same three strings with ``st.markdown``
(the baseline), in the same process. Reruns of the two are interleaved; the median is
reported. Target: page <= 1.5 x baseline.

The page shows the three texts as one HTML element rendered from markdown on the server
(``annotate.ui.kit.panes.show_text_view``), cached: a rerun sends the cached HTML again. What
the first showing of a pair pays once for that rendering is printed beside the figures.

Three figures are printed for each script:

* ``real-server`` (the figure the target is judged on): each script is served by a real
  ``streamlit run`` (headless, loopback, free port; the app with the annotator logged in
  on the long task, the baseline reading the same three strings into its session state
  once), driven by headless Chromium (Playwright, ``/usr/bin/chromium``), which presses
  "r" (Streamlit's rerun shortcut) to rerun. The server process wraps
  ``ScriptRunner._run_script`` - everything the script thread does for one rerun: page
  lookup, exec of the entry script and the page, widget-state cleanup - with
  ``time.perf_counter`` and appends the duration to a file the bench reads. The judged
  figure is that run up to the moment the browser is told it finished; Streamlit's
  post-run ``gc.collect(2)`` (``runner.postScriptGC``, after that message; its cost grows
  with the whole process heap - SQLAlchemy and the rest the app imports - not with the
  page; the committed ``.streamlit/config.toml``, which both servers read, turns it off, so
  it shows 0 unless that setting changes) and the serialisation of the run's messages for
  the websocket (event-loop thread) are printed beside it, and so is the app server's
  resident memory before and after the timed reruns. Both servers are measured the same way, interleaved, median over
  the reruns. This is the most faithful figure: no test harness parses the page's
  elements, and the real script cache, message cache and websocket are in play;
* ``server``: ``streamlit.testing.v1.AppTest`` sharing one compiled-script cache across
  reruns, as a running server does; it includes AppTest's own parsing of every element
  the page emits (a real server does not do that);
* ``apptest-raw``: plain AppTest, which also compiles (and rewrites for "magic") the
  entry script and the page again on every run - an AppTest artifact.

    .venv/bin/python bench/annotator_page.py [--queries FILE] [--reruns 21] [--chars 40000]
                                             [--no-real-server]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from metaeval.data_location import BENCHMARK_FILE, writingbench_data_dir  # noqa: E402

DEFAULT_QUERIES = writingbench_data_dir(ROOT) / BENCHMARK_FILE
APP = ROOT / "annotate" / "asgi.py"  # the app with its login route, as `annotate serve` runs it
SCRIPT = ROOT / "annotate" / "streamlit_app.py"  # the Streamlit script itself (what AppTest runs)
PASSWORD = "bench-password-1"
TARGET = 1.5
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

BASELINE_SCRIPT = """
import streamlit as st
texts = st.session_state["bench_texts"]
st.markdown(texts[0])
st.markdown(texts[1])
st.markdown(texts[2])
"""

# The same baseline for the real server: the three strings are read once per browser
# session into the session state (as the app keeps its task there), then rendered.
BASELINE_SERVER_SCRIPT = """
import json
import os
import streamlit as st
if "bench_texts" not in st.session_state:
    with open(os.environ["BENCH_TEXTS"], encoding="utf-8") as fh:
        st.session_state["bench_texts"] = json.load(fh)
texts = st.session_state["bench_texts"]
st.markdown(texts[0])
st.markdown(texts[1])
st.markdown(texts[2])
"""


def longest_query(path: Path) -> dict:
    """The record with the longest ``query`` in a WritingBench JSONL file."""
    best: dict | None = None
    with path.open(encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                if best is None or len(record["query"]) > len(best["query"]):
                    best = record
    if best is None:
        raise SystemExit(f"{path}: no queries")
    return best


def synthetic_response(label: str, n_chars: int) -> str:
    """A markdown response of exactly ``n_chars`` characters: headings, lists, a table, prose."""
    blocks = []
    section = 0
    while sum(len(b) for b in blocks) < n_chars:
        section += 1
        blocks.append(
            f"## {label}: section {section}\n\n"
            f"This paragraph discusses point {section} of the report in some detail, with **bold** and "
            f"*emphasis*, a cost of $ {section * 10} and a comparison a < b that must stay literal. "
            "It keeps going for a while so that the text reads like a long model answer, with several "
            "sentences per paragraph and the occasional aside.\n\n"
            f"- finding {section}.1: the first observation\n- finding {section}.2: the second one\n"
            f"- finding {section}.3: a third, longer observation that wraps onto the next line\n\n"
            f"| metric | value |\n|---|---|\n| recall | 0.{section % 10}1 |\n| precision | 0.{section % 7}2 |\n\n")
    return "".join(blocks)[:n_chars]


def seed(db_url: str, record: dict, n_chars: int, tmp: Path) -> tuple[int, list[str]]:
    """A database with the query, two responses, one annotator and a one-pair study."""
    from annotate.db.engine import init_db, session_scope
    from annotate.services.accounts import users
    from annotate.services.content.imports import import_queries, import_responses
    from annotate.services.core.taxonomy import seed_taxonomy
    from annotate.services.studies.design import StudyDesign, create_study

    queries = tmp / "queries.jsonl"
    queries.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    texts = {m: synthetic_response(f"Report draft {i}", n_chars) for i, m in enumerate(("model-one", "model-two"), 1)}
    responses = tmp / "responses.jsonl"
    responses.write_text("".join(json.dumps({"index": record["index"], "model": m, "response": t}) + "\n"
                                 for m, t in texts.items()), encoding="utf-8")
    engine = init_db(db_url)
    with session_scope(engine) as session:
        seed_taxonomy(session)
        import_queries(session=session, path=queries)
        import_responses(session=session, path=responses)
        annotator = users.create_user(session=session, username="bench", role="annotator", password=PASSWORD)
        researcher = users.create_user(session=session, username="benchres", role="researcher",
                                       password=PASSWORD)
        create_study(session=session, actor=researcher, design=StudyDesign(
            name="bench", per_subdomain=1, overlap=1, annotators=["bench"], seed=0))
        user_id = int(annotator.id)
    engine.dispose()
    return user_id, [record["query"], *texts.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES,
                        help="WritingBench queries JSONL (default: $WRITINGBENCH_DATA/benchmark_all.jsonl)")
    parser.add_argument("--reruns", type=int, default=21, help="timed reruns of each script")
    parser.add_argument("--chars", type=int, default=40_000, help="characters per response")
    parser.add_argument("--no-real-server", action="store_true",
                        help="skip the real-server figure (needs Chromium and Playwright)")
    parser.add_argument("--serve", nargs=3, metavar=("SCRIPT", "PORT", "TIMINGS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]), Path(args.serve[2]))
    if not args.queries.is_file():
        raise SystemExit(f"{args.queries}: not found (pass --queries FILE)")
    logging.basicConfig(level=logging.WARNING)

    record = longest_query(args.queries)
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db_url = f"sqlite:///{tmp / 'bench.db'}"
        os.environ["ANNOTATE_DB_URL"] = db_url
        user_id, texts = seed(db_url, record, args.chars, tmp)
        if not args.no_real_server:
            real = measure_real_server(texts, args.reruns, tmp)
            results["real-server"] = (real[0]["run"], real[1]["run"])
        for mode in ("server", "apptest-raw"):
            results[mode] = measure(user_id, texts, args.reruns, shared_cache=(mode == "server"))

    print(f"query {record['index']} ({len(texts[0]):,} chars) + 2 responses ({args.chars:,} chars each), "
          f"{args.reruns} interleaved reruns each, median server-side time per rerun:")
    print(f"  {'mode':<12} {'annotator page':>15} {'bare baseline':>14} {'ratio':>7}")
    for mode, (page_ms, base_ms) in results.items():
        print(f"  {mode:<12} {page_ms:12.1f} ms {base_ms:11.1f} ms {page_ms / base_ms:6.2f}x")
    if "real-server" in results:
        page, base = real
        for label, kinds in (("+ post-run gc.collect", ("run", "gc")),
                             ("+ gc + websocket serialisation", ("run", "gc", "ser"))):
            page_ms, base_ms = sum(page[k] for k in kinds), sum(base[k] for k in kinds)
            print(f"  real-server {label}: {page_ms:.1f} ms vs {base_ms:.1f} ms ({page_ms / base_ms:.2f}x)")
        print(f"  (medians of the parts: script-thread CPU time of the run {page['cpu']:.1f} ms vs "
              f"{base['cpu']:.1f} ms - the rest of the run the thread waits: for the GIL while the "
              "event loop sends the messages, or for a CPU; "
              f"gc.collect {page['gc']:.1f} ms vs {base['gc']:.1f} ms, "
              f"serialisation {page['ser']:.1f} ms vs {base['ser']:.1f} ms)")
        print(f"  app server resident memory: {page['rss_before']:.0f} MiB before the timed reruns, "
              f"{page['rss_after']:.0f} MiB after them")
        print(f"  first showing of a pair (not in the figures above): rendering the three texts to HTML "
              f"takes {first_render_ms(texts):.0f} ms once; the result is cached for later reruns and other "
              "sessions of the server process")
        judged = "real-server"
        why = "a real `streamlit run` timed inside the server until the run's end is sent; no test harness"
    else:
        judged = "server"
        why = "real server skipped; AppTest with a shared script cache, which adds AppTest's element parsing"
    ratio = results[judged][0] / results[judged][1]
    print(f"target judged on {judged} ({why}): ratio {ratio:.2f}x (target <= {TARGET}x) -> "
          f"{'OK' if ratio <= TARGET else 'ABOVE TARGET'}")
    return 0


def serve(script: Path, port: int, timings: Path) -> int:
    """Run ``streamlit run SCRIPT`` in this process, timing every script run into ``timings``.

    Each rerun appends ``gc SECONDS`` (Streamlit's post-run ``gc.collect``, done after the
    browser was told the run finished), ``cpu SECONDS`` (CPU time of the script thread in
    the run, without that collection) and ``run SECONDS`` (the rest of
    ``ScriptRunner._run_script``) when it ends; when the next one starts, ``ser SECONDS``
    (websocket serialisation since then) is appended first, so ``ser`` k+1 belongs to ``run`` k.
    """
    import gc
    import threading

    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.web import cli
    from streamlit.web.server.starlette import starlette_websocket

    lock = threading.Lock()
    serialised = [0.0]
    collected = threading.local()  # post-run gc.collect time of this script thread's current run

    class TimedGc:
        """``gc`` as seen by the script runner, with ``collect`` timed."""

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(gc, name)

        @staticmethod
        def collect(*args):  # type: ignore[no-untyped-def]
            start, cpu_start = time.perf_counter(), time.thread_time()
            try:
                return gc.collect(*args)
            finally:
                collected.seconds = getattr(collected, "seconds", 0.0) + time.perf_counter() - start
                collected.cpu = getattr(collected, "cpu", 0.0) + time.thread_time() - cpu_start
    original_serialise = starlette_websocket.serialize_forward_msg
    original_run = script_runner.ScriptRunner._run_script

    def timed_serialise(msg):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original_serialise(msg)
        finally:
            with lock:
                serialised[0] += time.perf_counter() - start

    def timed_run(self, rerun_data):  # type: ignore[no-untyped-def]
        with lock:
            before, serialised[0] = serialised[0], 0.0
        with timings.open("a", encoding="utf-8") as fh:
            fh.write(f"ser {before:.6f}\n")
        collected.seconds = collected.cpu = 0.0
        start = time.perf_counter()
        cpu_start = time.thread_time()
        profiler = None
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        try:
            return original_run(self, rerun_data)
        finally:
            elapsed = time.perf_counter() - start
            cpu = time.thread_time() - cpu_start
            if profiler is not None:
                profiler.disable()
                profile_dir = Path(os.environ["BENCH_PROFILE"])
                target = profile_dir if profile_dir.is_dir() else timings.parent
                profiler.dump_stats(str(target / f"{timings.name}.{time.monotonic_ns()}.prof"))
            with timings.open("a", encoding="utf-8") as fh:
                fh.write(f"gc {collected.seconds:.6f}\ncpu {cpu - collected.cpu:.6f}\n"
                         f"run {elapsed - collected.seconds:.6f}\n")

    starlette_websocket.serialize_forward_msg = timed_serialise  # type: ignore[assignment]
    script_runner.ScriptRunner._run_script = timed_run  # type: ignore[method-assign]
    script_runner.gc = TimedGc()  # type: ignore[assignment]
    sys.argv = ["streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
                "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
                "--server.runOnSave", "false", "--browser.gatherUsageStats", "false",
                "--global.developmentMode", "false", "--logger.level", "warning"]
    return cli.main()  # type: ignore[no-any-return]


def first_render_ms(texts: list[str]) -> float:
    """Milliseconds to build the annotator page's text view of ``texts`` with empty caches
    (what the first showing of a pair pays once; reruns reuse the cached HTML)."""
    from annotate.ui.kit.panes import text_view_html
    from annotate.ui.kit.safe_html import markdown_to_safe_html

    timings = []
    for _ in range(3):
        markdown_to_safe_html.cache_clear()
        text_view_html.cache_clear()
        start = time.perf_counter()
        text_view_html(query=texts[0], responses=(("Response A", texts[1]), ("Response B", texts[2])))
        timings.append(time.perf_counter() - start)
    return 1000 * statistics.median(timings)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TimedServer:
    """One ``streamlit run`` of ``script`` (this file's ``--serve`` mode) and its timings file."""

    def __init__(self, script: Path, tmp: Path, name: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.timings = tmp / f"{name}.timings"
        self.log = tmp / f"{name}.log"
        with self.log.open("w") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve", str(script), str(self.port),
                 str(self.timings)], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{name} server exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(  # noqa: S310
                    f"{self.url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{name} server not up after 90 s:\n{self.log.read_text()[-3000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[tuple[str, float]]:
        if not self.timings.exists():
            return []
        return [(kind, float(value)) for kind, value in
                (line.split() for line in self.timings.read_text(encoding="utf-8").splitlines() if line)]

    def runs(self) -> int:
        return sum(1 for kind, _ in self.lines() if kind == "run")

    def stop(self) -> None:
        """SIGTERM its own process group (SIGKILL after 10 s)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


_SETTLED_JS = ("() => !!document.querySelector(\"[data-testid='stApp']\")"
               " && !document.querySelector(\"[data-testid='stStatusWidgetRunningIcon']\")"
               " && !document.querySelector(\"[data-stale='true']\")")


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        page.wait_for_function(_SETTLED_JS, timeout=60_000)
        page.wait_for_timeout(150)


def _rerun(page, server: TimedServer) -> None:  # type: ignore[no-untyped-def]
    """Press "r" (Streamlit's rerun shortcut) and wait for the server's run and the page to settle."""
    before = server.runs()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("r")
    deadline = time.monotonic() + 60
    while server.runs() == before:
        if time.monotonic() > deadline:
            raise SystemExit(f"no rerun recorded by {server.url}:\n{server.log.read_text()[-3000:]}")
        time.sleep(0.02)
    _settle(page)
    page.wait_for_timeout(200)  # let the browser finish painting before the next timed run


def measure_real_server(texts: list[str], reruns: int, tmp: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Median ms per rerun under real servers, (page, baseline): ``run`` (script run until the
    browser is told it finished), ``gc`` (Streamlit's post-run ``gc.collect``), ``ser``
    (websocket serialisation of the run's messages)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} not found (pass --no-real-server)")
    (tmp / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    baseline_script = tmp / "baseline_app.py"
    baseline_script.write_text(BASELINE_SERVER_SCRIPT, encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1", BENCH_TEXTS=str(tmp / "texts.json"))
    servers: list[TimedServer] = []
    try:
        servers.append(TimedServer(APP, tmp, "app", env))
        servers.append(TimedServer(baseline_script, tmp, "baseline", env))
        app, base = servers
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
                args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(60_000)
            try:
                page = context.new_page()
                page.goto(app.url)
                page.get_by_role("textbox", name="Username").fill("bench")
                page.get_by_role("textbox", name="Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Judge pairs").click()
                page.get_by_role("heading", name="Judge pairs").wait_for()
                page.get_by_role("button", name="A is better").wait_for()
                _settle(page)
                bare = context.new_page()
                bare.goto(base.url)
                bare.get_by_text("Report draft 2: section 1").first.wait_for()
                _settle(bare)
                for _ in range(3):  # warm-up: caches, first-run imports
                    _rerun(page, app)
                    _rerun(bare, base)
                app_skip, base_skip = app.runs(), base.runs()
                memory = [resident_mib(app.process.pid)]
                for _ in range(reruns):
                    _rerun(page, app)
                    _rerun(bare, base)
                memory.append(resident_mib(app.process.pid))
                _rerun(page, app)  # flushes the last timed run's serialisation figure
                _rerun(bare, base)
                if not page.get_by_role("heading", name="Judge pairs").is_visible():
                    raise SystemExit("the annotator page was not showing at the end of the real-server runs")
            finally:
                context.close()
    finally:
        for server in servers:
            server.stop()
    app_medians = _medians(app, app_skip, reruns)
    app_medians["rss_before"], app_medians["rss_after"] = memory
    return app_medians, _medians(base, base_skip, reruns)


def resident_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux ``/proc``; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _medians(server: TimedServer, skip: int, reruns: int) -> dict[str, float]:
    """Median ms of each figure (``run``, ``gc``, ``ser``) over the ``reruns`` runs after the first ``skip``."""
    lines = server.lines()
    series = {kind: [value for k, value in lines if k == kind] for kind in ("run", "gc", "ser", "cpu")}
    series["ser"] = series["ser"][1:]  # ser k+1 belongs to run k
    medians = {}
    for kind, values in series.items():
        timed = values[skip:skip + reruns]
        if len(timed) != reruns:
            raise SystemExit(f"{server.url}: expected {reruns} timed {kind} figures, found {len(timed)}")
        medians[kind] = 1000 * statistics.median(timed)
    return medians


def measure(user_id: int, texts: list[str], reruns: int, *, shared_cache: bool) -> tuple[float, float]:
    """Median ms per rerun of (annotator page, baseline)."""
    import streamlit.testing.v1.app_test as app_test_module
    import streamlit.testing.v1.local_script_runner as runner_module
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest

    originals = (app_test_module.ScriptCache, runner_module.ScriptCache)
    if shared_cache:
        cache = ScriptCache()
        app_test_module.ScriptCache = runner_module.ScriptCache = lambda: cache  # type: ignore[assignment]
    try:
        page = AppTest.from_file(str(SCRIPT), default_timeout=120)
        page.session_state["user_id"] = user_id
        page.run()
        page.switch_page("app_pages/annotate/judge_pairs.py").run()
        if page.exception or not any(b.label == "A is better" for b in page.button):
            raise SystemExit(f"the annotator page did not render the pair: {page.exception}")
        baseline = AppTest.from_string(BASELINE_SCRIPT, default_timeout=120)
        baseline.session_state["bench_texts"] = texts
        baseline.run()
        page_times: list[float] = []
        base_times: list[float] = []
        for _ in range(reruns):
            start = time.perf_counter()
            page.run()
            page_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            baseline.run()
            base_times.append(time.perf_counter() - start)
        if page.exception or baseline.exception:
            raise SystemExit(f"a rerun failed: {page.exception or baseline.exception}")
    finally:
        app_test_module.ScriptCache, runner_module.ScriptCache = originals
    return 1000 * statistics.median(page_times), 1000 * statistics.median(base_times)


if __name__ == "__main__":
    sys.exit(main())
