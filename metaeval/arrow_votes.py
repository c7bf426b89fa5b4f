"""The fast path of the vote reader: a JSON Lines vote file read by pyarrow's multithreaded JSON
reader into column arrays, with no Python object per vote.

The fast path takes a file only when it can prove that the strict reader
(:func:`metaeval.io.read_votes_frame`, :mod:`metaeval.strict_json`) would read it without an
error and to the same values; anything else -- a syntax error, a field of an unexpected type, a
field it does not know, a value it cannot check cheaply -- makes :func:`read_vote_columns` return
``None`` and the caller reads the file with the strict reader, whose error names the file, the line
and the field. The checks, per block of lines:

* bytes: no control character but the newline (strict JSON rejects raw tabs and NULs in strings),
  at most 64 ``{``/``[`` on a line (pyarrow's parser recurses per level of nesting), no ``\\u``
  escape (a NUL, a lone surrogate or an escaped key name), valid UTF-8;
* lines: one object per non-blank line (pyarrow would also read two objects written on one line);
* keys: every field is one of the vote fields, read as the type it must have; a repeated key is
  pyarrow's own error; ``judge`` and ``stale`` may be absent but not ``null``;
* values: integers in 64-bit range (pyarrow's own check), floats finite and below 2**63 in
  magnitude (no ``NaN``/``Infinity``, no out-of-range integer literal), ``model_a != model_b``,
  winners the strict reader accepts.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.jsonl"
    >>> _ = p.write_text('{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "judge": "h"}\\n')
    >>> cols = read_vote_columns(p)
    >>> cols.n_rows, cols.models, cols.winner.tolist()
    (1, ['x', 'y'], [0])
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaeval import resources
from metaeval.types import normalise_winner

log = logging.getLogger(__name__)

__all__ = ["VoteColumns", "read_vote_columns", "BLOCK_BYTES", "ENABLED"]

#: Bytes handed to pyarrow at once (whole lines); bounds the reader's memory on any file size.
BLOCK_BYTES = 16 << 20
#: False: every file goes to the strict reader (benchmarks and tests compare the two paths).
ENABLED = True

_REQUIRED = ("question_id", "model_a", "model_b", "winner")
#: Fields where ``null`` means "absent" to the strict reader (other fields must hold a value).
_NULLABLE_TEXT = ("order", "shown_left", "criterion", "domain1", "domain2", "lang", "rationale",
                  "design_strategy")
_NULLABLE_INT = ("turn", "query_version", "design_round", "design_round_votes")
_NULLABLE_FLOAT = ("elapsed_s", "design_expected", "design_last_expected")
#: Fields of ``annotate export votes`` that no statistic reads: type-checked, never extracted
#: (``flag_resolutions`` only when empty; a file with resolutions goes to the strict reader).
_UNREAD = {"status": ("string", "null"), "instruction_version": ("int64", "null"),
           "active_seconds": ("double", "int64", "null"), "flag_resolutions": ("list<item: null>", "null")}
_WIN_CODE = {"model_a": 1, "model_b": -1, "tie": 0}
_FLOAT_LIMIT = 2.0**63  # larger literals may be integers the strict reader rejects


def _kinds() -> dict[str, tuple[str, ...]]:
    """Field -> the pyarrow type names it may be read as ("null": no value in the block)."""
    kinds: dict[str, tuple[str, ...]] = {"question_id": ("int64", "string"), "model_a": ("string",),
                                         "model_b": ("string",), "winner": ("string",), "judge": ("string", "null"),
                                         "stale": ("bool", "null"), "flags": ("list<item: string>",
                                                                              "list<item: null>", "null")}
    kinds.update({k: ("string", "null") for k in _NULLABLE_TEXT})
    kinds.update({k: ("int64", "null") for k in _NULLABLE_INT})
    kinds.update({k: ("double", "int64", "null") for k in _NULLABLE_FLOAT})
    kinds.update(_UNREAD)
    return kinds


_KINDS = _kinds()


class _Fallback(Exception):
    """The block cannot be proven to read as the strict reader reads it."""


@dataclass
class VoteColumns:
    """A vote file as columns: ``qid`` (text per query code), ``q_code``/``a_code``/``b_code``/
    ``r_code`` (int32 codes into ``qid``, ``models``, ``raters``), ``winner`` (+1/0/-1, normalised),
    ``raw_winner`` (the winner as written, per row: code into ``raw_winners``) and the optional
    fields (object arrays, ``None`` where absent) in ``optional``; ``stale`` (bool)."""

    n_rows: int
    qid: list[str]
    q_code: np.ndarray
    models: list[str]
    a_code: np.ndarray
    b_code: np.ndarray
    raters: list[str]
    r_code: np.ndarray
    winner: np.ndarray
    raw_winners: list[str]
    raw_code: np.ndarray
    stale: np.ndarray
    optional: dict[str, np.ndarray] = field(default_factory=dict)
    numbers: dict[str, np.ndarray] = field(default_factory=dict)


class _Codes:
    """Text values numbered by first appearance, merged block by block."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, column: Any) -> np.ndarray:
        """Codes of a pyarrow string column (no nulls)."""
        enc = column.combine_chunks().dictionary_encode()
        remap = self.encode_values(enc.dictionary.to_pylist())
        return remap[enc.indices.to_numpy(zero_copy_only=False)] if len(enc) else np.empty(0, dtype=np.int32)

    def encode_values(self, values: list[str]) -> np.ndarray:
        """Codes of distinct ``values``."""
        index = self.index
        remap = np.empty(len(values), dtype=np.int32)
        for k, value in enumerate(values):
            c = index.get(value)
            if c is None:
                c = index[value] = len(index)
            remap[k] = c
        return remap

    def values(self) -> list[str]:
        out = [""] * len(self.index)
        for value, code in self.index.items():
            out[code] = value
        return out


