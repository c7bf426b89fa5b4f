"""Import WritingBench query files and model response files into the database.

Queries (``{"index", "domain1", "domain2", "query", "checklist"}`` plus any extra fields):
each becomes a :class:`Query` (extra fields kept in ``Query.extra``, language detected from
the text), its instruction version 1 (approved, the full original text) and its dynamic
criteria set (``source="checklist"``) with the 5 criteria. A requirement subset's
checklist (WritingBench's ``*_C`` files: 1 to 5 criteria about one requirement) is
imported with ``requirement="length"`` as an extra criteria set ``requirement:length``.

Responses (``{"index", "response"}`` with the model given by the caller, or with a
``"model"`` field): each becomes a :class:`Response`; models are created as needed.

Every import is one transaction: the whole file is checked first and nothing is written
if anything is wrong (:class:`InputError` names the file, line and field). Records already
in the database with the same content are counted as unchanged; the same index (or
index and model) with different content is an error.

Example:
    >>> detect_language("请写一篇关于春天的散文。")
    'zh'
    >>> detect_language("Write an essay about spring.")
    'en'
"""

from __future__ import annotations

import difflib
import gc
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from annotate.db.models import CriteriaSet, Criterion, InstructionVersion, LLMModel, Query, Response, utcnow
from annotate.services.errors import InputError
from annotate.services.exports import CRITERION_FIELDS, QUERY_FIELDS, query_records, requirement_source
from annotate.services.jsonl import read_jsonl
from annotate.services.taxonomy import seed_taxonomy, subdomain_index

log = logging.getLogger(__name__)

CHECKLIST_SIZE = 5
LANG_PREFIX_CHARS = 200
LANG_ZH_SHARE = 0.2
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")
_BANDS = ("band_1_2", "band_3_4", "band_5_6", "band_7_8", "band_9_10")


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        path: the file imported.
        kind: ``queries`` or ``responses``.
        records: non-blank lines read.
        inserted: new queries (or responses) written.
        unchanged: records already in the database with the same content (or repeated
            identically within the file).
        models_created: names of models created by a response import.
    """

    path: str
    kind: str
    records: int = 0
    inserted: int = 0
    unchanged: int = 0
    models_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people, e.g. ``queries: 1000 inserted, 0 unchanged (1000 records)``."""
        text = f"{self.kind}: {self.inserted} inserted, {self.unchanged} unchanged ({self.records} records)"
        if self.models_created:
            text += f"; new models: {', '.join(self.models_created)}"
        return text


def detect_language(text: str) -> str:
    """``zh`` or ``en``, from the share of CJK characters in the first 200 characters.

    CJK characters are compared with Latin letters (a Chinese character carries about as
    much as a short English word, so the text is Chinese when CJK characters make up at
    least 20% of the two). Only the start is read: the instruction comes first, and the
    materials after it are often in the other language.

    Example:
        >>> detect_language("请参考下文写一篇摘要。Deep learning for quality control")
        'zh'
    """
    head = text[:LANG_PREFIX_CHARS]
    cjk = len(_CJK.findall(head))
    latin = len(_LATIN.findall(head))
    return "zh" if cjk and cjk / (cjk + latin) >= LANG_ZH_SHARE else "en"


# --------------------------------------------------------------------------- validation


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number",
            bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


def _require(record: dict, key: str, kind: type, path: str, line: int, *, nonempty: bool = False) -> Any:
    if key not in record:
        raise InputError(f"missing field {key!r}", path=path, line=line, field=key)
    value = record[key]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        expected = {int: "an integer", str: "a string", list: "an array"}[kind]
        raise InputError(f"expected {expected}, found {_type_name(value)}", path=path, line=line, field=key)
    if nonempty and isinstance(value, str) and not value.strip():
        raise InputError("must not be empty", path=path, line=line, field=key)
    return value


