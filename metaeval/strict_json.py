"""Strict JSON for input lines: one parser for every JSON Lines reader of both tools.

Standard JSON only, and only values every database and JSON reader downstream can hold:

- ``NaN``, ``Infinity`` and numbers that overflow to infinity (``1e400``) are rejected;
- a key repeated in one object is rejected (``json.loads`` silently keeps the last one);
- NUL characters and lone UTF-16 surrogates (``"\\ud800"``) in keys or strings are rejected
  (PostgreSQL text cannot hold NUL, UTF-8 cannot encode a lone surrogate);
- integers outside the signed 64-bit range of SQLite and PostgreSQL ``BIGINT`` are rejected
  (callers check narrower columns, see :func:`check_int_range`);
- nesting deeper than :data:`MAX_DEPTH` is rejected.

Errors are :class:`StrictJSONError` with the path of the field at fault (``checklist[2].name``;
``(record)`` for the line itself) and the 1-based column. The path of a syntax error is found by
walking the line once more up to the error, so building the message costs about one parse,
never a pass of a regular expression over a long line.

Example:
    >>> loads_line('{"index": 1, "query": "q"}')
    {'index': 1, 'query': 'q'}
    >>> try:
    ...     loads_line('{"index": 1, "checklist": [{"name": NaN}]}')
    ... except StrictJSONError as exc:
    ...     print(exc.field, "|", exc.message)
    checklist[0].name | NaN is not allowed (standard JSON has no NaN or Infinity)
"""

from __future__ import annotations

import json
import math
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # C accelerated, not in typeshed
from typing import Any

__all__ = ["INT64_MAX", "INT64_MIN", "MAX_DEPTH", "StrictJSONError", "check_int_range", "loads_line"]

MAX_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_MAX_INT_DIGITS = 20  # 2**63 has 19 digits; longer literals are out of range before conversion
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_WS = re.compile(r"[ \t\n\r]*")
RECORD = "(record)"
_MAX_PATH = 120


class StrictJSONError(ValueError):
    """A line that is not strict JSON: ``message``, ``field`` (a path) and ``column`` (1-based or None)."""

    def __init__(self, message: str, field: str = RECORD, column: int | None = None) -> None:
        self.message = message
        field = field or RECORD
        self.field = field if len(field) <= _MAX_PATH else f"{field[:60]}...{field[-40:]}"
        self.column = column
        super().__init__(f"{self.field}: {message}")


class _Reject(ValueError):
    """Raised by the decoder hooks; the walk in :func:`_locate` turns it into a located error."""


def _no_constant(name: str) -> Any:
    raise _Reject(f"{name} is not allowed (standard JSON has no NaN or Infinity)")


def _int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits <= 18:  # |value| < 10**18 < 2**63: always in range, the common case
        return int(literal)
    value = int(literal) if digits <= _MAX_INT_DIGITS else None
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        shown = literal if len(literal) <= 24 else f"{literal[:10]}...({digits} digits)"
        raise _Reject(f"integer {shown} is out of range (a 64-bit integer: {INT64_MIN} to {INT64_MAX})")
    return value


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        shown = literal if len(literal) <= 24 else literal[:20] + "..."
        raise _Reject(f"number {shown} is too large (it overflows to infinity)")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Reject("duplicate key")
    return obj


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_int=_int, parse_float=_float,
                            object_pairs_hook=_pairs)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_text(text: str, path: str, what: str) -> None:
    bad = _BAD_CHAR.search(text)
    if bad is None:
        return
    char = bad.group()
    if char == "\x00":
        raise StrictJSONError(f"{what} holds a NUL character (\\u0000) at position {bad.start() + 1}", path)
    raise StrictJSONError(f"{what} holds a lone surrogate \\u{ord(char):04x} at position {bad.start() + 1} "
                          "(not a character; it cannot be written as UTF-8)", path)


def _check_value(value: Any, path: str, depth: int) -> None:
    """NUL characters, lone surrogates and nesting depth of a parsed value (keys included)."""
    kind = type(value)
    if kind is str:
        _check_text(value, path or RECORD, "the text")
    elif kind is dict or kind is list:
        if depth >= MAX_DEPTH:
            raise StrictJSONError(f"nesting is deeper than {MAX_DEPTH} levels", path or RECORD)
        if kind is dict:
            for key, item in value.items():
                _check_text(key, _join(path, repr(key)[1:-1]), "the key")
                _check_value(item, _join(path, key), depth + 1)
        else:
            for i, item in enumerate(value):
                _check_value(item, f"{path}[{i}]", depth + 1)


def _check_depth(value: Any, path: str, depth: int) -> None:
    """Only the nesting depth (no string is read): for lines without any ``\\u`` escape."""
    kind = type(value)
    if kind is dict or kind is list:
        if depth >= MAX_DEPTH:
            raise StrictJSONError(f"nesting is deeper than {MAX_DEPTH} levels", path or RECORD)
        if kind is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    _check_depth(item, _join(path, key), depth + 1)
        else:
            for i, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    _check_depth(item, f"{path}[{i}]", depth + 1)


def _within_depth(value: Any, room: int) -> bool:
    """Whether the containers in ``value`` (a dict or a list) nest at most ``room`` levels: no
    path is built (:func:`_check_depth` names the place only when this says no)."""
    if room == 0:
        return False
    for item in (value.values() if type(value) is dict else value):
        kind = type(item)
        if (kind is dict or kind is list) and not _within_depth(item, room - 1):
            return False
    return True


