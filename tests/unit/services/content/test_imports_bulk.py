"""The bulk (driver-level executemany) query import on SQLite and PostgreSQL: every stored
value equals the source record, extra fields survive, dates are the ORM's, a bad line late
in the file leaves nothing behind, and a requirement checklist is added to existing queries.

Expected values come from the fixture file read here with ``json`` (not from the importer).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from annotate.db.engine import session_scope
from annotate.db.models import CriteriaSet, Criterion, InstructionVersion, Query
from annotate.services.content.imports import import_queries
from annotate.services.core.errors import InputError

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)
DEMO = Path(__file__).resolve().parents[4] / "annotate" / "data" / "demo" / "queries.jsonl"


def _demo_records() -> list[dict]:
    return [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_bulk_import_stores_every_field_exactly(engine, tmp_path: Path) -> None:
    records = _demo_records()[:4]
    # An extra top-level field, an extra criterion key, and a non-ASCII text.
    records[0] = {**records[0], "source_note": {"from": "hand-made", "n": 3}}
    records[1]["checklist"][2] = {**records[1]["checklist"][2], "weight": 2}
    records[2] = {**records[2], "query": "请根据以下材料写一篇关于城市供水管网漏损检测的项目摘要，不超过两百五十字。"}
    path = _write(tmp_path / "q.jsonl", records)
    before = datetime.now(UTC)
    with session_scope(engine) as session:
        report = import_queries(session=session, path=path)
    assert (report.records, report.inserted, report.unchanged) == (4, 4, 0)
    with session_scope(engine) as session:
        assert (_count(session, Query), _count(session, InstructionVersion), _count(session, CriteriaSet),
                _count(session, Criterion)) == (4, 4, 4, 20)
        for record in records:
            query = session.exec(select(Query).where(Query.index == record["index"])).one()
            assert query.original_text == record["query"]
            assert query.extra == {k: v for k, v in record.items()
                                   if k not in ("index", "domain1", "domain2", "query", "checklist")}
            assert query.source == "q.jsonl" and query.needs_materials is False and query.content_revision == 1
            # the clock read during the import, stored so that it reads back as an aware UTC time
            assert before - timedelta(seconds=1) <= query.created_at <= datetime.now(UTC)
            version = session.exec(select(InstructionVersion).where(InstructionVersion.query_id == query.id)).one()
            assert (version.version_no, version.status, version.text) == (1, "approved", record["query"])
            assert version.reviewed_at == version.created_at == query.created_at
            criteria_set = session.exec(select(CriteriaSet).where(CriteriaSet.query_id == query.id)).one()
            assert (criteria_set.method, criteria_set.source) == ("dynamic", "checklist")
            criteria = session.exec(select(Criterion).where(Criterion.criteria_set_id == criteria_set.id)
                                    .order_by(Criterion.position)).all()
            assert [c.position for c in criteria] == [0, 1, 2, 3, 4]
            for criterion, source in zip(criteria, record["checklist"], strict=True):
                assert (criterion.name, criterion.description, criterion.band_1_2, criterion.band_3_4,
                        criterion.band_5_6, criterion.band_7_8, criterion.band_9_10) == (
                    source["name"], source["criteria_description"], source["1-2"], source["3-4"],
                    source["5-6"], source["7-8"], source["9-10"])
                assert criterion.extra == ({"weight": 2} if "weight" in source else {})
        langs = dict(session.exec(select(Query.index, Query.lang)).all())
        # demo 1 opens in English; demos 2 and 4 in Chinese (demo 2 has 7 Latin letters, "logtrim",
        # among 40 CJK characters); the replaced text has only CJK characters and punctuation
        assert [langs[r["index"]] for r in records] == ["en", "zh", "zh", "zh"]


def test_bad_last_line_leaves_nothing_and_requirement_sets_are_added(engine, tmp_path: Path) -> None:
    records = _demo_records()[:3]
    bad = {**records[2], "index": 999999, "checklist": records[2]["checklist"][:4]}  # 4 criteria, not 5
    with session_scope(engine) as session, pytest.raises(InputError) as err:
        import_queries(session=session, path=_write(tmp_path / "bad.jsonl", [*records, bad]))
    assert (err.value.line, err.value.field) == (4, "checklist")
    with session_scope(engine) as session:
        assert _count(session, Query) == _count(session, Criterion) == 0

    with session_scope(engine) as session:
        import_queries(session=session, path=_write(tmp_path / "ok.jsonl", records))
    subset = [{**r, "checklist": r["checklist"][:2]} for r in records]
    with session_scope(engine) as session:
        report = import_queries(session=session, path=_write(tmp_path / "len.jsonl", subset), requirement="length")
    assert (report.inserted, report.unchanged) == (3, 0)
    with session_scope(engine) as session:
        assert _count(session, Query) == 3
        sets = session.exec(select(CriteriaSet).where(CriteriaSet.source == "requirement:length")).all()
        assert len(sets) == 3
        names = session.exec(select(Criterion.name).where(Criterion.criteria_set_id == sets[0].id)
                             .order_by(Criterion.position)).all()
        by_query = {q.id: q.index for q in session.exec(select(Query)).all()}
        source = next(r for r in records if r["index"] == by_query[sets[0].query_id])
        assert names == [c["name"] for c in source["checklist"][:2]]
