"""Reading API requests: bodies, query parameters and ids, with a 4xx answer for every bad input.

Bodies are strict JSON (:func:`metaeval.strict_json.loads_line`: no NaN or Infinity, no
repeated keys, no NUL characters or lone surrogates, nesting at most 64 levels deep) of at
most :data:`MAX_BODY_BYTES`, refused with 413 as soon as the announced or received length
goes over (the rest is never read). Every id and number must fit the database's 32-bit
integer columns; a value out of range is refused here, never passed to the database.

Messages say what to send in plain words, naming the JSON key the client sent.

Example:
    >>> submit_fields({"assignment_id": 3, "choice": "left", "submit_token": "t-1",
    ...                "instruction_version_no": 1, "content_revision": 0})["choice"]
    'left'
    >>> try:
    ...     submit_fields({"assignment_id": 10**30})
    ... except ApiError as exc:
    ...     print(exc.status, exc.message)
    400 "assignment_id" must be the task's id (a whole number from 1 to 2147483647)
"""

from __future__ import annotations

import math
import re
from typing import Any

from starlette.requests import Request

from metaeval.strict_json import INT32_MAX, StrictJSONError, loads_line

MAX_BODY_BYTES = 256 * 1024
MAX_TOKEN_CHARS = 100
MAX_CRITERIA = 200
MAX_FLAGS = 20
MAX_ELAPSED_S = 30 * 24 * 3600.0
_DIGITS = re.compile(r"[0-9]{1,10}")


