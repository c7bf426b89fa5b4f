"""Reading JSON Lines files with errors that name the file, the line and the field.

A UTF-8 byte order mark is accepted; bytes that are not UTF-8, lines that are not JSON
and lines that are not objects raise :class:`~annotate.services.core.errors.InputError`.
Blank lines are skipped. Lines are read as text (as fast as a plain ``json.loads`` loop); the
place of undecodable bytes is only computed when they occur.

Example:
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as f:
    ...     _ = f.write(b'\\xef\\xbb\\xbf{"index": 1}\\n\\n{"index": 2}\\n')
    >>> read_jsonl(f.name)
    [(1, {'index': 1}), (3, {'index': 2})]
    >>> os.unlink(f.name)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from annotate.services.core.errors import InputError

BOM = b"\xef\xbb\xbf"
_KEY_BEFORE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def _field_with_bad_bytes(raw_line: bytes) -> str | None:
    """The top-level key whose value holds the undecodable bytes, if the line is JSON."""
    try:
        record = json.loads(raw_line.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    for key, value in record.items():
        if "\ufffd" in json.dumps(value, ensure_ascii=False) or "\ufffd" in key:
            return key
    return None


def _decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        raw_line = raw[start:end if end >= 0 else len(raw)]
        line = raw.count(b"\n", 0, exc.start) + 1
        field = _field_with_bad_bytes(raw_line)
        raise InputError(
            f"bytes are not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start - start + 1}); "
            "save the file as UTF-8",
            path=path, line=line, field=field or "(unknown: line is not readable)") from None


def _json_error(text: str, exc: json.JSONDecodeError, path: str, line: int) -> InputError:
    keys = _KEY_BEFORE.findall(text[:exc.pos])
    field = keys[-1] if keys else "(none)"
    return InputError(f"invalid JSON: {exc.msg} at column {exc.colno}", path=path, line=line, field=field)


def read_jsonl(path: str | Path, *, what: str = "records") -> list[tuple[int, dict[str, Any]]]:
    """Return ``(line_number, object)`` for every non-blank line of ``path``.

    Raises:
        InputError: the file is missing or empty, is not UTF-8, or a line is not a JSON object.
    """
    name = str(path)
    if not Path(path).is_file():
        raise InputError("no such file", path=name)
    records: list[tuple[int, dict[str, Any]]] = []
    loads = json.loads
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if line.isspace():
                    continue
                try:
                    obj = loads(line)
                except json.JSONDecodeError as exc:
                    raise _json_error(line, exc, name, number) from None
                if not isinstance(obj, dict):
                    raise InputError(f"expected a JSON object, found {type(obj).__name__}",
                                     path=name, line=number, field="(record)")
                records.append((number, obj))
    except UnicodeDecodeError:
        raw = Path(path).read_bytes()
        _decode(raw[len(BOM):] if raw.startswith(BOM) else raw, name)
        raise  # pragma: no cover - _decode raises the InputError
    if not records:
        raise InputError(f"the file is empty: no {what}", path=name, line=1, field="(none)")
    return records
