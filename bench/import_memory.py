"""Benchmark: peak memory and time of importing one very long line, valid and cut off, next to a bare parse.

A real WritingBench record (line 1 of the file) gets its query padded with its own text to about
``--mb`` megabytes of UTF-8. Three runs, each in a fresh Python process so peak RSS
(``VmHWM`` of ``/proc/self/status``) belongs to that run alone:

- ``parse``: ``json.loads`` of the valid line (the baseline: what reading the line costs anyway);
- ``import valid``: ``annotate import queries`` logic (``import_queries`` into a fresh SQLite file);
- ``import broken``: the same line cut off in the middle of the query; the import must refuse it
  with a located error.

Each child reports its RSS after its imports (``base``) and its peak; the table prints peak, the
growth over base and the wall time, with the growth as a multiple of the line's size. Target:
every import grows by at most a small multiple (<= 6x) of the line, and the broken line costs no
more than the valid one.

Usage:
    .venv/bin/python bench/import_memory.py [FILE] [--mb 50]   (FILE: $WRITINGBENCH_DATA/benchmark_all.jsonl)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from metaeval.data_location import writingbench_data_dir

DEFAULT_FILE = writingbench_data_dir(Path(__file__).resolve().parents[1]) / "benchmark_all.jsonl"
TARGET_MULTIPLE = 6.0
REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, time
mode, path, work = sys.argv[1:4]

def status_kib(key):
    # /proc/self/status, not ru_maxrss: ru_maxrss carries the parent's peak over exec
    with open("/proc/self/status") as handle:
        return next(int(l.split()[1]) for l in handle if l.startswith(key + ":"))

if mode != "parse":
    from annotate.db.engine import init_db, session_scope
    from annotate.services.content.imports import import_queries
    from annotate.services.core.errors import InputError
    from annotate.services.core.taxonomy import seed_taxonomy
    engine = init_db(f"sqlite:///{work}/bench.db")
    with session_scope(engine) as session:
        seed_taxonomy(session)
base = status_kib("VmRSS")
start = time.perf_counter()
outcome = "ok"
if mode == "parse":
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            json.loads(line)
else:
    try:
        with session_scope(engine) as session:
            import_queries(session=session, path=path)
    except InputError as exc:
        outcome = f"refused: field {exc.field}: {exc.message[:60]}"
wall = time.perf_counter() - start
peak = status_kib("VmHWM")
print(json.dumps({"base_kib": base, "peak_kib": peak, "wall_s": wall, "outcome": outcome}))
"""


def _files(source: Path, megabytes: float, folder: Path) -> tuple[Path, Path, int]:
    with open(source, encoding="utf-8") as handle:
        record = json.loads(handle.readline())
    unit = record["query"]
    want = int(megabytes * 2**20)
    repeats = max(1, want // len(unit.encode("utf-8")))
    record["query"] = unit * repeats
    line = json.dumps(record, ensure_ascii=False)
    valid = folder / "valid.jsonl"
    valid.write_text(line + "\n", encoding="utf-8")
    broken = folder / "broken.jsonl"
    broken.write_text(line[: len(line) // 2] + "\n", encoding="utf-8")
    return valid, broken, valid.stat().st_size


def _run(mode: str, path: Path, folder: Path) -> dict:
    work = Path(tempfile.mkdtemp(dir=folder))
    proc = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path), str(work)], capture_output=True,
                          text=True, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--mb", type=float, default=50.0, help="size of the long line in MB (default 50)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        valid, broken, size = _files(args.file, args.mb, folder)
        rows = [("parse (json.loads, baseline)", _run("parse", valid, folder)),
                ("import valid", _run("import", valid, folder)),
                ("import broken (cut in half)", _run("import", broken, folder))]
    print(f"line: {size / 2**20:.1f} MiB of UTF-8 ({args.file.name} line 1, query padded)")
    print(f"{'run':30} {'peak MiB':>9} {'grew MiB':>9} {'grew/line':>9} {'wall s':>7}  outcome")
    worst = 0.0
    for name, r in rows:
        grew = (r["peak_kib"] - r["base_kib"]) * 1024
        multiple = grew / size
        if name.startswith("import"):
            worst = max(worst, multiple)
        print(f"{name:30} {r['peak_kib'] / 1024:9.0f} {grew / 2**20:9.0f} {multiple:9.1f} {r['wall_s']:7.2f}  "
              f"{r['outcome']}")
    verdict = "met" if worst <= TARGET_MULTIPLE else "NOT met"
    print(f"target: import grows by <= {TARGET_MULTIPLE:.0f}x the line: worst {worst:.1f}x ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