def _check_checklist(value: Any, path: str, line: int, requirement: str | None) -> None:
    if not isinstance(value, list):
        raise InputError(f"expected an array of criteria, found {_type_name(value)}",
                         path=path, line=line, field="checklist")
    if requirement is None and len(value) != CHECKLIST_SIZE:
        raise InputError(f"a checklist needs exactly {CHECKLIST_SIZE} criteria, found {len(value)} "
                         "(for a requirement subset's checklist import with a requirement name, "
                         "e.g. --requirement length)", path=path, line=line, field="checklist")
    if requirement is not None and not 1 <= len(value) <= CHECKLIST_SIZE:
        raise InputError(f"a requirement checklist needs 1 to {CHECKLIST_SIZE} criteria, found {len(value)}",
                         path=path, line=line, field="checklist")
    if all(type(c) is dict and all(type(c.get(k)) is str for k in CRITERION_FIELDS) and c["name"].strip()
           for c in value) and len({c["name"] for c in value}) == len(value):
        return  # the common case, checked fast; the loop below explains what is wrong
    for i, criterion in enumerate(value):
        where = f"checklist[{i}]"
        if not isinstance(criterion, dict):
            raise InputError(f"expected a criterion object, found {_type_name(criterion)}",
                             path=path, line=line, field=where)
        for key in CRITERION_FIELDS:
            if key not in criterion:
                raise InputError(f"criterion misses {key!r} (a criterion has {', '.join(CRITERION_FIELDS)})",
                                 path=path, line=line, field=f"{where}.{key}")
            if not isinstance(criterion[key], str):
                raise InputError(f"expected a string, found {_type_name(criterion[key])}",
                                 path=path, line=line, field=f"{where}.{key}")
        if not criterion["name"].strip():
            raise InputError("criterion name must not be empty", path=path, line=line, field=f"{where}.name")
    names = [c["name"] for c in value]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"two criteria are named {dup!r}", path=path, line=line, field="checklist")