def _skip(text: str, idx: int) -> int:
    return _WS.match(text, idx).end()  # type: ignore[union-attr]


def _fail(message: str, path: str, pos: int) -> StrictJSONError:
    # json's own messages end in " at" ("Unterminated string starting at"): the column follows
    return StrictJSONError(message.removesuffix(" at"), path or RECORD, pos + 1)


def _walk(text: str, idx: int, path: str, depth: int) -> int:
    """Parse the value at ``idx`` as the decoder does, but member by member, so the first
    failure is raised with the path of the member being read. Returns the end index."""
    idx = _skip(text, idx)
    head = text[idx:idx + 1]
    if head in ("{", "["):
        if depth >= MAX_DEPTH:
            raise _fail(f"nesting is deeper than {MAX_DEPTH} levels", path, idx)
        closer = "}" if head == "{" else "]"
        idx = _skip(text, idx + 1)
        if text[idx:idx + 1] == closer:
            return idx + 1
        seen: set[str] = set()
        position = 0
        while True:
            if head == "{":
                if text[idx:idx + 1] != '"':
                    raise _fail("Expecting property name enclosed in double quotes", path, idx)
                try:
                    key, idx = scanstring(text, idx + 1, True)
                except json.JSONDecodeError as exc:
                    raise _fail(exc.msg, path, exc.pos) from None
                member = _join(path, key)
                if key in seen:
                    raise _fail(f"duplicate key {key[:80]!r}", member, idx)
                seen.add(key)
                idx = _skip(text, idx)
                if text[idx:idx + 1] != ":":
                    raise _fail("Expecting ':' delimiter", member, idx)
                idx += 1
            else:
                member = f"{path}[{position}]"
                position += 1
            idx = _skip(text, _walk(text, idx, member, depth + 1))
            sep = text[idx:idx + 1]
            if sep == ",":
                idx = _skip(text, idx + 1)
                continue
            if sep == closer:
                return idx + 1
            raise _fail(f"Expecting ',' delimiter or '{closer}'", member, idx)
    try:
        _value, end = _DECODER.raw_decode(text, idx)
    except json.JSONDecodeError as exc:
        raise _fail(exc.msg, path, exc.pos) from None
    except _Reject as exc:
        raise _fail(str(exc), path, idx) from None
    return end


def _locate(text: str, original: BaseException) -> StrictJSONError:
    """The located error for a line the fast parse refused."""
    try:
        end = _skip(text, _walk(text, 0, "", 0))
    except StrictJSONError as exc:
        return exc
    except RecursionError:  # pragma: no cover - _walk stops at MAX_DEPTH
        return StrictJSONError(f"nesting is deeper than {MAX_DEPTH} levels")
    if end < len(text):
        return StrictJSONError("Extra data after the JSON value", RECORD, end + 1)
    return StrictJSONError(str(original)[:200] or type(original).__name__)  # pragma: no cover


def loads_line(text: str, *, escapes: bool | None = None, shallow: bool | None = None) -> Any:
    """Parse one line of strict JSON; raises :class:`StrictJSONError` naming the field.

    ``escapes`` says whether the line holds a ``\\u`` escape; a reader that has the line's bytes
    passes it from the line's bytes (a search in bytes is several times faster than in text).
    ``shallow``: the caller knows the line holds at most :data:`MAX_DEPTH` opening brackets (then
    the nesting is not walked); otherwise the parsed containers are walked once, without building
    paths (cheaper than counting brackets in a long line), and :func:`_check_depth` names the place
    only when they nest too deep.

    Example:
        >>> loads_line('{"a": [1, 2.5, "x"]}')
        {'a': [1, 2.5, 'x']}
        >>> try:
        ...     loads_line('{"a": 1, "a": 2}')
        ... except StrictJSONError as exc:
        ...     print(exc.field, "|", exc.message)
        a | duplicate key 'a'
    """
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, _Reject, int-digit limit
        raise _locate(text, exc) from None
    # A NUL or a lone surrogate can only come from a \u escape (raw control characters are refused
    # by the parser, and text decoded from UTF-8 holds no surrogates), and nesting needs brackets:
    # the walk over every value runs only for lines that could hold either (a few C-speed scans).
    if ("\\u" in text) if escapes is None else escapes:
        _check_value(value, "", 0)
    elif not shallow and type(value) in (dict, list) and not _within_depth(value, MAX_DEPTH):
        _check_depth(value, "", 0)  # too deep: say where
    return value


def check_int_range(value: Any, path: str, *, low: int = INT32_MIN, high: int = INT32_MAX) -> None:
    """Raise :class:`StrictJSONError` when an integer does not fit a column (32-bit ``INTEGER`` by default).

    Example:
        >>> check_int_range(7, "index")
        >>> try:
        ...     check_int_range(2**31, "index")
        ... except StrictJSONError as exc:
        ...     print(exc.message)
        integer 2147483648 is out of range for this field (-2147483648 to 2147483647)
    """
    if type(value) is int and not low <= value <= high:
        raise StrictJSONError(f"integer {value} is out of range for this field ({low} to {high})", path)
