"""Export queries back to WritingBench's JSON Lines layout.

A record is rebuilt from the database exactly as it was imported: ``index``, ``domain1``,
``domain2``, ``query`` (the original text), ``checklist`` (the imported criteria with any
extra keys), then every unknown field of the source record in its original order. Each
line is ``json.dumps(record, ensure_ascii=False)``, which is how WritingBench writes its
files, so exporting an unchanged import of such a file reproduces it byte for byte.

Example:
    >>> from annotate.db.engine import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite:///:memory:")
    >>> upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     query_records(session=session)
    {}
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from annotate.db.models import CriteriaSet, Criterion, Domain, Query, Subdomain
from annotate.services.core.bulk import chunked

log = logging.getLogger(__name__)

QUERY_FIELDS = ("index", "domain1", "domain2", "query", "checklist")
CRITERION_FIELDS = ("name", "criteria_description", "1-2", "3-4", "5-6", "7-8", "9-10")
CHECKLIST_SOURCE = "checklist"


def requirement_source(requirement: str | None) -> str:
    """The ``CriteriaSet.source`` of a query's checklist: ``checklist`` or ``requirement:<name>``."""
    return CHECKLIST_SOURCE if not requirement else f"requirement:{requirement}"


def criterion_record(name: str, description: str, band_1_2: str, band_3_4: str, band_5_6: str,
                     band_7_8: str, band_9_10: str, extra: dict | None) -> dict[str, Any]:
    """A criterion's columns as a WritingBench checklist entry (extra keys last).

    Example:
        >>> criterion_record("Clarity", "Is it clear?", "a", "b", "c", "d", "e", {"weight": 2})["9-10"]
        'e'
    """
    record = {"name": name, "criteria_description": description, "1-2": band_1_2, "3-4": band_3_4,
              "5-6": band_5_6, "7-8": band_7_8, "9-10": band_9_10}
    record.update(extra or {})
    return record


def query_records(*, session: Session, indexes: Iterable[int] | None = None,
                  requirement: str | None = None) -> dict[int, dict[str, Any]]:
    """Rebuild the source records of the queries with ``indexes`` (all if ``None``).

    Returns ``{index: record}`` in import order. With ``requirement``, the checklist is the
    requirement checklist of that name and queries without one are left out. A query that
    has no checklist of the asked kind is returned without a ``checklist`` key.
    """
    names = {sid: (d, s) for d, s, sid in session.exec(
        select(Domain.name, Subdomain.name, Subdomain.id).join(Subdomain, col(Subdomain.domain_id) == Domain.id))}
    columns = (col(Query.id), col(Query.index), col(Query.subdomain_id), col(Query.original_text),
               col(Query.extra))
    rows: list[Any] = []
    # five columns: past sqlmodel's select overloads, so SQLAlchemy's select through
    # Session.execute (the same Row objects Session.exec returns for a multi-column select)
    if indexes is None:
        rows = list(session.execute(sa_select(*columns).order_by(col(Query.id))))
    else:
        for chunk in chunked(sorted(set(indexes))):
            rows.extend(session.execute(sa_select(*columns).where(col(Query.index).in_(chunk))))
        rows.sort(key=lambda q: q.id)
    source = requirement_source(requirement)
    set_of: dict[int, int] = {}
    for chunk in chunked([q.id for q in rows]):
        for set_id, query_id in session.exec(
                select(CriteriaSet.id, CriteriaSet.query_id).where(
                    col(CriteriaSet.query_id).in_(chunk),
                    CriteriaSet.method == "dynamic", CriteriaSet.source == source)
                .order_by(col(CriteriaSet.id))):
            # neither is NULL: a stored set's key, and a query_id that matched the chunk
            set_of[cast(int, query_id)] = cast(int, set_id)  # the latest set of that source wins
    criteria: dict[int, list[dict[str, Any]]] = {}
    crit_columns = (col(Criterion.criteria_set_id), col(Criterion.name), col(Criterion.description),
                    col(Criterion.band_1_2), col(Criterion.band_3_4), col(Criterion.band_5_6),
                    col(Criterion.band_7_8), col(Criterion.band_9_10), col(Criterion.extra))
    for chunk in chunked(list(set_of.values())):
        for row in session.execute(sa_select(*crit_columns).where(col(Criterion.criteria_set_id).in_(chunk))
                                .order_by(col(Criterion.criteria_set_id), col(Criterion.position))):
            criteria.setdefault(row[0], []).append(criterion_record(*row[1:]))
    records: dict[int, dict[str, Any]] = {}
    for query in rows:
        if requirement and query.id not in set_of:
            continue
        domain1, domain2 = names[query.subdomain_id]
        record: dict[str, Any] = {"index": query.index, "domain1": domain1, "domain2": domain2,
                                  "query": query.original_text}
        if query.id in set_of:
            record["checklist"] = criteria.get(set_of[query.id], [])
        for key, value in (query.extra or {}).items():
            record.setdefault(key, value)
        records[query.index] = record
    return records


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write ``records`` to ``path`` atomically (temporary file, then rename); return the count."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False))
                out.write("\n")
                count += 1
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def export_queries(*, session: Session, path: str | Path, requirement: str | None = None,
                   current: bool = False) -> int:
    """Write every query to ``path`` in WritingBench's layout; return how many were written.

    Args:
        session: database session (read only).
        path: the output ``.jsonl`` file (replaced atomically).
        requirement: export the requirement checklists of this name instead of the main
            checklists (only queries that have one), as in WritingBench's ``*_C`` files.
        current: write each query's current text (approved edits and kept materials, see
            :func:`annotate.services.content.content.render_query_text`) instead of the original.
    """
    records = query_records(session=session, requirement=requirement)
    if current:
        from annotate.services.content.content import render_query_text

        # a stored query's key is never NULL (SQLModel types it int | None for unsaved rows)
        ids = cast(dict[int, int], dict(session.exec(select(Query.index, Query.id)).all()))
        for index, record in records.items():
            record["query"] = render_query_text(session=session, query_id=ids[index])
    count = write_jsonl(path, records.values())
    log.info("exported %d queries to %s", count, path)
    return count
