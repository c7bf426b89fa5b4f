"""Benchmark: import of WritingBench's 1,000-query file vs. only parsing it with json.loads.

Both are measured in the same run, alternately, ``--repeat`` times each; the import goes
into a fresh SQLite file each time (created and migrated, with the taxonomy seeded, before
the clock starts, as ``annotate init`` would). Target: import <= 3x parse (median of the
wall-clock times). The load average is printed before and after, and each figure also as
CPU time of this process (``time.process_time``), which other processes on a busy machine
disturb less; CPU time leaves out waiting for the disk (SQLite's fsync at the checkpoint).

Usage:
    .venv/bin/python bench/import_queries.py [FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from annotate.db.engine import SQLITE_PAGE_SIZE, init_db, session_scope
from annotate.services.content.imports import import_queries
from annotate.services.core.taxonomy import seed_taxonomy
from metaeval.data_location import BENCHMARK_FILE, writingbench_data_dir

DEFAULT_FILE = writingbench_data_dir(Path(__file__).resolve().parents[1]) / BENCHMARK_FILE
TARGET_RATIO = 3.0


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clocks()
    return wall - start[0], cpu - start[1]


def parse_only(path: Path) -> tuple[float, float]:
    """Seconds (wall, CPU) to read the file and ``json.loads`` every line (the baseline)."""
    start = _clocks()
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    elapsed = _since(start)
    assert records
    return elapsed


def sqlite_floor(path: Path, folder: Path, run: int) -> tuple[float, float]:
    """Seconds for plain ``sqlite3`` to parse the file and store each query text once (in a
    table of its own, no criteria) in one committed transaction, with the app's pragmas
    (page size, WAL, synchronous=NORMAL): the cost of the query bytes alone."""
    import sqlite3

    con = sqlite3.connect(folder / f"floor{run}.db", isolation_level=None)
    con.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, idx INTEGER UNIQUE, text TEXT)")
    start = _clocks()
    with open(path, encoding="utf-8") as handle:
        rows = [(r["index"], r["query"]) for r in (json.loads(line) for line in handle if line.strip())]
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO q (idx, text) VALUES (?, ?)", rows)
    con.execute("COMMIT")
    elapsed = _since(start)
    con.close()
    return elapsed


def schema_floor(path: Path, folder: Path, run: int) -> tuple[float, float]:
    """Seconds (wall, CPU) for plain ``sqlite3`` to parse the file and write the rows the
    import writes (query, instruction version 1, criteria set, 5 criteria) into the app's own
    migrated tables, with its pragmas, in one transaction: no validation, no SQLAlchemy. The
    part of the import's time that this leaves is the project's own overhead."""
    import sqlite3

    db = folder / f"schema{run}.db"
    engine = init_db(f"sqlite:///{db}")
    try:
        with session_scope(engine) as session:
            seed_taxonomy(session)
    finally:
        engine.dispose()
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    now = "2025-01-01 00:00:00.000000"
    start = _clocks()
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    con.execute("BEGIN IMMEDIATE")
    subdomain = con.execute("SELECT min(id) FROM subdomain").fetchone()[0]
    con.executemany(
        'INSERT INTO query ("index", subdomain_id, lang, original_text, extra, source, needs_materials, '
        "material_requirement, content_revision, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(r["index"], subdomain, "en", r["query"], "{}", path.name, 0, "", 1, now) for r in records])
    ids = dict(con.execute('SELECT "index", id FROM query'))
    con.executemany(
        "INSERT INTO instructionversion (query_id, version_no, text, status, reason, review_note, "
        "created_at, reviewed_at) VALUES (?, 1, NULL, 'approved', 'imported', '', ?, ?)",
        [(ids[r["index"]], now, now) for r in records])
    con.executemany(
        "INSERT INTO criteriaset (method, name, lang, query_id, source, created_at) "
        "VALUES ('dynamic', 'checklist', 'en', ?, 'checklist', ?)", [(ids[r["index"]], now) for r in records])
    set_ids = dict(con.execute("SELECT query_id, id FROM criteriaset WHERE query_id IS NOT NULL"))
    con.executemany(
        "INSERT INTO criterion (criteria_set_id, position, name, description, band_1_2, band_3_4, band_5_6, "
        "band_7_8, band_9_10, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')",
        [(set_ids[ids[r["index"]]], i, c["name"], c["criteria_description"], c["1-2"], c["3-4"], c["5-6"],
          c["7-8"], c["9-10"]) for r in records for i, c in enumerate(r["checklist"])])
    con.execute("COMMIT")
    elapsed = _since(start)
    con.close()
    return elapsed


def import_once(path: Path, folder: Path, run: int) -> tuple[tuple[float, float], int]:
    """Seconds (wall, CPU) for ``import_queries`` into a fresh, migrated SQLite file; and
    queries inserted."""
    engine = init_db(f"sqlite:///{folder / f'bench{run}.db'}")
    try:
        with session_scope(engine) as session:
            seed_taxonomy(session)
        with session_scope(engine) as session:
            start = _clocks()
            report = import_queries(session=session, path=path)
            elapsed = _since(start)
    finally:
        engine.dispose()
    return elapsed, report.inserted


def _line(label: str, times: list[tuple[float, float]], parse: tuple[float, float] | None) -> str:
    wall = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    ratio = "" if parse is None else f" ({wall / parse[0]:.2f}x parse; CPU {cpu / parse[1]:.2f}x)"
    return (f"{label}: median {wall:.3f} s wall, {cpu:.3f} s CPU{ratio}  "
            f"wall runs {[round(t[0], 3) for t in times]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"missing {args.file}", file=sys.stderr)
        return 1
    load_before = os.getloadavg()
    parse_times: list[tuple[float, float]] = []
    import_times: list[tuple[float, float]] = []
    floor_times: list[tuple[float, float]] = []
    schema_times: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        parse_only(args.file)  # warm the page cache for both
        for run in range(args.repeat):
            parse_times.append(parse_only(args.file))
            elapsed, inserted = import_once(args.file, Path(tmp), run)
            import_times.append(elapsed)
            floor_times.append(sqlite_floor(args.file, Path(tmp), run))
            schema_times.append(schema_floor(args.file, Path(tmp), run))
    load_after = os.getloadavg()
    parse = (statistics.median(t[0] for t in parse_times), statistics.median(t[1] for t in parse_times))
    ratio = statistics.median(t[0] for t in import_times) / parse[0]
    print(f"file: {args.file} ({args.file.stat().st_size / 1e6:.1f} MB, {inserted} queries); "
          f"{os.cpu_count()} CPUs, load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(_line("parse only (json.loads)", parse_times, None))
    print(_line("import into fresh SQLite", import_times, parse))
    print(_line("floor: parse + raw sqlite3 write of only the query texts", floor_times, parse))
    print(_line("floor: parse + raw sqlite3 write of the same rows into the app's tables", schema_times, parse))
    print(f"ratio import/parse (wall medians): {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x): "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
