"""``docs/layout.md`` lists every page of the app, one line per room, and names only files that exist.

Each line of its first table is a page: its address must be a page of the registry
(:data:`annotate.navigation.PAGES`), every page must have a line, the page file must be the one
the registry names, and each file and table the line names must exist. The second table (rooms
without a page) names files and folders under ``annotate/`` and tests under ``tests/``.
"""

from __future__ import annotations

import re
from pathlib import Path

from annotate.db import models
from annotate.navigation import PAGES

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "layout.md"
TICKED = re.compile(r"`([^`]+)`")
#: Where the paths of each column of the page table start.
PAGE_COLUMNS = {1: ROOT / "annotate" / "app_pages", 2: ROOT / "annotate" / "ui", 3: ROOT / "annotate" / "services"}


def _tables() -> list[list[list[str]]]:
    """The markdown tables of the document: rows of cells, header and rule left out."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current is None:
            current = []
            tables.append(current)
            continue  # the header
        if set("".join(cells)) <= set("- "):
            continue  # the rule under the header
        current.append(cells)
    return tables


def _path(token: str, base: Path) -> Path:
    return ROOT / token if token.startswith("tests/") else base / token


def test_every_page_has_its_line_and_its_file() -> None:
    pages = _tables()[0]
    by_address = {p.url_path: p for p in PAGES}
    listed = {}
    for row in pages:
        address = re.search(r"\(`/([a-z-]+)`\)", row[0])
        assert address, f"no address in {row[0]!r}"
        assert address.group(1) in by_address, f"{address.group(1)}: not a page of annotate/navigation.py"
        listed[address.group(1)] = row
        assert TICKED.findall(row[1]) == [by_address[address.group(1)].file], row[1]
    assert sorted(listed) == sorted(by_address), "pages without a line in docs/layout.md"


def test_the_files_and_tables_named_exist() -> None:
    tables = _tables()
    missing = []
    for row in tables[0]:
        for column, base in PAGE_COLUMNS.items():
            missing += [t for t in TICKED.findall(row[column]) if not _path(t, base).exists()]
        missing += [t for t in TICKED.findall(row[4]) if not hasattr(models, t)]
        missing += [t for t in TICKED.findall(row[5]) if not (ROOT / t).exists()]
    for row in tables[1]:
        missing += [t for cell in row[1:] for t in TICKED.findall(cell)
                    if not _path(t, ROOT / "annotate").exists()]
    assert not missing, f"docs/layout.md names what is not there: {missing}"
