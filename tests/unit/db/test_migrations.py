"""A database made by the first migration (an older release) upgrades in place to the newest schema."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from annotate.db.engine import current_revisions, head_revisions, make_engine, upgrade

FIRST = "0001"  # annotate/migrations/versions/0001_benchmark_and_people.py


def test_database_at_first_migration_upgrades_to_head_keeping_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, FIRST)
        assert current_revisions(engine) == {FIRST}
        assert FIRST not in head_revisions(), "the test needs at least one later migration"
        tables_at_first = set(inspect(engine).get_table_names())
        assert "study" not in tables_at_first  # added by 0002
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO domain (name, name_zh, description) VALUES ('Education', '教育', 'd')"))
            conn.execute(text("INSERT INTO llmmodel (name) VALUES ('old-model')"))

        upgrade(engine)

        assert current_revisions(engine) == head_revisions()
        tables = set(inspect(engine).get_table_names())
        assert tables > tables_at_first
        assert {"study", "judgment", "judgerun"} <= tables
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, name_zh FROM domain")).all() == [("Education", "教育")]
            assert conn.execute(text("SELECT name FROM llmmodel")).all() == [("old-model",)]
        upgrade(engine)  # upgrading again is a no-op
        assert current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()


def test_every_migration_step_applies_in_order(tmp_path: Path) -> None:
    """Walk the chain one revision at a time (catches a revision that only works from scratch)."""
    from alembic.script import ScriptDirectory

    from annotate.db.engine import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    try:
        script = ScriptDirectory.from_config(alembic_config(engine))
        chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
        assert chain[0] == FIRST
        for revision in chain:
            upgrade(engine, revision)
            assert current_revisions(engine) == {revision}
        assert set(chain[-1:]) == head_revisions()
    finally:
        engine.dispose()
