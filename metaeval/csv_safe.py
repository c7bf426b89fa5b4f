"""The one CSV writer: cells a spreadsheet would run as a formula are made inert.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or the
full-width ``＝ ＋ － ＠`` some spreadsheets also accept) is read by Excel, LibreOffice and Google
Sheets as a formula; a model name, rationale, annotator name or audit note that came from a
person or an imported file could then run ``=HYPERLINK(...)`` or ``=cmd|...`` on the
researcher's machine. Following OWASP's advice, such a text cell gets a leading single quote,
which the spreadsheet shows as text. Numbers stay numbers: ``int``/``float`` values are never
changed, and neither is text that is a plain numeric literal (``-0.25``, ``+3``, ``1e-5``,
``-inf``), so a column of negative numbers still opens as numbers.

Every CSV this project writes goes through this module (``tests/unit/rules/test_csv_safe_static.py``
fails on ``csv.writer``, ``csv.DictWriter`` or ``DataFrame.to_csv`` anywhere else in
``annotate/`` or ``metaeval/``). JSON Lines and Parquet stay lossless: only CSV is changed.

Example:
    >>> import io
    >>> buf = io.StringIO()
    >>> w = writer(buf, lineterminator="\\n")
    >>> w.writerow(["model", "score"])
    >>> w.writerow(["=HYPERLINK(\\"http://x\\")", -0.5])
    >>> w.writerow(["-2", "-1+1"])
    >>> print(buf.getvalue(), end="")
    model,score
    "'=HYPERLINK(""http://x"")",-0.5
    -2,'-1+1
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

__all__ = ["FORMULA_PREFIXES", "neutralise", "writer", "DictWriter", "rows_to_csv", "frame_to_csv"]

#: First characters that make a spreadsheet treat a cell as a formula (OWASP's list, plus the
#: full-width forms).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE)


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Non-text values (numbers, ``None``, booleans) are returned unchanged, and so is text that is
    a plain number.

    Example:
        >>> neutralise("=1+1"), neutralise("@SUM(A1)"), neutralise("-3.5"), neutralise(-3.5), neutralise("a-b")
        ("'=1+1", "'@SUM(A1)", '-3.5', -3.5, 'a-b')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class _SafeWriter:
    """A :func:`csv.writer` whose every cell passes through :func:`neutralise`.

    A cell holding a line break is always quoted, whatever the line terminator (Python's csv
    module quotes only the characters of ``lineterminator``: with ``"\n"`` a lone ``"\r"`` went
    out bare and split the row in a spreadsheet).
    """

    def __init__(self, fh: IO[str], *, lineterminator: str = "\r\n", **kwargs: Any) -> None:
        self._fh = fh
        self._end = lineterminator
        self._buf = io.StringIO()
        self._w = csv.writer(self._buf, lineterminator="\r\n", **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row (cells neutralised)."""
        self._buf.seek(0)
        self._buf.truncate()
        self._w.writerow([neutralise(v) for v in row])
        self._fh.write(self._buf.getvalue()[:-2] + self._end)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows (cells neutralised)."""
        for row in rows:
            self.writerow(row)


def writer(fh: IO[str], **kwargs: Any) -> _SafeWriter:
    """Like :func:`csv.writer`, with formula cells neutralised (see the module docstring)."""
    return _SafeWriter(fh, **kwargs)


class DictWriter:
    """Like :class:`csv.DictWriter` (missing keys are written empty, unknown keys refused), with
    formula cells neutralised."""

    def __init__(self, fh: IO[str], fieldnames: Sequence[str], **kwargs: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._w = _SafeWriter(fh, **kwargs)

    def writeheader(self) -> None:
        """Write the header row."""
        self._w.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        """Write one row (cells neutralised)."""
        extra = set(row) - set(self.fieldnames)
        if extra:
            raise ValueError(f"dict contains fields not in fieldnames: {', '.join(map(repr, sorted(extra)))}")
        self._w.writerow([row.get(f, "") for f in self.fieldnames])

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write many rows (cells neutralised)."""
        for row in rows:
            self.writerow(row)


def rows_to_csv(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV text (``\\n`` line ends) of a header and rows, formula cells neutralised.

    Example:
        >>> rows_to_csv(["a", "b"], [["+1", "+x"]])
        "a,b\\n+1,'+x\\n"
    """
    buf = io.StringIO()
    w = writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def frame_to_csv(frame: Any) -> str:
    """CSV text of a pandas DataFrame (no index), formula cells neutralised.

    Numeric columns are written by pandas exactly as ``frame.to_csv(index=False)`` would; only
    text cells (and column names) can change.

    Example:
        >>> import pandas as pd
        >>> frame_to_csv(pd.DataFrame({"model": ["=cmd", "b"], "delta": [-1.5, 2.0]}))
        "model,delta\\n'=cmd,-1.5\\nb,2.0\\n"
    """
    safe = frame.copy()
    for name in safe.columns:
        if safe[name].dtype == object or str(safe[name].dtype) in ("string", "str", "category"):
            safe[name] = safe[name].map(neutralise).astype(object)
    safe.columns = [neutralise(c) if isinstance(c, str) else c for c in safe.columns]
    return str(safe.to_csv(index=False))