_MAX_OPENING = 64
"""Most ``{``/``[`` on one line the fast path hands to pyarrow (a vote line has one)."""


def _check_bytes(block: bytes, arr: np.ndarray, newlines: int) -> None:
    if np.count_nonzero(arr < 0x20) != newlines:
        raise _Fallback("control character")
    slash = np.flatnonzero(arr[:-1] == 0x5C)
    if slash.size and (arr[slash + 1] == 0x75).any():  # a \\u escape (conservatively, also after \\\\)
        raise _Fallback("\\u escape")
    opening = (arr == 0x7B) | (arr == 0x5B)  # { and [
    if np.count_nonzero(opening) > newlines + 1:  # more than one per line somewhere: check each line
        starts = np.concatenate([[0], np.flatnonzero(arr == 0x0A) + 1])
        starts = starts[starts < len(arr)]
        if np.add.reduceat(opening.astype(np.int64), starts).max() > _MAX_OPENING:
            # pyarrow's parser recurses per nesting level: a deeply nested line would crash the
            # process, so such a line goes to the strict reader, which refuses deep nesting
            raise _Fallback("nesting")
    if not block.isascii():
        try:
            block.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Fallback("not UTF-8") from exc


def _nonblank_lines(block: bytes, arr: np.ndarray) -> int:
    """Lines holding something besides spaces (the strict reader skips the others)."""
    lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    starts = np.concatenate([[0], np.flatnonzero(arr == 0x0A)[:-1 if block.endswith(b"\n") else None] + 1])
    filled = (arr != 0x20) & (arr != 0x0A)
    counts = np.add.reduceat(filled, starts) if len(arr) else np.zeros(0)
    # reduceat gives the element at a start for an empty segment; a segment is blank when its start is a newline
    empty = arr[np.minimum(starts, len(arr) - 1)] == 0x0A
    return int(lines - np.count_nonzero((counts == 0) | empty & (counts <= 1)))


def _key_count(block: bytes, key: str) -> int:
    k = f'"{key}"'.encode()
    if k not in block:  # (one scan, usually: the field is absent from every line)
        return 0
    return block.count(k + b":") + block.count(k + b" :")