class ApiError(Exception):
    """An HTTP error with a JSON message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused as soon as it is known to be longer than ``limit`` bytes:
    by its ``Content-Length`` before anything is read, else while it streams in (the rest
    is never read).

    Raises:
        ApiError: 413 naming the limit.
    """
    too_long = ApiError(413, f"the request body is over {limit // 1024} KiB")
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise too_long
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_long
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    """The request's body as a JSON object (``{}`` for an empty body when ``empty_ok``).

    Raises:
        ApiError: 413 (too long), 400 (not UTF-8, not strict JSON, not an object).
    """
    raw = await read_body(request, MAX_BODY_BYTES)
    if not raw.strip():
        if empty_ok:
            return {}
        raise ApiError(400, "the request needs a JSON object as its body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body is not UTF-8 text (byte {exc.start + 1})") from None
    try:
        data = loads_line(text)
    except StrictJSONError as exc:
        where = "" if exc.field == "(record)" else f" at {exc.field}"
        column = f", column {exc.column}" if exc.column else ""
        raise ApiError(400, f"the body is not valid JSON{where}{column}: {exc.message}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object ({...}), not a list or a single value")
    return data


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def query_id(request: Request, name: str) -> int | None:
    """An optional id in the query string (``?study_id=3``), or None when absent.

    Raises:
        ApiError: 400 when it is not a whole number from 1 to 2147483647.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= INT32_MAX:
        raise ApiError(400, f"{name} must be a study's id (a whole number from 1 to {INT32_MAX})")
    return int(raw)


def path_id(request: Request, name: str = "assignment_id") -> int:
    """The id in the path (digits only, by the route); 404 when no row can have it."""
    value = int(request.path_params[name])
    if not 1 <= value <= INT32_MAX:
        raise ApiError(404, "there is no task with this id")
    return value


def login_fields(data: dict[str, Any]) -> tuple[str, str]:
    """``(username, password)`` from a login body."""
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(400, 'send your "username" and "password", both as text')
    if len(username) > 200 or len(password) > 1024:
        raise ApiError(400, "the username or the password is too long")
    return username, password


_ID = f"a whole number from 1 to {INT32_MAX}"
_COUNT = f"a whole number from 0 to {INT32_MAX}"
_REQUIRED: dict[str, str] = {
    "assignment_id": f"the task's id ({_ID})",
    "choice": '"left" (A is better), "right" (B is better) or "tie" (Equivalent or both poor)',
    "submit_token": f"a text of 1 to {MAX_TOKEN_CHARS} characters, new for each submission (e.g. a UUID)",
    "instruction_version_no": f"the instruction_version_no the task showed ({_COUNT})",
    "content_revision": f"the content_revision the task showed ({_COUNT})",
}
_OPTIONAL: dict[str, str] = {
    "both_poor": "true or false",
    "per_criterion": 'an object of criterion name -> "left", "right" or "tie"',
    "rationale": "a text",
    "flags": f"a list of at most {MAX_FLAGS} texts",
    "elapsed_s": "a number of seconds from 0 to 2592000",
    "study_id": f"the study's id ({_ID})",
}


_RATING_REQUIRED: dict[str, str] = {
    "assignment_id": _REQUIRED["assignment_id"],
    "score": "a whole number from 1 to 5",
    "submit_token": _REQUIRED["submit_token"],
    "instruction_version_no": _REQUIRED["instruction_version_no"],
    "content_revision": _REQUIRED["content_revision"],
}
_RATING_OPTIONAL: dict[str, str] = {
    "error_type": f"a text of at most {MAX_TOKEN_CHARS * 2} characters, one of the study's error types "
                  "(needed for a score of 1 or 2)",
    "rationale": "a text",
    "elapsed_s": _OPTIONAL["elapsed_s"],
    "study_id": _OPTIONAL["study_id"],
}


def _valid(name: str, value: Any) -> bool:
    if name == "score":
        return _is_int(value) and 1 <= value <= 5
    if name == "error_type":
        return isinstance(value, str) and len(value) <= MAX_TOKEN_CHARS * 2
    if name in ("assignment_id", "study_id"):
        return _is_int(value) and 1 <= value <= INT32_MAX
    if name in ("instruction_version_no", "content_revision"):
        return _is_int(value) and 0 <= value <= INT32_MAX
    if name == "submit_token":
        return isinstance(value, str) and 1 <= len(value) <= MAX_TOKEN_CHARS
    if name in ("choice", "rationale"):
        return isinstance(value, str)
    if name == "both_poor":
        return isinstance(value, bool)
    if name == "per_criterion":
        return (isinstance(value, dict) and len(value) <= MAX_CRITERIA
                and all(isinstance(v, str) and len(k) <= 500 for k, v in value.items()))
    if name == "flags":
        return isinstance(value, list) and len(value) <= MAX_FLAGS and all(
            isinstance(v, str) and len(v) <= 100 for v in value)
    if name == "elapsed_s":
        return (_is_int(value) or isinstance(value, float)) and math.isfinite(value) and 0 <= value <= MAX_ELAPSED_S
    return False


def _checked(data: dict[str, Any], required: dict[str, str], optional: dict[str, str], noun: str) -> dict[str, Any]:
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        names = ", ".join(f'"{name[:50]}"' for name in unknown[:5])
        raise ApiError(400, f"unknown key(s) {names}; {noun} has {', '.join(required)} and "
                            f"optionally {', '.join(optional)}")
    fields: dict[str, Any] = {}
    for name, what in required.items():
        if data.get(name) is None:
            raise ApiError(400, f'"{name}" is missing: send {what}')
        if not _valid(name, data[name]):
            raise ApiError(400, f'"{name}" must be {what}')
        fields[name] = data[name]
    for name, what in optional.items():
        if data.get(name) is not None:
            if not _valid(name, data[name]):
                raise ApiError(400, f'"{name}" must be {what}')
            fields[name] = data[name]
    return fields


def submit_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``submit_judgment`` from a request body, every value checked.

    Raises:
        ApiError: 400 naming the first key that is unknown, missing or of the wrong kind.
    """
    return _checked(data, _REQUIRED, _OPTIONAL, "a judgment")


def rating_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``submit_rating`` (a pointwise study's task) from a request
    body, every value checked.

    Example:
        >>> rating_fields({"assignment_id": 3, "score": 4, "submit_token": "t-1",
        ...                "instruction_version_no": 1, "content_revision": 0})["score"]
        4
        >>> try:
        ...     rating_fields({"assignment_id": 3, "score": 4.5, "submit_token": "t", "instruction_version_no": 1,
        ...                    "content_revision": 0})
        ... except ApiError as exc:
        ...     print(exc.status, exc.message)
        400 "score" must be a whole number from 1 to 5

    Raises:
        ApiError: 400 naming the first key that is unknown, missing or of the wrong kind.
    """
    return _checked(data, _RATING_REQUIRED, _RATING_OPTIONAL, "a rating")
