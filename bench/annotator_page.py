"""Server-side time of one rerun of the annotator page with the longest texts.

Shows the longest real WritingBench query (about 31k characters, read from
``../shared/data/writingbench/benchmark_all.jsonl`` or ``--queries FILE``) with two
40k-character responses on the "Judge pairs" page (``streamlit.testing.v1.AppTest``
against a temporary SQLite file seeded through the services), and times a rerun of it
next to a bare Streamlit script that renders the same three strings with ``st.markdown``
(the baseline), in the same process. Reruns of the two are interleaved; the median is
reported. Target: page <= 1.5 x baseline.

Two figures are printed for each script:

* ``server``: AppTest sharing one compiled-script cache across reruns, as a running
  server does (``Runtime`` keeps one ``ScriptCache`` for its lifetime) - the figure the
  target applies to;
* ``apptest-raw``: plain AppTest, which compiles (and rewrites for "magic") the entry
  script and the page again on every run - an AppTest artifact, shown for completeness.

    .venv/bin/python bench/annotator_page.py [--queries FILE] [--reruns 15] [--chars 40000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_QUERIES = ROOT.parent / "shared" / "data" / "writingbench" / "benchmark_all.jsonl"
APP = ROOT / "annotate" / "streamlit_app.py"
PASSWORD = "bench-password-1"
TARGET = 1.5

BASELINE_SCRIPT = """
import streamlit as st
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
    from annotate.services import users
    from annotate.services.imports import import_queries, import_responses
    from annotate.services.studies import StudyDesign, create_study
    from annotate.services.taxonomy import seed_taxonomy

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
                        help="WritingBench queries JSONL (default: ../shared/.../benchmark_all.jsonl)")
    parser.add_argument("--reruns", type=int, default=15, help="timed reruns of each script")
    parser.add_argument("--chars", type=int, default=40_000, help="characters per response")
    args = parser.parse_args(argv)
    if not args.queries.is_file():
        raise SystemExit(f"{args.queries}: not found (pass --queries FILE)")
    logging.basicConfig(level=logging.WARNING)

    record = longest_query(args.queries)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db_url = f"sqlite:///{tmp / 'bench.db'}"
        os.environ["ANNOTATE_DB_URL"] = db_url
        user_id, texts = seed(db_url, record, args.chars, tmp)
        results = {mode: measure(user_id, texts, args.reruns, shared_cache=(mode == "server"))
                   for mode in ("apptest-raw", "server")}

    print(f"query {record['index']} ({len(texts[0]):,} chars) + 2 responses ({args.chars:,} chars each), "
          f"{args.reruns} interleaved reruns each, median time per rerun:")
    print(f"  {'mode':<12} {'annotator page':>15} {'bare baseline':>14} {'ratio':>7}")
    for mode, (page_ms, base_ms) in results.items():
        print(f"  {mode:<12} {page_ms:12.1f} ms {base_ms:11.1f} ms {page_ms / base_ms:6.2f}x")
    ratio = results["server"][0] / results["server"][1]
    print(f"server-side ratio {ratio:.2f}x (target <= {TARGET}x) -> {'OK' if ratio <= TARGET else 'ABOVE TARGET'}")
    return 0


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
        page = AppTest.from_file(str(APP), default_timeout=120)
        page.session_state["user_id"] = user_id
        page.run()
        page.switch_page("app_pages/annotate_pairs.py").run()
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
