"""One JSON Lines reader: metaeval.io.json_lines. annotate and metaeval turn its errors into their
own input errors; nothing else parses JSON Lines line by line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotate.services.core.errors import InputError
from annotate.services.core.jsonl import read_jsonl
from metaeval.io import InputFileError, iter_jsonl

REPO = Path(__file__).resolve().parents[3]
#: strict line parsing outside the reader: the parser itself and the API's request bodies (not files)
ALLOWED = {"metaeval/io.py", "metaeval/strict_json.py", "annotate/api/bodies.py"}


def test_only_the_reader_parses_lines():
    users = {str(p.relative_to(REPO)) for pkg in ("annotate", "metaeval") for p in (REPO / pkg).rglob("*.py")
             if re.search(r"\bloads_line\(", p.read_text(encoding="utf-8"))}
    assert users <= ALLOWED, sorted(users - ALLOWED)


@pytest.mark.parametrize(("content", "line"), [
    (b'{"a": 1}\n{"a": NaN}\n', 2),
    (b'{"a": 1}\n[1, 2]\n', 2),
    (b'\xef\xbb\xbf{"a": 1}\n\n{"a": "\xff"}\n', 3),
    (b'{"a": 1, "a": 2}\n', 1),
])
def test_both_packages_stop_at_the_same_line(tmp_path: Path, content: bytes, line: int):
    p = tmp_path / "x.jsonl"
    p.write_bytes(content)
    with pytest.raises(InputError) as app:
        read_jsonl(p)
    with pytest.raises(InputFileError) as lib:
        list(iter_jsonl(p))
    assert app.value.line == lib.value.line == line


def test_both_packages_read_the_same_records(tmp_path: Path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n{"a": "\\u00e9"}\n')
    assert read_jsonl(p) == list(iter_jsonl(p)) == [(1, {"a": 1}), (3, {"a": "é"})]
