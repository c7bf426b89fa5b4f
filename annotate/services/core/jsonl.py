"""Reading JSON Lines files with errors that name the file, the line and the field.

A UTF-8 byte order mark is accepted; bytes that are not UTF-8, lines that are not JSON
and lines that are not objects raise :class:`~annotate.services.core.errors.InputError`.
Blank lines are skipped. Lines are parsed as strict JSON (:mod:`metaeval.strict_json`: no NaN or
Infinity, no repeated keys, no NUL characters or lone surrogates, 64-bit integers, bounded nesting);
an error names the path of the field at fault and is built without a pass over the whole line, so a
broken 50 MB line costs about what parsing it costs. The field holding undecodable bytes is only
looked for when they occur.

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
from pathlib import Path
from typing import Any

from annotate.services.core.errors import InputError
from metaeval.io import JsonLinesError, json_lines
from metaeval.strict_json import StrictJSONError


def _field_with_bad_bytes(raw_line: bytes) -> str | None:
    """The top-level key whose value holds the undecodable bytes, if the line is JSON."""
    try:
        record = json.loads(raw_line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    for key, value in record.items():
        if "\ufffd" in json.dumps(value, ensure_ascii=False) or "\ufffd" in key:
            return key
    return None


def _utf8_error(raw_line: bytes, exc: UnicodeDecodeError, path: str, line: int) -> InputError:
    field = _field_with_bad_bytes(raw_line)
    return InputError(
        f"bytes are not valid UTF-8 (byte 0x{raw_line[exc.start]:02x} at column {exc.start + 1}); "
        "save the file as UTF-8",
        path=path, line=line, field=field or "(unknown: line is not readable)")


def _json_error(exc: StrictJSONError, path: str, line: int) -> InputError:
    where = f" at column {exc.column}" if exc.column is not None else ""
    return InputError(f"invalid JSON: {exc.message}{where}", path=path, line=line, field=exc.field)


def read_jsonl(path: str | Path, *, what: str = "records") -> list[tuple[int, dict[str, Any]]]:
    """Return ``(line_number, object)`` for every non-blank line of ``path`` (read by
    :func:`metaeval.io.json_lines`, the one JSON Lines reader).

    Raises:
        InputError: the file is missing or empty, is not UTF-8, or a line is not a JSON object.
    """
    name = str(path)
    if not Path(path).is_file():
        raise InputError("no such file", path=name)
    try:
        records = list(json_lines(path))
    except JsonLinesError as exc:
        if exc.kind == "utf8":
            assert isinstance(exc.error, UnicodeDecodeError)
            raise _utf8_error(exc.raw, exc.error, name, exc.line) from None
        if exc.kind == "json":
            assert isinstance(exc.error, StrictJSONError)
            raise _json_error(exc.error, name, exc.line) from None
        raise InputError(f"expected a JSON object, found {exc.found}", path=name, line=exc.line,
                         field="(record)") from None
    if not records:
        raise InputError(f"the file is empty: no {what}", path=name, line=1, field="(none)")
    return records
