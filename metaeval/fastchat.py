"""FastChat's MT-Bench judgment files: one JSON array of votes with a ``turn``.

FastChat publishes its human and GPT-4 pairwise judgments as one JSON array (not JSON Lines) of
``{"question_id", "model_a", "model_b", "winner", "judge", "turn", "conversation_a", ...}``, where
``judge`` is a name such as ``"expert_3"`` or a list such as ``["gpt-4", "pair-v2"]``. Its
``compute_agreement.py`` keeps only the judges it maps to people (names starting with ``expert``)
or to GPT-4 (``["gpt-4", "pair..."]``) and drops every other vote.

:func:`read_fastchat_votes` turns such a file into :class:`~metaeval.types.Vote` objects (one
turn at a time); :func:`fastchat_rows` writes our votes the way that script reads them.

Example:
    >>> fastchat_rows([{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "judge": "ann"}])
    [{'question_id': 1, 'model_a': 'x', 'model_b': 'y', 'winner': 'tie', 'judge': 'expert_ann', 'turn': 1}]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from metaeval.io import InputFileError, read_votes, votes_from_dicts
from metaeval.json_stream import iter_json_array
from metaeval.types import Vote

#: FastChat's ``compute_agreement.py`` counts a judge whose name starts with this as a person.
HUMAN_PREFIX = "expert_"
FIELDS = ("question_id", "model_a", "model_b", "winner", "judge", "turn")


def is_json_array(path: str | os.PathLike) -> bool:
    """Whether the file's first non-blank character (after a byte-order mark) is ``[``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.json"
    >>> _ = p.write_text("  [\\n]")
    >>> is_json_array(p)
    True
    """
    try:
        with open(path, encoding="utf-8-sig") as fh:
            head = fh.read(4096)
    except (OSError, UnicodeDecodeError):
        return False  # the JSON Lines reader reports the problem with its own message
    return head.lstrip()[:1] == "["


def judge_name(judge: Any) -> str:
    """A judge field as one name: lists (FastChat's GPT-4 judges) are joined with ``/``.

    >>> judge_name(["gpt-4", "pair-v2"]), judge_name("expert_0")
    ('gpt-4/pair-v2', 'expert_0')
    """
    if isinstance(judge, list) and judge and all(isinstance(p, str) for p in judge):
        return "/".join(judge)
    if isinstance(judge, str):
        return judge
    raise ValueError(f"expected a name or a list of names, got {judge!r}")


def read_fastchat_votes(path: str | os.PathLike, *, turn: int | None = None) -> list[Vote]:
    """Votes of one turn from a FastChat judgment file (a JSON array).

    ``turn=None`` is allowed only when the file holds a single turn. Errors name the file, the
    array element (``[i]``) and the field.
    """
    p = Path(path)
    rows: list[tuple[int, dict[str, Any]]] = []
    turns: set[int] = set()
    # streamed: one element decoded at a time (metaeval.json_stream), never the whole text at once
    for i, obj in iter_json_array(p):
        if not isinstance(obj, dict):
            raise InputFileError("expected a JSON object", path=p, field=f"[{i}]")
        t = obj.get("turn", 1)
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise InputFileError(f"expected a turn number 1, 2, ..., got {t!r}", path=p, field=f"[{i}].turn")
        turns.add(t)
        if turn is not None and t != turn:
            continue
        row = {k: v for k, v in obj.items() if k in ("question_id", "model_a", "model_b", "winner")}
        try:
            row["judge"] = judge_name(obj.get("judge", ""))
        except ValueError as exc:
            raise InputFileError(str(exc), path=p, field=f"[{i}].judge") from None
        rows.append((i, row))
    if turn is None and len(turns) > 1:
        raise InputFileError(f"holds turns {sorted(turns)}; choose one with --turn", path=p, field="turn")
    votes = []
    for i, row in rows:
        try:
            votes.extend(votes_from_dicts([row], source=str(p)))
        except InputFileError as exc:
            raise InputFileError(exc.message, path=p, field=f"[{i}].{exc.field}" if exc.field else f"[{i}]") from None
    return votes


def fastchat_rows(votes: Iterable[Mapping[str, Any]], *, turn: int = 1) -> list[dict[str, Any]]:
    """Overall votes as FastChat's ``compute_agreement.py`` reads them.

    Each person becomes judge ``expert_<name>`` (the script maps names starting with ``expert`` to
    people and drops the rest); per-criterion rows are left out (the script would count them as
    more votes on the pair).
    """
    out = []
    for v in votes:
        if v.get("criterion"):
            continue
        out.append({"question_id": v["question_id"], "model_a": v["model_a"], "model_b": v["model_b"],
                    "winner": v["winner"], "judge": f"{HUMAN_PREFIX}{v.get('judge', '')}", "turn": turn})
    return out


def read_any_votes(path: str | os.PathLike, *, turn: int | None = None) -> list[Vote]:
    """Votes from JSON Lines (our layout) or a FastChat JSON array, of ``turn`` when given.

    In JSON Lines a vote without a ``turn`` field belongs to turn 1.
    """
    if is_json_array(path):
        return read_fastchat_votes(path, turn=turn)
    votes = read_votes(path)
    if turn is None:
        return votes
    return [v for v in votes if dict(v.extra).get("turn", 1) == turn]
