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
import logging
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from annotate.db.engine import transaction
from annotate.db.models import (
    CriteriaSet,
    Criterion,
    InstructionVersion,
    LLMModel,
    Query,
    Response,
    id_of,
    utcnow,
)
from annotate.services.content.exports import (
    CRITERION_FIELDS,
    QUERY_FIELDS,
    query_records,
    requirement_source,
)
from annotate.services.core.bulk import (
    EMPTY_JSON,
    bind_value,
    bulk_insert,
    chunked,
    dump_json,
    gc_paused,
    ids_by,
    insert_rows,
)
from annotate.services.core.errors import InputError
from annotate.services.core.jsonl import read_jsonl
from annotate.services.core.taxonomy import seed_taxonomy, subdomain_index
from metaeval.strict_json import INT32_MAX, INT32_MIN

__all__ = ["ImportReport", "bulk_insert", "detect_language", "import_queries", "import_responses"]

log = logging.getLogger(__name__)

CHECKLIST_SIZE = 5
LANG_PREFIX_CHARS = 200
LANG_ZH_SHARE = 0.2
MODEL_NAME_MAX = 200  # LLMModel.name
_CJK_RANGES = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_NOT_CJK = re.compile(f"[^{_CJK_RANGES}]+")
_NOT_LATIN = re.compile(r"[^A-Za-z]+")
_BANDS = ("band_1_2", "band_3_4", "band_5_6", "band_7_8", "band_9_10")
_CRITERION_COLUMNS = ("criteria_set_id", "position", "name", "description", *_BANDS, "extra")
_get_criterion_fields = operator.itemgetter(*CRITERION_FIELDS)


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
    if head.isascii():
        return "en"  # no CJK character at all
    cjk = len(_NOT_CJK.sub("", head))
    latin = len(_NOT_LATIN.sub("", head))
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
    if nonempty and isinstance(value, str) and (not value or value.isspace()):  # reads only leading blanks
        raise InputError("must not be empty", path=path, line=line, field=key)
    return value


def _check_index(index: int, path: str, line: int) -> None:
    """``Query.index`` is an ``INTEGER`` column (32-bit on PostgreSQL)."""
    if not INT32_MIN <= index <= INT32_MAX:
        raise InputError(f"index {index} is out of range (an index is an integer from {INT32_MIN} "
                         f"to {INT32_MAX})", path=path, line=line, field="index")


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


# --------------------------------------------------------------------------- queries


def _criterion_values(criterion: dict) -> tuple:
    """A checked criterion as the values of its Criterion row after the set and position:
    name, description, the five bands, the extra keys as JSON text."""
    if len(criterion) == len(CRITERION_FIELDS):  # only the known keys (they were checked)
        return (*_get_criterion_fields(criterion), EMPTY_JSON)
    return (*_get_criterion_fields(criterion),
            dump_json({k: v for k, v in criterion.items() if k not in CRITERION_FIELDS}))


def _fast_criteria(value: Any, requirement: str | None) -> list[tuple] | None:
    """The checklist's Criterion values if it is well formed in the common way (criteria
    with exactly the known keys, all strings), else None: then :func:`_check_checklist`
    says what is wrong, or the criteria carry extra keys. One pass, no per-field loop."""
    if type(value) is not list:
        return None
    count = len(value)
    if (count != CHECKLIST_SIZE) if requirement is None else not 1 <= count <= CHECKLIST_SIZE:
        return None
    rows = []
    names = set()
    width = len(CRITERION_FIELDS)
    for criterion in value:
        if type(criterion) is not dict or len(criterion) != width:
            return None
        try:
            name, description, band1, band2, band3, band4, band5 = _get_criterion_fields(criterion)
        except KeyError:
            return None
        if not (type(name) is str and type(description) is str and type(band1) is str
                and type(band2) is str and type(band3) is str and type(band4) is str
                and type(band5) is str) or not name or name.isspace():
            return None
        names.add(name)
        rows.append((name, description, band1, band2, band3, band4, band5, EMPTY_JSON))
    if len(names) != count:
        return None
    return rows


def _fast_record(record: dict) -> bool:
    """Whether the record's own fields are well formed in the common way (one pass, the
    query text is not walked: only its leading blanks are read)."""
    text = record.get("query")
    return (type(record.get("index")) is int and type(record.get("domain1")) is str
            and type(record.get("domain2")) is str and type(text) is str and bool(text)
            and not text.isspace())


