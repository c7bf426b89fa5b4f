"""Turning a judge's text into a validated score (or pairwise choice), or a clear failure.

Nothing here invents a value: text that does not hold an integer score 1-10 and a non-empty reason
raises :class:`ParseError`, and the caller either asks again or records the failure with the raw
text.

Example:
    >>> parse_score('<think>hmm, maybe 6</think>{"score": 8, "reason": "Clear structure."}')
    (8, 'Clear structure.')
    >>> parse_score('{"score": 11, "reason": "x"}')
    Traceback (most recent call last):
    ...
    metaeval.judges.parsing.ParseError: score 11 is outside 1-10
"""

from __future__ import annotations

import json
from typing import Any

THINK_CLOSE = "</think>"


class ParseError(ValueError):
    """The judge's answer is not usable; the message says why (it is sent back on a retry)."""


def strip_reasoning(text: str) -> str:
    """Drop everything up to and including the last ``</think>`` (reasoning models' scratchpad).

    >>> strip_reasoning("<think>a</think> b")
    'b'
    >>> strip_reasoning("no reasoning")
    'no reasoning'
    """
    pos = text.rfind(THINK_CLOSE)
    if pos >= 0:
        text = text[pos + len(THINK_CLOSE):]
    return text.strip()


def _fenced(body: str) -> str | None:
    """The inside of a ```` ```json ... ``` ```` block that is the whole (stripped) ``body``.

    String operations rather than a regex: ``^```(?:json)?\\s*(.*?)\\s*```$`` backtracks
    cubically on a fence followed by a long run of spaces.

    >>> _fenced("```json\\n{}\\n```")
    '{}'
    >>> _fenced("{}") is None
    True
    """
    if len(body) < 6 or not body.startswith("```") or not body.endswith("```"):
        return None
    inner = body[3:-3]
    if inner.startswith("json"):
        inner = inner[4:]
    return inner.strip()


def extract_json_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``: the whole text, a fenced block, or the first ``{...}`` span.

    >>> extract_json_object('Here: {"a": 1} done')
    {'a': 1}
    """
    body = strip_reasoning(text)
    if body.startswith("{") and body.endswith("}"):  # the common case: a bare JSON object
        try:
            obj = json.loads(body)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            return obj
    fenced = _fenced(body)
    if fenced is not None:
        body = fenced
    candidates = [body]
    start, end = body.find("{"), body.rfind("}")
    if 0 <= start < end:
        candidates.append(body[start:end + 1])
    for cand in candidates:
        try:
            obj = json.loads(cand)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    if not body:
        raise ParseError("the answer is empty")
    raise ParseError("the answer is not a JSON object")


def _reason(obj: dict[str, Any]) -> str:
    reason = obj.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ParseError("the reason is missing or empty")
    return reason.strip()


def parse_score(text: str) -> tuple[int, str]:
    """Validate ``{"score": int 1-10, "reason": non-empty str}``; integral floats like 7.0 count as ints."""
    obj = extract_json_object(text)
    if "score" not in obj:
        raise ParseError("the score is missing")
    score = obj["score"]
    if isinstance(score, bool) or not isinstance(score, int | float) or float(score) != int(score):
        raise ParseError(f"the score {score!r} is not a whole number")
    score = int(score)
    if not 1 <= score <= 10:
        raise ParseError(f"score {score} is outside 1-10")
    return score, _reason(obj)


def parse_pairwise(text: str) -> tuple[str, str]:
    """Validate ``{"winner": "A"|"B"|"tie", "reason": str}``; returns ``("A"|"B"|"tie", reason)``.

    >>> parse_pairwise('{"winner": "b", "reason": "tighter"}')
    ('B', 'tighter')
    """
    obj = extract_json_object(text)
    winner = obj.get("winner")
    if not isinstance(winner, str):
        raise ParseError("the winner is missing")
    norm = {"a": "A", "b": "B", "tie": "tie"}.get(winner.strip().lower())
    if norm is None:
        raise ParseError(f"the winner {winner!r} is not A, B or tie")
    return norm, _reason(obj)
