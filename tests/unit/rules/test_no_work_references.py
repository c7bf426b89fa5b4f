"""Code and tests speak of the code, not of how the work on it was organised.

A comment or docstring that cites a tracker entry ("issue 23 §4", "#17 §3") sends the reader to
a place outside the repository that says why the code was once changed, not what it does; the
sentence should say that instead. Documentation (``docs/``, ``CHANGELOG.md``) may cite issues.
A "§" is allowed where the same line names the published work it cites (a paper's section).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCANNED_DIRS = ("annotate", "metaeval", "tests", "bench", "scripts")
THIS_FILE = Path(__file__).resolve()

#: "issue 23", "Issue #7", "issues 21" (a tracker entry), "#17 §3".
TRACKER = re.compile(r"\b[Ii]ssues? #?\d+|#\d+ ?§")
SECTION = re.compile(r"§")
#: Published works whose sections a line may cite.
CITED_WORKS = re.compile(r"HoWToBench|WritingBench|arXiv|RFC \d+")


def work_references(text: str) -> list[tuple[int, str]]:
    """(line, text) of each line that cites a tracker entry, or a section of no named work.

    Example:
        >>> work_references("x = 1  # the button stays clickable (issue 23 §4)\\n")
        [(1, 'x = 1  # the button stays clickable (issue 23 §4)')]
        >>> work_references("# Tree-of-Writing (HoWToBench, arXiv 2604.19071 §3)\\n")
        []
    """
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if TRACKER.search(line) or (SECTION.search(line) and not CITED_WORKS.search(line)):
            found.append((number, line.strip()))
    return found


def _files() -> list[Path]:
    return [p for d in SCANNED_DIRS for p in sorted((ROOT / d).rglob("*.py"))
            if p.resolve() != THIS_FILE]


def test_the_scan_sees_the_code_and_the_tests() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _files()}
    assert {"annotate/services/refine/uploads.py", "tests/app/test_refine_pages.py"} <= names


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_tracker_references(path: Path) -> None:
    hits = work_references(path.read_text(encoding="utf-8"))
    assert not hits, (f"{path.relative_to(ROOT)}: say what the code does instead of citing the tracker: "
                      + "; ".join(f"line {n}: {line}" for n, line in hits))


@pytest.mark.parametrize("line", [
    "Uploads a study brings (issue 23 §6): tables.",
    "# a rejection says why (Issue #4)",
    "# see #17 §3",
    "    (§10): after an approved edit",
])
def test_the_scan_sees_a_tracker_reference(line: str) -> None:
    assert work_references(line)


@pytest.mark.parametrize("line", [
    "#: Genre transfer (HoWToBench §6.2): an LLM rewrites the response.",
    "# the issue is that a tie counts twice",
    "assignment_id = 23  # issued to the annotator",
])
def test_the_scan_leaves_other_lines_alone(line: str) -> None:
    assert work_references(line) == []