def _write_queries(conn: Connection, known: dict[tuple[str, str], int], to_insert: list[tuple[int, dict]],
                   sets_for_existing: list[tuple[int, dict]], criteria_of: dict[int, list[tuple]],
                   name: str, requirement: str | None) -> None:
    """Step 3 of a query import: driver-level executemany of plain tuples in the session's
    transaction (ids are read back with one query per 500 rows)."""
    now = utcnow()
    created = bind_value(conn, Query, "created_at", now)
    source = requirement_source(requirement)
    with_sets = to_insert + sets_for_existing
    lang_of = {r["index"]: detect_language(r["query"]) for _l, r in with_sets}
    if to_insert:
        source_name = Path(name).name[:500]
        no_materials = bind_value(conn, Query, "needs_materials", False)
        insert_rows(conn, Query, (
            "index", "subdomain_id", "lang", "original_text", "extra", "source", "needs_materials",
            "material_requirement", "content_revision", "created_at"), [
            (r["index"], known[(r["domain1"], r["domain2"])], lang_of[r["index"]], r["query"],
             EMPTY_JSON if len(r) == len(QUERY_FIELDS)
             else dump_json({k: v for k, v in r.items() if k not in QUERY_FIELDS}),
             source_name, no_materials, "", 1, created) for _l, r in to_insert],
            bound=("extra", "needs_materials", "created_at"))
    query_ids = ids_by(conn, Query, "index", [r["index"] for _l, r in with_sets])
    if to_insert:
        stamp = bind_value(conn, InstructionVersion, "created_at", now)
        # Version 1 is stored by reference (text NULL = the query's original text).
        insert_rows(conn, InstructionVersion, (
            "query_id", "version_no", "base_version_no", "text", "status", "reason", "review_note",
            "author_id", "reviewer_id", "created_at", "reviewed_at"), [
            (query_ids[r["index"]], 1, None, None, "approved", "imported", "", None, None, stamp, stamp)
            for _l, r in to_insert], bound=("created_at", "reviewed_at"))
    if with_sets:
        set_name = "checklist" if requirement is None else f"{requirement} requirement checklist"
        stamp = bind_value(conn, CriteriaSet, "created_at", now)
        insert_rows(conn, CriteriaSet, (
            "method", "name", "lang", "domain_id", "query_id", "source", "created_at"), [
            ("dynamic", set_name, lang_of[r["index"]], None, query_ids[r["index"]], source, stamp)
            for _l, r in with_sets], bound=("created_at",))
        set_ids = ids_by(conn, CriteriaSet, "query_id", list(query_ids.values()),
                         method="dynamic", source=source)
        criteria_rows: list[tuple] = []
        for _l, record in with_sets:
            set_id = set_ids[query_ids[record["index"]]]
            criteria_rows.extend((set_id, position, *values)
                                 for position, values in enumerate(criteria_of[record["index"]]))
        insert_rows(conn, Criterion, _CRITERION_COLUMNS, criteria_rows, bound=("extra",))


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
    with gc_paused():
        return _import_queries(session=session, path=path, requirement=requirement)


def _import_queries(*, session: Session, path: str | Path, requirement: str | None = None) -> ImportReport:
    name = str(path)
    records = read_jsonl(path, what="queries")
    report = ImportReport(path=name, kind="queries", records=len(records))
    with transaction(session):
        known = subdomain_index(session)
        if not known:
            seed_taxonomy(session, commit=False)
            known = subdomain_index(session)

        # 1. check every record on its own and against the earlier lines of the file
        first_line: dict[int, int] = {}
        new: dict[int, tuple[int, dict]] = {}
        criteria_of: dict[int, list[tuple]] = {}
        for line, record in records:
            if not _fast_record(record):  # find and name what is wrong
                _require(record, "index", int, name, line)
                _require(record, "domain1", str, name, line)
                _require(record, "domain2", str, name, line)
                _require(record, "query", str, name, line, nonempty=True)
            index, domain1, domain2 = record["index"], record["domain1"], record["domain2"]
            _check_index(index, name, line)
            if "checklist" not in record:
                raise InputError("missing field 'checklist'", path=name, line=line, field="checklist")
            criteria = _fast_criteria(record["checklist"], requirement)
            if criteria is None:
                _check_checklist(record["checklist"], name, line, requirement)
                criteria = [_criterion_values(c) for c in record["checklist"]]
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
            criteria_of[index] = criteria

        # 2. compare with what the database already holds
        existing = query_records(session=session, indexes=list(new))
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

        # 3. write everything in bulk
        conn = session.connection()
        _write_queries(conn, known, to_insert, sets_for_existing, criteria_of, name, requirement)
        report.inserted = len(to_insert) + (len(sets_for_existing) if requirement else 0)
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
    with gc_paused():
        return _import_responses(session=session, path=path, model=model)


def _import_responses(*, session: Session, path: str | Path, model: str | None = None) -> ImportReport:
    name = str(path)
    records = read_jsonl(path, what="responses")
    report = ImportReport(path=name, kind="responses", records=len(records))
    if model is not None and not model.strip():
        raise InputError("the model name must not be empty", path=name, field="model")
    if model is not None and len(model) > MODEL_NAME_MAX:
        raise InputError(f"a model name has at most {MODEL_NAME_MAX} characters", path=name, field="model")
    with transaction(session):
        seen: dict[tuple[int, str], tuple[int, str, dict]] = {}
        for line, record in records:
            index = _require(record, "index", int, name, line)
            _check_index(index, name, line)
            text = _require(record, "response", str, name, line)
            if "model" in record:
                rec_model = _require(record, "model", str, name, line, nonempty=True)
                if len(rec_model) > MODEL_NAME_MAX:
                    raise InputError(f"a model name has at most {MODEL_NAME_MAX} characters, "
                                     f"found {len(rec_model)}", path=name, line=line, field="model")
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
        for chunk in chunked(indexes):
            # a stored query's key is never NULL (SQLModel types it int | None for unsaved rows)
            query_ids.update(cast(Sequence[tuple[int, int]], session.exec(select(Query.index, Query.id).where(
                col(Query.index).in_(chunk))).all()))
        for (index, _m), (line, _t, _e) in seen.items():
            if index not in query_ids:
                raise InputError(f"no query with index {index} in the database (import the queries first)",
                                 path=name, line=line, field="index")

        models = {m.name: id_of(m) for m in session.exec(select(LLMModel)).all()}
        missing = sorted({m for _i, m in seen} - set(models))
        conn = session.connection()
        if missing:
            result = conn.execute(insert(LLMModel).returning(col(LLMModel.id), col(LLMModel.name)),
                                  [{"name": m} for m in missing])
            models.update({n: cast(int, i) for i, n in result})  # RETURNING gives the new keys
            report.models_created = missing
        existing: dict[tuple[int, int], tuple[str, dict]] = {}
        qids = list(query_ids.values())
        for chunk in chunked(qids):
            for row in session.exec(select(Response).where(
                    col(Response.query_id).in_(chunk))):
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
    log.info("imported %s: %s", name, report.summary())
    return report
