"""Export to WritingBench JSONL: field order, extra fields, current text, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import InstructionVersion, MaterialDocument, MaterialSegment, Query
from annotate.services.content.content import current_instruction, render_query_text
from annotate.services.content.exports import export_queries
from annotate.services.content.imports import import_queries
from tests.fixtures.writingbench_samples import criterion, sample_records, write_jsonl


@pytest.fixture()
def engine(tmp_path: Path):
    eng = init_db(f"sqlite:///{tmp_path / 'exp.db'}")
    yield eng
    eng.dispose()


def test_extra_fields_come_back_in_their_order_and_criterion_extras_too(engine, tmp_path: Path) -> None:
    records = sample_records()
    records[0]["checklist"][1] = criterion("weighted", weight=0.4, notes={"k": [1, 2]})
    records[2] = {**records[2], "z_last": None, "a_first_after": 1.25}  # order differs from sorted order
    path = write_jsonl(tmp_path / "q.jsonl", records)
    with session_scope(engine) as session:
        import_queries(session=session, path=path)
        export_queries(session=session, path=tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    exported = [json.loads(line) for line in lines]
    assert exported == records
    assert list(exported[2]) == ["index", "domain1", "domain2", "query", "checklist",
                                 "source_id", "tags", "meta", "z_last", "a_first_after"]
    assert list(exported[0]["checklist"][1])[-2:] == ["weight", "notes"]
    assert (tmp_path / "out.jsonl").read_bytes() == path.read_bytes()


def test_unedited_query_renders_as_its_original_text_and_current_export_uses_edits(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", sample_records())
    with session_scope(engine) as session:
        import_queries(session=session, path=path)
        query = session.exec(select(Query).where(Query.index == 900101)).one()
        assert render_query_text(session=session, query_id=query.id) == query.original_text
        session.add(InstructionVersion(query_id=query.id, version_no=2, base_version_no=1, status="approved",
                                       text="Write a 150-word abstract."))
        session.add(InstructionVersion(query_id=query.id, version_no=3, base_version_no=2, status="pending",
                                       text="not approved yet"))
        doc = MaterialDocument(query_id=query.id, title="notes", origin="collected")
        session.add(doc)
        session.flush()
        session.add_all([MaterialSegment(document_id=doc.id, position=0, text="Sensor data.", separator="\n\n"),
                         MaterialSegment(document_id=doc.id, position=1, text="Field notes.", separator="\n")])
        session.commit()
        assert current_instruction(session=session, query_id=query.id).version_no == 2
        expected = "Write a 150-word abstract.\n\nSensor data.\n\nField notes."
        assert render_query_text(session=session, query_id=query.id) == expected
        export_queries(session=session, path=tmp_path / "current.jsonl", current=True)
        export_queries(session=session, path=tmp_path / "original.jsonl")
    current = [json.loads(x) for x in (tmp_path / "current.jsonl").read_text(encoding="utf-8").splitlines()]
    assert current[0]["query"] == expected
    assert (tmp_path / "original.jsonl").read_bytes() == path.read_bytes()


def test_failed_export_leaves_the_old_file(engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(engine) as session:
        import_queries(session=session, path=write_jsonl(tmp_path / "q.jsonl", sample_records()))
        target = tmp_path / "out.jsonl"
        target.write_text("old\n", encoding="utf-8")

        def boom(*_args, **_kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr("annotate.services.content.exports.json.dumps", boom)
        with pytest.raises(RuntimeError):
            export_queries(session=session, path=target)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")] == []
