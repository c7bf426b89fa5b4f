"""Benchmark: import of WritingBench's 1,000-query file vs. only parsing it with json.loads.

Both are measured in the same run, alternately, ``--repeat`` times each; the import goes
into a fresh SQLite file each time (created and migrated, with the taxonomy seeded, before
the clock starts, as ``annotate init`` would). Target: import <= 3x parse (median).

Usage:
    .venv/bin/python bench/import_queries.py [FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from annotate.db.engine import init_db, session_scope
from annotate.services.imports import import_queries
from annotate.services.taxonomy import seed_taxonomy

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "writingbench" / "benchmark_all.jsonl"
TARGET_RATIO = 3.0


def parse_only(path: Path) -> float:
    """Seconds to read the file and ``json.loads`` every line (the baseline)."""
    start = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    elapsed = time.perf_counter() - start
    assert records
    return elapsed


def sqlite_floor(path: Path, folder: Path, run: int) -> float:
    """Seconds for plain ``sqlite3`` to parse the file and store each query text twice (the
    query and its instruction version 1, as the import does) in one committed transaction,
    with the app's pragmas (WAL, synchronous=NORMAL): a floor no import can beat."""
    import sqlite3

    con = sqlite3.connect(folder / f"floor{run}.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, idx INTEGER UNIQUE, text TEXT)")
    con.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, q INTEGER, text TEXT)")
    start = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        rows = [(r["index"], r["query"]) for r in (json.loads(line) for line in handle if line.strip())]
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO q (idx, text) VALUES (?, ?)", rows)
    con.executemany("INSERT INTO v (q, text) VALUES (?, ?)", rows)
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def import_once(path: Path, folder: Path, run: int) -> tuple[float, int]:
    """Seconds for ``import_queries`` into a fresh, migrated SQLite file; and rows inserted."""
    engine = init_db(f"sqlite:///{folder / f'bench{run}.db'}")
    try:
        with session_scope(engine) as session:
            seed_taxonomy(session)
        with session_scope(engine) as session:
            start = time.perf_counter()
            report = import_queries(session=session, path=path)
            elapsed = time.perf_counter() - start
    finally:
        engine.dispose()
    return elapsed, report.inserted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"missing {args.file}", file=sys.stderr)
        return 1
    parse_times: list[float] = []
    import_times: list[float] = []
    floor_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        parse_only(args.file)  # warm the page cache for both
        for run in range(args.repeat):
            parse_times.append(parse_only(args.file))
            elapsed, inserted = import_once(args.file, Path(tmp), run)
            import_times.append(elapsed)
            floor_times.append(sqlite_floor(args.file, Path(tmp), run))
    parse_med, import_med = statistics.median(parse_times), statistics.median(import_times)
    ratio = import_med / parse_med
    print(f"file: {args.file} ({args.file.stat().st_size / 1e6:.1f} MB, {inserted} queries)")
    print(f"parse only (json.loads): median {parse_med:.3f} s  runs {[round(t, 3) for t in parse_times]}")
    print(f"import into fresh SQLite: median {import_med:.3f} s  runs {[round(t, 3) for t in import_times]}")
    floor_med = statistics.median(floor_times)
    print(f"floor: parse + raw sqlite3 write of the texts: median {floor_med:.3f} s "
          f"({floor_med / parse_med:.2f}x parse)  runs {[round(t, 3) for t in floor_times]}")
    print(f"ratio import/parse: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x): "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