def _read_block(block: bytes) -> Any:
    import pyarrow as pa
    import pyarrow.json as pj

    arr = np.frombuffer(block, dtype=np.uint8)
    newlines = block.count(b"\n")
    _check_bytes(block, arr, newlines)
    try:
        table = pj.read_json(pa.BufferReader(block),
                             read_options=pj.ReadOptions(use_threads=True, block_size=max(1 << 20, len(block) // 4)),
                             parse_options=pj.ParseOptions(newlines_in_values=False),
                             memory_pool=pa.system_memory_pool())  # (freed blocks go back to the system)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise _Fallback(str(exc)) from exc
    for name, typ in zip(table.column_names, table.schema.types, strict=True):
        if str(typ) not in _KINDS.get(name, ()):
            raise _Fallback(f"{name}: unknown field or type {typ}")
    missing = [k for k in _KINDS if k not in table.column_names]
    for name in missing:
        table = table.append_column(name, pa.nulls(table.num_rows))
    lines = newlines + (0 if block.endswith(b"\n") else 1)
    if table.num_rows != lines and table.num_rows != _nonblank_lines(block, arr):
        raise _Fallback("rows and lines differ")  # e.g. two objects on one line
    for name in _REQUIRED:
        if table.column(name).null_count or str(table.column(name).type) == "null":
            raise _Fallback(f"{name} missing")
    for name in ("judge", "stale"):  # absent is fine, null is not (pyarrow reads both as null)
        col = table.column(name)
        if col.null_count > 0 and _key_count(block, name) != len(col) - col.null_count:
            raise _Fallback(f"{name}: null")
    for name in (*_NULLABLE_FLOAT, "active_seconds"):
        col = table.column(name)
        if col.null_count < len(col):
            v = col.drop_null().to_numpy().astype(float)
            if not (np.abs(v) < _FLOAT_LIMIT).all():  # also NaN and infinities
                raise _Fallback(f"{name}: out of range")
    return table


def _blocks(path: Path, size: int):
    """Whole-line blocks of about ``size`` bytes (a UTF-8 byte-order mark skipped)."""
    with open(path, "rb") as fh:
        rest = b""
        first = True
        while True:
            chunk = fh.read(size)
            if first:
                first = False
                if chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]
            if not chunk:
                if rest:
                    yield rest
                return
            data = rest + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            yield data[:cut + 1]
            rest = data[cut + 1:]


def read_vote_columns(path: str | os.PathLike, *, block_bytes: int | None = None) -> VoteColumns | None:
    """The votes of a JSON Lines file as :class:`VoteColumns`, or ``None`` when the file needs the
    strict reader (see the module's notes; never an error of its own). ``block_bytes``: bytes
    read at once (default :data:`BLOCK_BYTES`)."""
    if not ENABLED:
        return None
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    p = Path(path)
    try:
        return _read(p, block_bytes or BLOCK_BYTES, pa)
    except _Fallback as exc:
        log.debug("%s: strict reader (%s)", p, exc)
        return None
    except OSError:
        return None  # the strict reader names the problem
    finally:
        resources.release_freed_memory()  # the blocks' tables are gone: give their memory back


def _text(column: Any) -> np.ndarray | None:
    """Object array of a text column, ``None`` where null; ``None`` for a column without values."""
    if column.null_count == len(column):
        return None
    return column.to_numpy(zero_copy_only=False).astype(object)


def _numbers(column: Any) -> np.ndarray | None:
    """Float array of a number column, ``nan`` where null; ``None`` for a column without values."""
    if column.null_count == len(column):
        return None
    return column.cast("double").to_numpy(zero_copy_only=False)


def _join(parts: list[np.ndarray | None], sizes: list[int], fill: Any, dtype: Any) -> np.ndarray | None:
    """The blocks' arrays end to end (``fill`` for a block without values); ``None`` when no block has one."""
    if all(p is None for p in parts):
        return None
    return np.concatenate([np.full(n, fill, dtype=dtype) if p is None else p for p, n in zip(parts, sizes, strict=True)])


def _read(p: Path, block_bytes: int, pa: Any) -> VoteColumns:
    qids, models, raters, raws = _Codes(), _Codes(), _Codes(), _Codes()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("a", "b", "r", "w", "stale")}
    optional: dict[str, list[np.ndarray | None]] = {k: [] for k in _NULLABLE_TEXT}
    numbers: dict[str, list[np.ndarray | None]] = {k: [] for k in (*_NULLABLE_INT, *_NULLABLE_FLOAT)}
    sizes: list[int] = []
    q_parts: list[np.ndarray] = []
    q_int: list[bool] = []
    for block in _blocks(p, block_bytes):
        table = _read_block(block)
        sizes.append(table.num_rows)
        q = table.column("question_id")
        # numbers kept as numbers until the end (as text they are numbered in one pass there)
        q_parts.append(q.to_numpy() if str(q.type) == "int64" else qids.encode(q))
        q_int.append(str(q.type) == "int64")
        a, b = models.encode(table.column("model_a")), models.encode(table.column("model_b"))
        if (a == b).any():
            raise _Fallback("model_a == model_b")
        parts["a"].append(a)
        parts["b"].append(b)
        judge = table.column("judge")
        parts["r"].append(raters.encode(judge.cast(pa.string()).fill_null("")))
        parts["w"].append(raws.encode(table.column("winner")))
        stale = table.column("stale")
        parts["stale"].append(np.zeros(len(stale), dtype=bool) if stale.null_count == len(stale)
                              else stale.fill_null(False).to_numpy(zero_copy_only=False).astype(bool))
        for k in _NULLABLE_TEXT:
            optional[k].append(_text(table.column(k)))
        for k in numbers:
            numbers[k].append(_numbers(table.column(k)))
    if not parts["w"]:
        raise _Fallback("empty file")
    raw_winners = raws.values()
    codes = []
    for w in raw_winners:
        try:
            codes.append(_WIN_CODE[normalise_winner(w)])
        except ValueError as exc:
            raise _Fallback("winner") from exc
    raw_code = np.concatenate(parts["w"])
    if all(q_int):
        values, inverse = np.unique(np.concatenate(q_parts), return_inverse=True)
        qid_text, q_code = [str(v) for v in values.tolist()], inverse.ravel().astype(np.int32)
    else:  # text and numbers mixed: numbers as text, numbered with the text
        for i, is_int in enumerate(q_int):
            if is_int:
                values, inverse = np.unique(q_parts[i], return_inverse=True)
                q_parts[i] = qids.encode_values([str(v) for v in values.tolist()])[inverse.ravel()]
        qid_text, q_code = qids.values(), np.concatenate(q_parts)
    return VoteColumns(
        n_rows=len(raw_code), qid=qid_text, q_code=q_code, models=models.values(),
        a_code=np.concatenate(parts["a"]), b_code=np.concatenate(parts["b"]), raters=raters.values(),
        r_code=np.concatenate(parts["r"]), winner=np.asarray(codes, dtype=np.int8)[raw_code],
        raw_winners=raw_winners, raw_code=raw_code, stale=np.concatenate(parts["stale"]),
        optional={k: j for k, v in optional.items() if (j := _join(v, sizes, None, object)) is not None},
        numbers={k: j for k, v in numbers.items() if (j := _join(v, sizes, np.nan, float)) is not None})