def _unknown_subdomain(domain1: str, domain2: str, known: dict[tuple[str, str], int],
                       path: str, line: int) -> InputError:
    domains = sorted({d for d, _ in known})
    if domain1 not in domains:
        close = difflib.get_close_matches(domain1, domains, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else \
            f"; valid domains: {', '.join(domains)}"
        return InputError(f"unknown domain {domain1!r}{hint}", path=path, line=line, field="domain1")
    same = [s for d, s in known if d == domain1]
    close = difflib.get_close_matches(domain2, same, n=3, cutoff=0.5)
    elsewhere = [f"{d} / {s}" for d, s in known if s == domain2]
    if elsewhere:
        hint = f"; it belongs to {elsewhere[0]!r}"
    elif close:
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?"
    else:
        others = difflib.get_close_matches(domain2, [s for _, s in known], n=3, cutoff=0.5)
        hint = (f"; closest in other domains: {', '.join(repr(c) for c in others)}" if others
                else f"; subdomains of {domain1!r}: {', '.join(sorted(same))}")
    return InputError(f"unknown subdomain {domain2!r} in domain {domain1!r}{hint}",
                      path=path, line=line, field="domain2")


def _first_difference(new: dict, old: dict, skip: tuple[str, ...] = ()) -> str:
    for key in list(new) + [k for k in old if k not in new]:
        if key in skip:
            continue
        if key not in old or key not in new or new[key] != old[key]:
            return key
    return "(record)"


def _content(record: dict, requirement: str | None) -> dict:
    """The part of a query record compared with earlier ones (requirement files: all but the checklist)."""
    if requirement is None:
        return record
    return {k: v for k, v in record.items() if k != "checklist"}


# --------------------------------------------------------------------------- bulk writing


def _placeholders(paramstyle: str, count: int) -> str:
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    if paramstyle in ("format", "pyformat"):
        return ", ".join(["%s"] * count)
    raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")  # pragma: no cover


def bulk_insert(conn: Connection, model: type, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table with one executemany.

    Values go through each column type's bind processor once per distinct value (dates
    and flags repeat) and JSON columns are serialised here, so the driver's executemany
    does the rest without per-row SQLAlchemy work.
    """
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    columns = list(rows[0])
    converters: list[Any] = []
    for column in columns:
        col_type = table.c[column].type
        if isinstance(col_type, JSON):
            converters.append(lambda v: "{}" if v == {} else json.dumps(v))
            continue
        processor = col_type.bind_processor(dialect)
        if processor is None:
            converters.append(None)
            continue
        cache: dict[Any, Any] = {}

        def convert(value: Any, processor: Any = processor, cache: dict = cache) -> Any:
            try:
                return cache[value]
            except KeyError:
                cache[value] = result = processor(value)
                return result
            except TypeError:  # unhashable
                return processor(value)

        converters.append(convert)
    values = [[row[column] for row in rows] if convert_value is None
              else [convert_value(row[column]) for row in rows]
              for column, convert_value in zip(columns, converters, strict=True)]
    params = list(zip(*values, strict=True))  # the rows are left as they were
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({_placeholders(dialect.paramstyle, len(columns))})")
    conn.exec_driver_sql(sql, params)


def _ids_by(conn: Connection, model: type, key: str, keys: list[Any], **equal: Any) -> dict[Any, int]:
    """``{key: id}`` for rows of ``model`` whose ``key`` column is in ``keys`` and whose
    columns equal ``equal`` (plain SQL, one statement per 500 keys)."""
    table = model.__table__  # type: ignore[attr-defined]
    quote = conn.dialect.identifier_preparer.quote
    found: dict[Any, int] = {}
    conditions = "".join(f" AND {quote(c)} = {_placeholders(conn.dialect.paramstyle, 1)}" for c in equal)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        sql = (f"SELECT {quote(key)}, id FROM {quote(table.name)} "
               f"WHERE {quote(key)} IN ({_placeholders(conn.dialect.paramstyle, len(chunk))}){conditions}")
        found.update(conn.exec_driver_sql(sql, (*chunk, *equal.values())).all())
    return found


@contextmanager
def _gc_paused() -> Iterator[None]:
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


# --------------------------------------------------------------------------- queries


def _checklist_rows(set_id: int, checklist: list[dict]) -> list[dict]:
    rows = []
    for position, criterion in enumerate(checklist):
        row = {"criteria_set_id": set_id, "position": position, "name": criterion["name"],
               "description": criterion["criteria_description"],
               "extra": {k: v for k, v in criterion.items() if k not in CRITERION_FIELDS}}
        for column, band in zip(_BANDS, CRITERION_FIELDS[2:], strict=True):
            row[column] = criterion[band]
        rows.append(row)
    return rows


def import_queries(*, session: Session, path: str | Path, requirement: str | None = None) -> ImportReport:
    """Import a WritingBench query file in one transaction; see the module docstring.

    Args:
        session: database session; this function commits (or rolls back on error).
        path: the ``.jsonl`` file.
        requirement: import each ``checklist`` as the requirement checklist of this name
            (1-5 criteria, criteria set source ``requirement:<name>``) instead of the
            query's main checklist.

    Raises:
        InputError: bad input (file, line and field named); nothing was written.
    """
    with _gc_paused():
        return _import_queries(session=session, path=path, requirement=requirement)


def _import_queries(*, session: Session, path: str | Path, requirement: str | None = None) -> ImportReport:
    name = str(path)
    records = read_jsonl(path, what="queries")
    report = ImportReport(path=name, kind="queries", records=len(records))
    try:
        known = subdomain_index(session)
        if not known:
            seed_taxonomy(session, commit=False)
            known = subdomain_index(session)

        # 1. check every record on its own and against the earlier lines of the file
        first_line: dict[int, int] = {}
        new: dict[int, tuple[int, dict]] = {}
        for line, record in records:
            index = _require(record, "index", int, name, line)
            domain1 = _require(record, "domain1", str, name, line)
            domain2 = _require(record, "domain2", str, name, line)
            _require(record, "query", str, name, line, nonempty=True)
            if "checklist" not in record:
                raise InputError("missing field 'checklist'", path=name, line=line, field="checklist")
            _check_checklist(record["checklist"], name, line, requirement)
            if (domain1, domain2) not in known:
                raise _unknown_subdomain(domain1, domain2, known, name, line)
            if index in new:
                earlier = new[index][1]
                if earlier != record:
                    raise InputError(
                        f"index {index} already appears on line {first_line[index]} with different content "
                        f"(field {_first_difference(record, earlier)!r} differs)",
                        path=name, line=line, field="index")
                report.unchanged += 1
                continue
            first_line[index] = line
            new[index] = (line, record)

        # 2. compare with what the database already holds
        existing = query_records(session=session, indexes=list(new))
        source = requirement_source(requirement)
        existing_req: dict[int, dict] = {}
        if requirement is not None and existing:
            existing_req = query_records(session=session, indexes=list(existing), requirement=requirement)
        to_insert: list[tuple[int, dict]] = []
        sets_for_existing: list[tuple[int, dict]] = []
        for index, (line, record) in new.items():
            old = existing.get(index)
            if old is None:
                to_insert.append((line, record))
                continue
            if _content(old, requirement) != _content(record, requirement):
                key = _first_difference(record, old, skip=("checklist",) if requirement else ())
                raise InputError(
                    f"a query with index {index} is already in the database with different content "
                    f"(field {key!r} differs)", path=name, line=line, field="index")
            if requirement is not None:
                old_req = existing_req.get(index)
                if old_req is None:
                    sets_for_existing.append((line, record))
                    continue
                if old_req.get("checklist") != record["checklist"]:
                    raise InputError(
                        f"query {index} already has a different {requirement!r} requirement checklist",
                        path=name, line=line, field="checklist")
            report.unchanged += 1

        # 3. write everything in bulk (ids are read back with one query per 500 rows)
        conn = session.connection()
        now = utcnow()
        lang_of = {r["index"]: detect_language(r["query"]) for _l, r in to_insert + sets_for_existing}
        if to_insert:
            source_name = Path(name).name[:500]
            bulk_insert(conn, Query, [
                {"index": r["index"], "subdomain_id": known[(r["domain1"], r["domain2"])],
                 "lang": lang_of[r["index"]], "original_text": r["query"],
                 "extra": {k: v for k, v in r.items() if k not in QUERY_FIELDS},
                 "source": source_name, "needs_materials": False, "material_requirement": "",
                 "content_revision": 1, "created_at": now} for _l, r in to_insert])
        with_sets = to_insert + sets_for_existing
        query_ids = _ids_by(conn, Query, "index", [r["index"] for _l, r in with_sets])
        if to_insert:
            bulk_insert(conn, InstructionVersion, [
                {"query_id": query_ids[r["index"]], "version_no": 1, "base_version_no": None,
                 "text": r["query"], "status": "approved", "reason": "imported", "review_note": "",
                 "author_id": None, "reviewer_id": None, "created_at": now, "reviewed_at": now}
                for _l, r in to_insert])
        if with_sets:
            set_name = "checklist" if requirement is None else f"{requirement} requirement checklist"
            bulk_insert(conn, CriteriaSet, [
                {"method": "dynamic", "name": set_name, "lang": lang_of[r["index"]], "domain_id": None,
                 "query_id": query_ids[r["index"]], "source": source, "created_at": now}
                for _l, r in with_sets])
            set_ids = _ids_by(conn, CriteriaSet, "query_id", list(query_ids.values()),
                              method="dynamic", source=source)
            criteria_rows: list[dict] = []
            for _l, record in with_sets:
                criteria_rows.extend(_checklist_rows(set_ids[query_ids[record["index"]]], record["checklist"]))
            bulk_insert(conn, Criterion, criteria_rows)
        report.inserted = len(to_insert) + (len(sets_for_existing) if requirement else 0)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info("imported %s: %s", name, report.summary())
    return report


# --------------------------------------------------------------------------- responses


def import_responses(*, session: Session, path: str | Path, model: str | None = None) -> ImportReport:
    """Import a response file in one transaction; see the module docstring.

    Args:
        session: database session; this function commits (or rolls back on error).
        path: the ``.jsonl`` file: ``{"index", "response"}`` lines, optionally with ``"model"``.
        model: the model that wrote the responses, for files without a ``"model"`` field.
            A line whose ``"model"`` differs from it is an error.

    Raises:
        InputError: bad input (file, line and field named); nothing was written.
    """
    with _gc_paused():
        return _import_responses(session=session, path=path, model=model)


def _import_responses(*, session: Session, path: str | Path, model: str | None = None) -> ImportReport:
    name = str(path)
    records = read_jsonl(path, what="responses")
    report = ImportReport(path=name, kind="responses", records=len(records))
    if model is not None and not model.strip():
        raise InputError("the model name must not be empty", path=name, field="model")
    try:
        seen: dict[tuple[int, str], tuple[int, str, dict]] = {}
        for line, record in records:
            index = _require(record, "index", int, name, line)
            text = _require(record, "response", str, name, line)
            if "model" in record:
                rec_model = _require(record, "model", str, name, line, nonempty=True)
                if model is not None and rec_model != model:
                    raise InputError(f"the line names model {rec_model!r} but the import is for {model!r}",
                                     path=name, line=line, field="model")
            elif model is None:
                raise InputError("missing field 'model' (give the model name, e.g. --model NAME)",
                                 path=name, line=line, field="model")
            else:
                rec_model = model
            extra = {k: v for k, v in record.items() if k not in ("index", "response", "model")}
            key = (index, rec_model)
            if key in seen:
                if seen[key][1:] != (text, extra):
                    raise InputError(f"the response of model {rec_model!r} to query {index} already appears "
                                     f"on line {seen[key][0]} with different content",
                                     path=name, line=line, field="response")
                report.unchanged += 1
                continue
            seen[key] = (line, text, extra)

        indexes = sorted({index for index, _m in seen})
        query_ids: dict[int, int] = {}
        for start in range(0, len(indexes), 500):
            chunk = indexes[start:start + 500]
            query_ids.update(session.exec(select(Query.index, Query.id).where(
                Query.index.in_(chunk))).all())  # type: ignore[attr-defined]
        for (index, _m), (line, _t, _e) in seen.items():
            if index not in query_ids:
                raise InputError(f"no query with index {index} in the database (import the queries first)",
                                 path=name, line=line, field="index")

        models = {m.name: m.id for m in session.exec(select(LLMModel)).all()}
        missing = sorted({m for _i, m in seen} - set(models))
        conn = session.connection()
        if missing:
            result = conn.execute(insert(LLMModel).returning(LLMModel.id, LLMModel.name), [{"name": m} for m in missing])
            models.update({n: i for i, n in result})
            report.models_created = missing
        existing: dict[tuple[int, int], tuple[str, dict]] = {}
        qids = list(query_ids.values())
        for start in range(0, len(qids), 500):
            for row in session.exec(select(Response).where(
                    Response.query_id.in_(qids[start:start + 500]))):  # type: ignore[attr-defined]
                existing[(row.query_id, row.model_id)] = (row.text, row.extra or {})
        rows = []
        now = utcnow()
        for (index, model_name), (line, text, extra) in seen.items():
            qid, mid = query_ids[index], models[model_name]
            old = existing.get((qid, mid))
            if old is None:
                rows.append({"query_id": qid, "model_id": mid, "text": text, "extra": extra, "created_at": now})
            elif old == (text, extra):
                report.unchanged += 1
            else:
                raise InputError(f"the database already holds a different response of model {model_name!r} "
                                 f"to query {index}", path=name, line=line, field="response")
        if rows:
            bulk_insert(conn, Response, rows)
        report.inserted = len(rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info("imported %s: %s", name, report.summary())
    return report
