"""Readers and writers for the file formats of docs/formats.md.

Every reader accepts a UTF-8 byte-order mark and raises :class:`InputFileError`, whose message
names the file, the line and the field, on bad input. Writers write to a temporary file beside the
target and rename it, so nothing half-written is left behind.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.jsonl"
    >>> _ = p.write_text('{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie (bothbad)", "judge": "h1"}\\n')
    >>> read_votes(p)[0].winner
    'tie'
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaeval.arrow_votes import VoteColumns, read_vote_columns
from metaeval.private_files import private_dir
from metaeval.redact import redact
from metaeval.strict_json import StrictJSONError, loads_line
from metaeval.types import Rating, ScoreRecord, Vote, normalise_winner

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "InputFileError",
    "iter_jsonl",
    "json_lines",
    "JsonLinesError",
    "read_votes",
    "read_votes_frame",
    "read_votes_frame_and_columns",
    "votes_from_dicts",
    "write_votes",
    "read_scores",
    "read_score_file",
    "write_scores_long",
    "write_scores_writingbench",
    "read_ratings",
    "detect_layout",
    "write_text_atomic",
]

_VOTE_KNOWN = {"question_id", "model_a", "model_b", "winner", "judge", "order", "shown_left", "criterion",
               "domain1", "domain2", "lang", "stale"}


class InputFileError(ValueError):
    """Bad input: carries ``path``, ``line`` (1-based, or None) and ``field`` (or None)."""

    def __init__(self, message: str, *, path: str | os.PathLike | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.message = message
        where = []
        if self.path is not None:
            where.append(f"file {self.path}")
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__((", ".join(where) + ": " if where else "") + message)


class JsonLinesError(ValueError):
    """A line of a JSON Lines file that cannot be read: ``kind`` is ``"utf8"`` (``error`` is the
    :class:`UnicodeDecodeError`), ``"json"`` (``error`` is the
    :class:`~metaeval.strict_json.StrictJSONError`) or ``"not_object"``; ``line`` is 1-based and
    ``raw`` holds the line's bytes. Each package turns it into its own input error."""

    def __init__(self, kind: str, line: int, raw: bytes, error: Exception | None = None,
                 found: str | None = None) -> None:
        self.kind, self.line, self.raw, self.error, self.found = kind, line, raw, error, found
        super().__init__(f"line {line}: {kind}")


_ESCAPE = re.compile(rb"\\u")
"""A ``\\u`` escape in a line's bytes (the regex engine finds it about three times faster than
``in`` does in text full of other escapes, such as WritingBench's ``\\n``)."""


