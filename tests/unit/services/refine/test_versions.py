"""Instruction version 1 is stored by reference to the query's original text (migration 0005).

The import writes NULL in ``instructionversion.text`` for version 1; everything that reads
versions through the ORM must still see the full original text, and a database made
before 0005 (with the copy) upgrades to the reference and downgrades back to the copy.
"""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from annotate.db.engine import alembic_config, current_revisions, head_revisions, make_engine, upgrade
from annotate.db.models import InstructionVersion, Query, instruction_text_expression
from annotate.services.content.content import current_instruction
from annotate.services.content.exports import export_queries
from annotate.services.content.imports import import_queries
from annotate.services.refine.versions import instruction_head, instruction_versions

DB_BACKENDS = ("sqlite", "postgres")

CHECKLIST = [{"name": f"C{i}", "criteria_description": "d", "1-2": "a", "3-4": "b", "5-6": "c",
              "7-8": "e", "9-10": "f"} for i in range(5)]
QUERY = "Write a short note to a neighbour about the shared garden.\n\n第二段：请用中文写。"


def _write(path: Path) -> Path:
    record = {"index": 7, "domain1": "Education", "domain2": "Lesson Plan", "query": QUERY,
              "checklist": CHECKLIST}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_import_stores_version_one_once_and_the_orm_resolves_it(engine, tmp_path: Path) -> None:
    source = _write(tmp_path / "q.jsonl")
    with Session(engine) as session:
        import_queries(session=session, path=source)
    with engine.connect() as conn:
        # The table holds no second copy of the text ...
        assert conn.execute(text("SELECT text FROM instructionversion")).all() == [(None,)]
    with Session(engine) as session:
        query_id = session.exec(select(Query.id)).one()
        # ... but every way of reading the version gives the original text.
        assert current_instruction(session=session, query_id=query_id).text == QUERY
        assert [v.text for v in instruction_versions(session=session, query_id=query_id)] == [QUERY]
        head = instruction_head(session=session, query_id=query_id)
        assert head.text == QUERY
        session.commit()  # expires every loaded object: the refresh must resolve it again
        assert head.text == QUERY
        assert not session.dirty  # resolving is not an edit: nothing to flush back
        assert session.exec(select(instruction_text_expression())).all() == [QUERY]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT text FROM instructionversion")).all() == [(None,)]


def test_export_writes_the_original_text_back(engine, tmp_path: Path) -> None:
    source = _write(tmp_path / "q.jsonl")
    out = tmp_path / "out.jsonl"
    with Session(engine) as session:
        import_queries(session=session, path=source)
        assert export_queries(session=session, path=out) == 1
    assert json.loads(out.read_text(encoding="utf-8"))["query"] == QUERY


def test_a_copy_made_before_0005_becomes_a_reference_and_back(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO domain (name, name_zh, description) VALUES ('D', 'D', 'd')"))
            conn.execute(text("INSERT INTO subdomain (name, name_zh, description, domain_id) "
                              "SELECT 'S', 'S', 's', id FROM domain"))
            conn.execute(text(
                'INSERT INTO "query" ("index", subdomain_id, lang, original_text, extra, source, needs_materials, '
                "material_requirement, content_revision, created_at) SELECT 1, id, 'en', :t, '{}', 'f', false, '', 1, "
                "'2025-01-01 00:00:00' FROM subdomain"), {"t": QUERY})
            for number, body in ((1, QUERY), (2, "An edited instruction.")):
                conn.execute(text(
                    "INSERT INTO instructionversion (query_id, version_no, text, status, reason, review_note, "
                    "created_at) SELECT id, :n, :t, 'approved', '', '', '2025-01-01 00:00:00' FROM \"query\""),
                    {"n": number, "t": body})

        upgrade(engine)
        assert current_revisions(engine) == head_revisions()
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT version_no, text FROM instructionversion ORDER BY version_no")).all()
        assert stored == [(1, None), (2, "An edited instruction.")]  # only the exact copy is dropped
        with Session(engine) as session:
            texts = [v.text for v in session.exec(select(InstructionVersion).order_by(InstructionVersion.version_no))]
        assert texts == [QUERY, "An edited instruction."]

        with engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004")
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT version_no, text FROM instructionversion ORDER BY version_no")).all()
        assert stored == [(1, QUERY), (2, "An edited instruction.")]
    finally:
        engine.dispose()
