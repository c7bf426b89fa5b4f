"""Bulk writing: one driver-level ``executemany`` per table inside the session's transaction.

The ORM (and even SQLAlchemy Core's ``insert``) does Python work per row and per value:
building objects, running defaults, calling each column type's bind processor. An import
writes thousands of rows whose values are mostly plain ``int``/``str``; here the caller
passes rows as tuples, constants (dates, flags) are converted once with
:func:`bind_value`, and only the columns whose type needs it are converted per row. The SQL
runs with ``Connection.exec_driver_sql`` on the session's own connection, so it is part of
the same transaction as everything else the session does (SQLite and PostgreSQL alike).

Example:
    >>> from annotate.db.engine import make_engine, upgrade
    >>> from annotate.db.models import LLMModel
    >>> engine = make_engine("sqlite:///:memory:")
    >>> upgrade(engine)
    >>> with engine.begin() as conn:
    ...     insert_rows(conn, LLMModel, ("name",), [("alpha",), ("beta",)])
    ...     sorted(ids_by(conn, LLMModel, "name", ["alpha", "beta"]))
    ['alpha', 'beta']
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Connection

EMPTY_JSON = "{}"


#: keys per ``IN (...)`` list: far below every backend's limit on bound parameters
IN_CHUNK = 500


def chunked(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size``, for ``IN (...)`` lists that stay within limits.

    >>> [list(c) for c in chunked([1, 2, 3, 4, 5], 2)]
    [[1, 2], [3, 4], [5]]
    """
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _placeholders(paramstyle: str, count: int) -> str:
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    if paramstyle in ("format", "pyformat"):
        return ", ".join(["%s"] * count)
    raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")  # pragma: no cover


def dump_json(value: Any) -> str:
    """A JSON column's value as the text stored (``{}`` without calling the encoder).

    Example:
        >>> dump_json({}), dump_json({"weight": 2})
        ('{}', '{"weight": 2}')
    """
    return EMPTY_JSON if value == {} else json.dumps(value)


def _processor(conn: Connection, model: type, column: str) -> Callable[[Any], Any] | None:
    """The function turning a Python value of ``column`` into its DB-API value (None: as is).

    Uses the dialect's implementation of the type (e.g. SQLite's DATETIME writes the same
    text as the ORM does); JSON is serialised with :func:`dump_json`.
    """
    col_type = model.__table__.c[column].type  # type: ignore[attr-defined]
    if isinstance(col_type, JSON):
        return dump_json
    return col_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)


def bind_value(conn: Connection, model: type, column: str, value: Any) -> Any:
    """``value`` as the driver gets it for ``column`` (for constants repeated on every row).

    Example:
        >>> from annotate.db.engine import make_engine
        >>> from annotate.db.models import Query
        >>> from datetime import UTC, datetime
        >>> with make_engine("sqlite:///:memory:").connect() as conn:
        ...     bind_value(conn, Query, "created_at", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
        '2025-01-02 03:04:05.000000'
    """
    processor = _processor(conn, model, column)
    return value if processor is None else processor(value)


def insert_rows(conn: Connection, model: type, columns: Sequence[str], rows: list[tuple],
                *, bound: Collection[str] = ()) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) with one ``executemany``.

    Columns named in ``bound`` already hold driver values (see :func:`bind_value`,
    :func:`dump_json`); the others are converted per row only if their type needs it.
    """
    if not rows:
        return
    convert = [(i, p) for i, c in enumerate(columns) if c not in bound
               and (p := _processor(conn, model, c)) is not None]
    if convert:
        rows = [_converted(row, convert) for row in rows]
    table = model.__table__  # type: ignore[attr-defined]
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({_placeholders(conn.dialect.paramstyle, len(columns))})")
    conn.exec_driver_sql(sql, rows)


def _converted(row: tuple, convert: list[tuple[int, Callable[[Any], Any]]]) -> tuple:
    values = list(row)
    for i, processor in convert:
        values[i] = processor(values[i])
    return tuple(values)


def bulk_insert(conn: Connection, model: type, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table with one executemany.

    Values go through each column type's bind processor once per distinct value (dates
    and flags repeat) and JSON columns are serialised here, so the driver's executemany
    does the rest without per-row SQLAlchemy work.
    """
    if not rows:
        return
    columns = list(rows[0])
    converters: list[Callable[[Any], Any] | None] = []
    for column in columns:
        processor = _processor(conn, model, column)
        if processor is None or processor is dump_json:
            converters.append(processor)
            continue
        converters.append(_cached(processor))
    values = [[row[column] for row in rows] if convert is None else [convert(row[column]) for row in rows]
              for column, convert in zip(columns, converters, strict=True)]
    insert_rows(conn, model, columns, list(zip(*values, strict=True)), bound=columns)


def _cached(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            cache[value] = result = processor(value)
            return result
        except TypeError:  # unhashable
            return processor(value)

    return convert


def ids_by(conn: Connection, model: type, key: str, keys: list[Any], **equal: Any) -> dict[Any, int]:
    """``{key: id}`` for rows of ``model`` whose ``key`` column is in ``keys`` and whose
    columns equal ``equal`` (plain SQL, one statement per 500 keys)."""
    table = model.__table__  # type: ignore[attr-defined]
    quote = conn.dialect.identifier_preparer.quote
    mark = _placeholders(conn.dialect.paramstyle, 1)
    found: dict[Any, int] = {}
    conditions = "".join(f" AND {quote(c)} = {mark}" for c in equal)
    for chunk in chunked(keys):
        sql = (f"SELECT {quote(key)}, id FROM {quote(table.name)} "
               f"WHERE {quote(key)} IN ({_placeholders(conn.dialect.paramstyle, len(chunk))}){conditions}")
        found.update(conn.exec_driver_sql(sql, (*chunk, *equal.values())).all())
    return found


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file's records are held in memory.

    An import allocates many small containers (records, criteria) that live until the
    end; the collector would repeatedly walk them all, for nothing (tens of ms per pass).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

