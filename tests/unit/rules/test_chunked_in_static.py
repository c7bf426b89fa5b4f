"""One way to split long ``IN (...)`` lists: :func:`annotate.services.core.bulk.chunked`.

A hand-written ``for start in range(0, len(x), 500)`` loop elsewhere is a second copy of the
rule (and of its limit); this scan fails on one.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HAND_CHUNKED = re.compile(r"range\(\s*0\s*,\s*len\([^)]*\)\s*,\s*(?:500|_CHUNK|\d{3,})\s*\)")


def test_in_lists_are_split_by_one_helper() -> None:
    hits = []
    for path in sorted((REPO / "annotate").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if HAND_CHUNKED.search(line) and not path.match("services/core/bulk.py"):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not hits, "split IN lists with annotate.services.core.bulk.chunked:\n" + "\n".join(hits)


def test_the_scan_sees_a_hand_written_loop() -> None:
    assert HAND_CHUNKED.search("for start in range(0, len(ids), 500):")
    assert not HAND_CHUNKED.search("for chunk in chunked(ids):")
