"""Every CSV written by annotate/ or metaeval/ goes through metaeval.csv_safe.

The check reads the source (AST): outside ``metaeval/csv_safe.py`` no module may call
``csv.writer`` / ``csv.DictWriter`` (however ``csv`` is imported), import those names from ``csv``,
or call a ``.to_csv(...)`` / ``.write_csv(...)`` method (pandas, polars). Reading CSV stays free.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ALLOWED = {ROOT / "metaeval" / "csv_safe.py"}
WRITER_NAMES = {"writer", "DictWriter"}
FRAME_WRITERS = {"to_csv", "write_csv"}


def csv_writes_elsewhere(source: str) -> list[str]:
    """Lines of ``source`` that write CSV without the safe writer (``'line: what'``)."""
    tree = ast.parse(source)
    csv_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            csv_aliases |= {a.asname or a.name for a in node.names if a.name == "csv"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "csv":
            bad = [a.name for a in node.names if a.name in WRITER_NAMES or a.name == "*"]
            if bad:
                found.append(f"{node.lineno}: from csv import {', '.join(bad)}")
        elif isinstance(node, ast.Attribute):
            if (node.attr in WRITER_NAMES and isinstance(node.value, ast.Name)
                    and node.value.id in csv_aliases):
                found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
            elif node.attr in FRAME_WRITERS:
                found.append(f"{node.lineno}: .{node.attr}(...)")
    return found


def test_the_checker_sees_each_way_of_writing_csv() -> None:
    # each snippet writes CSV around the safe writer; the count is what each line shows
    assert len(csv_writes_elsewhere("import csv\nw = csv.writer(f)\n")) == 1
    assert len(csv_writes_elsewhere("import csv as c\nw = c.DictWriter(f, ['a'])\n")) == 1
    assert len(csv_writes_elsewhere("from csv import writer\n")) == 1
    assert len(csv_writes_elsewhere("frame.to_csv('x.csv')\n")) == 1
    assert len(csv_writes_elsewhere("from functools import partial\np = partial(frame.to_csv, index=False)\n")) == 1
    assert csv_writes_elsewhere("import csv\nrows = list(csv.reader(f))\n") == []
    assert csv_writes_elsewhere("from metaeval import csv_safe\nw = csv_safe.writer(f)\n") == []


def test_no_module_writes_csv_around_csv_safe() -> None:
    offenders = []
    for package in ("annotate", "metaeval"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path in ALLOWED:
                continue
            for hit in csv_writes_elsewhere(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(ROOT)}:{hit}")
    assert not offenders, "write CSV with metaeval.csv_safe instead:\n" + "\n".join(offenders)