def json_lines(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """The one JSON Lines reader: yield ``(line_number, object)`` for each non-blank line, parsed
    as strict JSON (:func:`metaeval.strict_json.loads_line`); a UTF-8 byte-order mark is skipped
    and lines split at "\\n" only (never inside a string at U+2028). Raises :class:`OSError`
    when the file cannot be opened and :class:`JsonLinesError` at the first bad line.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_bytes(b'\\xef\\xbb\\xbf{"a": 1}\\n\\n{"a": 2}\\n')
    >>> [(n, o["a"]) for n, o in json_lines(p)]
    [(1, 1), (3, 2)]
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.isspace() or not raw:
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise JsonLinesError("utf8", number, raw, exc) from None
            try:
                obj = loads_line(line, escapes=_ESCAPE.search(raw) is not None)
            except StrictJSONError as exc:
                raise JsonLinesError("json", number, raw, exc) from None
            if not isinstance(obj, dict):
                raise JsonLinesError("not_object", number, raw, found=type(obj).__name__)
            yield number, obj


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSON Lines file
    (:func:`json_lines`), with errors as :class:`InputFileError`.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_bytes(b'\\xef\\xbb\\xbf{"a": 1}\\n\\n{"a": 2}\\n')
    >>> [(n, o["a"]) for n, o in iter_jsonl(p)]
    [(1, 1), (3, 2)]
    """
    p = Path(path)
    try:
        yield from json_lines(p)
    except OSError as exc:
        raise InputFileError(f"cannot read: {exc.strerror or exc}", path=p) from exc
    except JsonLinesError as exc:
        if exc.kind == "utf8":
            raise InputFileError("not valid UTF-8", path=p, line=exc.line) from None
        if exc.kind == "json":
            err = exc.error
            assert isinstance(err, StrictJSONError)
            where = f" (column {err.column})" if err.column is not None else ""
            field = None if err.field == "(record)" else err.field
            raise InputFileError(f"invalid JSON: {err.message}{where}", path=p, line=exc.line, field=field) from None
        raise InputFileError("expected a JSON object", path=p, line=exc.line) from None


def _require(obj: Mapping, key: str, types: type | tuple[type, ...], *, path: Any, line: int | None) -> Any:
    if key not in obj:
        raise InputFileError("missing", path=path, line=line, field=key)
    val = obj[key]
    if isinstance(val, bool) or not isinstance(val, types):
        names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        raise InputFileError(f"expected {names}, got {type(val).__name__}", path=path, line=line, field=key)
    return val


def _vote_fields(obj: Mapping, *, path: Any = None, line: int | None = None) -> tuple:
    """Check one vote object; returns (question_id, model_a, model_b, winner, judge, order, shown_left,
    criterion, domain1, domain2, lang, stale) with ``winner`` normalised and ``judge`` as text."""
    qid = _require(obj, "question_id", (int, str), path=path, line=line)
    model_a = _require(obj, "model_a", str, path=path, line=line)
    model_b = _require(obj, "model_b", str, path=path, line=line)
    if model_a == model_b:
        raise InputFileError("model_a and model_b are the same model", path=path, line=line, field="model_b")
    winner = _require(obj, "winner", str, path=path, line=line)
    try:
        winner = normalise_winner(winner)
    except ValueError as exc:
        raise InputFileError(str(exc), path=path, line=line, field="winner") from exc
    judge = obj.get("judge", "")
    if not isinstance(judge, str | int) or isinstance(judge, bool):
        raise InputFileError("expected str", path=path, line=line, field="judge")
    order = obj.get("order")
    if order is not None and order not in ("ab", "ba"):
        raise InputFileError(f"expected 'ab' or 'ba', got {order!r}", path=path, line=line, field="order")
    shown_left = obj.get("shown_left")
    if shown_left is not None and shown_left not in ("model_a", "model_b"):
        raise InputFileError(f"expected 'model_a' or 'model_b', got {shown_left!r}", path=path, line=line,
                             field="shown_left")
    opt = []
    for key in ("criterion", "domain1", "domain2", "lang"):
        val = obj.get(key)
        if val is not None and not isinstance(val, str):
            raise InputFileError("expected str", path=path, line=line, field=key)
        opt.append(val)
    stale = obj.get("stale", False)
    if not isinstance(stale, bool):
        raise InputFileError("expected true or false", path=path, line=line, field="stale")
    return (qid, model_a, model_b, winner, str(judge), order, shown_left, *opt, stale)


def _vote_from_dict(obj: Mapping, *, path: Any = None, line: int | None = None) -> Vote:
    qid, model_a, model_b, winner, judge, order, shown_left, criterion, domain1, domain2, lang, stale = \
        _vote_fields(obj, path=path, line=line)
    extra = tuple(sorted((k, v) for k, v in obj.items() if k not in _VOTE_KNOWN and isinstance(v, str | int | float)))
    return Vote(question_id=qid, model_a=model_a, model_b=model_b, winner=winner, judge=judge, order=order,
                shown_left=shown_left, stale=stale, extra=extra, criterion=criterion, domain1=domain1,
                domain2=domain2, lang=lang)


def votes_from_dicts(rows: Iterable[Mapping | Vote], *, source: str = "<votes>") -> list[Vote]:
    """Validate FastChat-layout dicts (or pass :class:`Vote` objects through) into a list of votes.

    This is the entry point for the ``annotate`` bridge. Errors name ``source`` and the 1-based row.

    >>> votes_from_dicts([{"question_id": 3, "model_a": "a", "model_b": "b", "winner": "model_b"}])[0].outcome
    -1
    """
    out: list[Vote] = []
    for n, row in enumerate(rows, start=1):
        if isinstance(row, Vote):
            out.append(row)
        elif isinstance(row, Mapping):
            out.append(_vote_from_dict(row, path=source, line=n))
        else:
            raise InputFileError(f"expected a vote object, got {type(row).__name__}", path=source, line=n)
    return out


def read_votes(path: str | os.PathLike) -> list[Vote]:
    """Read pairwise votes or verdicts in FastChat's judgment layout."""
    return [_vote_from_dict(obj, path=path, line=n) for n, obj in iter_jsonl(path)]


_FAST_KEYS = frozenset({"question_id", "model_a", "model_b", "winner", "judge", "turn"})
_WIN_CODE = {"model_a": 1, "model_b": -1, "tie": 0}
_OPTIONAL = ("order", "shown_left", "criterion", "domain1", "domain2", "lang")


def _text_column(values: Sequence[str], codes: np.ndarray) -> Any:
    """``values[codes]`` as the column pandas would make of those strings, built from the codes:
    pandas' Arrow-backed text (pandas 3) straight from an Arrow take, with no Python object per
    row; an object array of the shared strings where pandas keeps text as objects."""
    import numpy as np
    import pandas as pd

    dtype = pd.Series(["x"]).dtype
    if getattr(dtype, "storage", None) == "pyarrow":
        import pyarrow as pa

        taken = pa.array(list(values), pa.large_string()).take(pa.array(np.asarray(codes, dtype=np.int32)))
        return pd.array(taken, dtype=dtype)
    return np.asarray(list(values), dtype=object)[codes] if len(codes) else np.empty(0, dtype=object)


def read_votes_frame(path: str | os.PathLike, *, turn: int | None = None) -> pd.DataFrame:
    """Read votes straight into the canonical vote frame of
    :func:`metaeval.stats.agreement.votes_frame` (same columns, same values), one line at a time:
    no :class:`~metaeval.types.Vote` object per line, each distinct text (question id, model,
    annotator) held once and a 4-byte number per vote and column. Errors are those of
    :func:`read_votes`. ``turn``: keep the votes of that turn (a vote without ``turn`` belongs to
    turn 1). A FastChat JSON array is read whole.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.jsonl"
    >>> _ = p.write_text('{"question_id": 1, "model_a": "z", "model_b": "a", "winner": "model_a"}\\n')
    >>> f = read_votes_frame(p)
    >>> f.loc[0, "qid"], f.loc[0, "lo"], int(f.loc[0, "outcome"])
    ('1', 'a', -1)
    """
    return read_votes_frame_and_columns(path, turn=turn)[0]


def read_votes_frame_and_columns(path: str | os.PathLike, *, turn: int | None = None
                                 ) -> tuple[pd.DataFrame, VoteColumns | None]:
    """:func:`read_votes_frame`, and the file's columns when the fast reader took it
    (:func:`metaeval.arrow_votes.read_vote_columns`: pyarrow's JSON reader, no Python object per
    vote; any file it cannot prove the strict reader reads the same way is read by the strict
    reader, whose errors name the file, the line and the field)."""
    from metaeval.fastchat import is_json_array, read_fastchat_votes
    from metaeval.stats.agreement import votes_frame

    if is_json_array(path):
        return votes_frame(read_fastchat_votes(path, turn=turn)), None
    if turn is None:
        cols = read_vote_columns(path)
        if cols is not None:
            return _frame_from_columns(cols), cols
    return _read_votes_frame_strict(path, turn=turn), None


def _frame_from_columns(cols: VoteColumns) -> pd.DataFrame:
    """The canonical vote frame of :func:`read_votes_frame` from the fast reader's columns."""
    import numpy as np

    optional: dict[str, np.ndarray | None] = {}
    for key in _OPTIONAL:
        col = cols.optional.get(key)
        if col is not None:
            col = col.copy()
            col[col == None] = np.nan  # noqa: E711 - elementwise: a field some votes carry is nan elsewhere
        optional[key] = col
    return _vote_frame(_text_column(cols.qid, cols.q_code), cols.models, cols.a_code, cols.b_code,
                       _text_column(cols.raters, cols.r_code), cols.winner, optional, cols.stale)


def _read_votes_frame_strict(path: str | os.PathLike, *, turn: int | None = None) -> pd.DataFrame:
    """:func:`read_votes_frame` one line at a time through the strict JSON reader."""
    import numpy as np

    qids: dict[str, int] = {}
    models: dict[str, int] = {}
    raters: dict[str, int] = {}
    q_codes, a_codes, b_codes, r_codes = array("i"), array("i"), array("i"), array("i")
    winner = array("b")
    optional: dict[str, dict[int, str]] = {k: {} for k in _OPTIONAL}  # row -> value, only where given
    stale_rows: list[int] = []
    fast_keys, win_code = _FAST_KEYS, _WIN_CODE
    row = 0
    for n, obj in iter_jsonl(path):
        if turn is not None:
            t = obj.get("turn", 1)
            if (t if isinstance(t, str | int | float) else 1) != turn:
                continue
        q, a, b, w, judge = (obj.get("question_id"), obj.get("model_a"), obj.get("model_b"), obj.get("winner"),
                             obj.get("judge", ""))
        tq = type(q)
        if not (obj.keys() <= fast_keys and (tq is int or tq is str) and type(a) is str and type(b) is str
                and a != b and type(w) is str and w in win_code and (type(judge) is str or type(judge) is int)):
            # anything unusual goes through the full check (its error, or its normalised values)
            q, a, b, w, judge, order, shown, crit, d1, d2, lang, st = _vote_fields(obj, path=path, line=n)
            for key, val in zip(_OPTIONAL, (order, shown, crit, d1, d2, lang), strict=True):
                if val is not None:
                    optional[key][row] = val
            if st:
                stale_rows.append(row)
        qs = str(q)
        c = qids.get(qs)
        if c is None:
            c = qids[qs] = len(qids)
        q_codes.append(c)
        c = models.get(a)
        if c is None:
            c = models[a] = len(models)
        a_codes.append(c)
        c = models.get(b)
        if c is None:
            c = models[b] = len(models)
        b_codes.append(c)
        judge = str(judge)
        c = raters.get(judge)
        if c is None:
            c = raters[judge] = len(raters)
        r_codes.append(c)
        winner.append(win_code[w])
        row += 1
    cols: dict[str, np.ndarray | None] = {}
    for key, given in optional.items():
        if not given:
            cols[key] = None
            continue
        col = np.full(row, np.nan, dtype=object)
        col[np.fromiter(given.keys(), dtype=np.int64, count=len(given))] = np.array(list(given.values()), dtype=object)
        cols[key] = col
    stale = np.zeros(row, dtype=bool)
    stale[stale_rows] = True
    empty = np.empty(0, dtype=np.int32)
    return _vote_frame(_text_column(_values(qids), np.frombuffer(q_codes, dtype=np.int32) if row else empty),
                       _values(models),
                       np.frombuffer(a_codes, dtype=np.int32) if row else empty,
                       np.frombuffer(b_codes, dtype=np.int32) if row else empty,
                       _text_column(_values(raters), np.frombuffer(r_codes, dtype=np.int32) if row else empty),
                       np.frombuffer(winner, dtype=np.int8) if row else empty.astype(np.int8),
                       cols, stale)


def _values(index: dict[str, int]) -> list[str]:
    out = [""] * len(index)
    for value, code in index.items():
        out[code] = value
    return out


def _vote_frame(qid: Any, models: list[str], a_code: np.ndarray, b_code: np.ndarray, rater: Any,
                winner: np.ndarray, optional: Mapping[str, np.ndarray | None], stale: np.ndarray) -> pd.DataFrame:
    """The canonical vote frame from per-vote codes: ``models[a_code]``/``models[b_code]`` the two
    models, ``winner`` +1/0/-1 for model_a/tie/model_b, ``optional`` the optional fields (``None``:
    no vote carries it, else an object array, nan where missing)."""
    import numpy as np
    import pandas as pd

    row = len(winner)
    # models compared by name once per distinct name, then per vote through the codes
    rank = np.empty(len(models), dtype=np.int64)
    names = sorted(models)
    position = {m: k for k, m in enumerate(models)}
    for k, m in enumerate(names):
        rank[position[m]] = k
    a_rank = rank[a_code] if row else np.empty(0, dtype=np.int64)
    b_rank = rank[b_code] if row else np.empty(0, dtype=np.int64)
    swap = a_rank > b_rank
    o = winner
    # like a frame built from FastChat dicts: a field no vote carries is None throughout, one that
    # some votes carry is nan where missing
    cols = {key: np.full(row, None, dtype=object) if optional.get(key) is None else optional[key]
            for key in _OPTIONAL}
    first_a = np.full(row, np.nan)
    first_a[cols["order"] == "ab"] = 1.0
    first_a[cols["order"] == "ba"] = 0.0
    first_a[cols["shown_left"] == "model_a"] = 1.0
    first_a[cols["shown_left"] == "model_b"] = 0.0
    return pd.DataFrame({
        "qid": qid,
        "lo": _text_column(names, np.where(swap, b_rank, a_rank)),
        "hi": _text_column(names, np.where(swap, a_rank, b_rank)),
        "outcome": np.where(swap, -o, o).astype(np.int8),
        "rater": rater,
        "order": cols["order"],
        "first_lo": np.where(swap, 1.0 - first_a, first_a),
        "criterion": cols["criterion"],
        "domain1": cols["domain1"],
        "domain2": cols["domain2"],
        "lang": cols["lang"],
        "stale": stale,
    })


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename.

    The text passes :func:`metaeval.redact.redact` first (no key is ever written), and the file is
    readable by its owner only (0600; a created folder 0700): outputs hold data.
    """
    p = Path(path)
    private_dir(p.parent)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(redact(text))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonl(rows: Iterable[Mapping]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write_votes(path: str | os.PathLike, votes: Iterable[Vote]) -> None:
    """Write votes in FastChat's layout, atomically."""
    write_text_atomic(path, _jsonl(v.to_dict() for v in votes))


# ---------------------------------------------------------------- judge scores

def _check_score(val: Any, *, path: Any, line: int, field: str, low: int = 1) -> int | float:
    """A judge score: a number in ``low``..10, real-valued allowed (``tow`` roots are weighted means).

    ``low`` is 0 for the leaves of a criteria tree (a step scorer gives 0, 5 or 10). A whole number
    comes back as ``int`` so outputs of the integer scores stay as they were.

    >>> _check_score(7.7125, path="f", line=1, field="score"), _check_score(7.0, path="f", line=1, field="score")
    (7.7125, 7)
    """
    from math import isfinite

    if isinstance(val, bool) or not isinstance(val, int | float) or not isfinite(val):
        raise InputFileError(f"expected a score {low}..10 (a number), got {val!r}", path=path, line=line, field=field)
    if not low <= val <= 10:
        raise InputFileError(f"score {val!r} outside {low}..10", path=path, line=line, field=field)
    return int(val) if float(val).is_integer() else float(val)


def detect_layout(obj: Mapping) -> str:
    """Name the layout of one JSON object: ``votes``, ``writingbench``, ``long`` or ``ratings``.

    >>> detect_layout({"index": 1, "scores": {}})
    'writingbench'
    """
    if "winner" in obj and "model_a" in obj:
        return "votes"
    if "scores" in obj and "index" in obj:
        return "writingbench"
    if "criterion" in obj and "score" in obj and "index" in obj and "model" in obj:
        return "long"
    if "item_id" in obj and "system" in obj and "score" in obj:
        return "ratings"
    return "unknown"


def read_score_file(path: str | os.PathLike, *, model: str | None = None, judge: str = "", method: str = "") -> list[ScoreRecord]:
    """Read one WritingBench evaluation file (``{"index", "scores": {crit: [{"score", "reason"}]}}``).

    The file does not name the model, judge or method; the caller gives them. When a criterion has
    several score entries, each becomes its own record. A line may carry a ``"model"`` field,
    which overrides ``model``.
    """
    out: list[ScoreRecord] = []
    for n, obj in iter_jsonl(path):
        index = _require(obj, "index", (int, str), path=path, line=n)
        scores = _require(obj, "scores", dict, path=path, line=n)
        mdl = obj.get("model", model)
        if not isinstance(mdl, str) or not mdl:
            raise InputFileError("no model: give one for this file or add a 'model' field", path=path, line=n,
                                 field="model")
        for crit, entries in scores.items():
            fname = f"scores.{crit}"
            if isinstance(entries, dict):
                entries = [entries]
            if not isinstance(entries, list) or not entries:
                raise InputFileError("expected a non-empty list of {score, reason}", path=path, line=n, field=fname)
            for k, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise InputFileError("expected an object", path=path, line=n, field=f"{fname}[{k}]")
                if "score" not in entry:
                    raise InputFileError("missing", path=path, line=n, field=f"{fname}[{k}].score")
                score = _check_score(entry["score"], path=path, line=n, field=f"{fname}[{k}].score")
                reason = entry.get("reason", "")
                out.append(ScoreRecord(index=index if isinstance(index, int) else str(index), model=mdl,
                                       judge=judge, method=method, criterion=str(crit), score=score,
                                       reason=str(reason)))
    return out


def _read_long(path: str | os.PathLike) -> list[ScoreRecord]:
    out: list[ScoreRecord] = []
    for n, obj in iter_jsonl(path):
        index = _require(obj, "index", (int, str), path=path, line=n)
        rec = {k: _require(obj, k, str, path=path, line=n) for k in ("model", "criterion")}
        judge = obj.get("judge", "")
        method = obj.get("method", "")
        for key, val in (("judge", judge), ("method", method)):
            if not isinstance(val, str):
                raise InputFileError("expected str", path=path, line=n, field=key)
        if "score" not in obj:
            raise InputFileError("missing", path=path, line=n, field="score")
        score = _check_score(obj["score"], path=path, line=n, field="score", low=0 if "weight" in obj else 1)
        out.append(ScoreRecord(index=index, model=rec["model"], judge=judge, method=method,
                               criterion=rec["criterion"], score=score, reason=str(obj.get("reason", ""))))
    return out


def read_scores(path: str | os.PathLike, *, model: str | None = None, judge: str = "", method: str = "") -> list[ScoreRecord]:
    """Read judge scores in either layout (detected from the first line).

    Long layout lines carry their own model/judge/method; for the WritingBench layout they come
    from the keyword arguments (or a per-line ``"model"`` field).
    """
    first = next(iter_jsonl(path), None)
    if first is None:
        return []
    layout = detect_layout(first[1])
    if layout == "writingbench":
        return read_score_file(path, model=model, judge=judge, method=method)
    if layout == "long":
        return _read_long(path)
    raise InputFileError("not a judge score file (expected 'index' and 'scores', or the long layout)",
                         path=path, line=first[0])


def write_scores_long(path: str | os.PathLike, records: Iterable[ScoreRecord]) -> None:
    """Write score records in the long layout, atomically."""
    write_text_atomic(path, _jsonl({"index": r.index, "model": r.model, "judge": r.judge, "method": r.method,
                                    "criterion": r.criterion, "score": r.score, "reason": r.reason}
                                   for r in records))


def write_scores_writingbench(path: str | os.PathLike, records: Iterable[ScoreRecord]) -> None:
    """Write records of ONE model/judge/method in WritingBench's per-file layout, atomically."""
    by_index: dict[Any, dict[str, list[dict]]] = {}
    seen: set[tuple[str, str, str]] = set()
    for r in records:
        seen.add((r.model, r.judge, r.method))
        by_index.setdefault(r.index, {}).setdefault(r.criterion, []).append({"score": r.score, "reason": r.reason})
    if len(seen) > 1:
        raise ValueError(f"WritingBench layout holds one model/judge/method per file; got {sorted(seen)}")
    write_text_atomic(path, _jsonl({"index": i, "scores": s} for i, s in by_index.items()))


# ---------------------------------------------------------------- pointwise ratings

def read_ratings(path: str | os.PathLike) -> list[Rating]:
    """Read pointwise ratings ``{"item_id", "system", "rater", "criterion", "score"}``."""
    out: list[Rating] = []
    for n, obj in iter_jsonl(path):
        item = _require(obj, "item_id", (int, str), path=path, line=n)
        system = _require(obj, "system", str, path=path, line=n)
        rater = obj.get("rater", "")
        crit = obj.get("criterion", "overall")
        for key, val in (("rater", rater), ("criterion", crit)):
            if not isinstance(val, str):
                raise InputFileError("expected str", path=path, line=n, field=key)
        score = _require(obj, "score", (int, float), path=path, line=n)
        if score != score:  # NaN
            raise InputFileError("score is NaN", path=path, line=n, field="score")
        out.append(Rating(item_id=item, system=system, rater=rater, criterion=crit, score=float(score)))
    return out
