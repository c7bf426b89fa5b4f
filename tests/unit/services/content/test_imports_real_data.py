"""Import of WritingBench's real files (../shared): lossless round trip, idempotent re-import,
the requirement subsets. The 1,000-query import runs once for the module."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import func, select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import CriteriaSet, Criterion, InstructionVersion, Query, Subdomain
from annotate.services.content.exports import export_queries
from annotate.services.content.imports import import_queries
from annotate.services.core.errors import InputError
from tests.fixtures.writingbench_samples import db_snapshot

pytestmark = pytest.mark.shared


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def data_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("shared_data_dir")


@pytest.fixture(scope="module")
def imported(data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A database holding the 1,000-query file, with the import report."""
    engine = init_db(f"sqlite:///{tmp_path_factory.mktemp('wb') / 'all.db'}")
    with session_scope(engine) as session:
        report = import_queries(session=session, path=data_dir / "benchmark_all.jsonl")
    yield engine, report
    engine.dispose()


def test_real_file_creates_queries_versions_and_checklists(imported, data_dir: Path) -> None:
    engine, report = imported
    source = _records(data_dir / "benchmark_all.jsonl")
    assert (report.records, report.inserted, report.unchanged) == (len(source), len(source), 0) == (1000, 1000, 0)
    with session_scope(engine) as session:
        def count(model) -> int:
            return session.exec(select(func.count()).select_from(model)).one()

        assert count(Query) == 1000
        assert count(InstructionVersion) == 1000
        assert count(CriteriaSet) == 1000
        assert count(Criterion) == 5000
        # WritingBench paper, section 3: 443 Chinese and 557 English queries.
        langs = Counter(session.exec(select(Query.lang)).all())
        assert langs == {"zh": 443, "en": 557}
        used = session.exec(select(func.count(func.distinct(Query.subdomain_id)))).one()
        assert used == 100 == count(Subdomain)
        first = session.exec(select(Query).where(Query.index == source[0]["index"])).one()
        assert first.original_text == source[0]["query"]
        version = session.exec(select(InstructionVersion).where(InstructionVersion.query_id == first.id)).one()
        assert (version.version_no, version.status, version.text) == (1, "approved", source[0]["query"])
        cset = session.exec(select(CriteriaSet).where(CriteriaSet.query_id == first.id)).one()
        assert (cset.method, cset.source) == ("dynamic", "checklist")
        names = session.exec(select(Criterion.name).where(Criterion.criteria_set_id == cset.id)
                             .order_by(Criterion.position)).all()
        assert names == [c["name"] for c in source[0]["checklist"]]


def test_export_then_reimport_loses_nothing(imported, data_dir: Path, tmp_path: Path) -> None:
    engine, _ = imported
    original = data_dir / "benchmark_all.jsonl"
    out = tmp_path / "exported.jsonl"
    with session_scope(engine) as session:
        assert export_queries(session=session, path=out) == 1000
    assert _records(out) == _records(original)
    # WritingBench writes json.dumps(ensure_ascii=False) lines: the export matches byte for byte.
    assert out.read_bytes() == original.read_bytes()

    second = init_db(f"sqlite:///{tmp_path / 'second.db'}")
    try:
        with session_scope(second) as session:
            report = import_queries(session=session, path=out)
            assert report.inserted == 1000
            again = tmp_path / "again.jsonl"
            export_queries(session=session, path=again)
        assert _records(again) == _records(original)
    finally:
        second.dispose()


def test_reimport_of_the_same_file_changes_nothing(imported, data_dir: Path) -> None:
    engine, _ = imported
    before = db_snapshot(engine)
    with session_scope(engine) as session:
        report = import_queries(session=session, path=data_dir / "benchmark_all.jsonl")
    assert (report.inserted, report.unchanged) == (0, 1000)
    assert db_snapshot(engine) == before


def test_length_subset_is_part_of_the_full_file(imported, data_dir: Path, tmp_path: Path) -> None:
    engine, _ = imported
    subset = data_dir / "length_subset.jsonl"
    before = db_snapshot(engine)
    with session_scope(engine) as session:
        report = import_queries(session=session, path=subset)
    assert (report.inserted, report.unchanged) == (0, 222)
    assert db_snapshot(engine) == before

    fresh = init_db(f"sqlite:///{tmp_path / 'subset.db'}")
    try:
        with session_scope(fresh) as session:
            assert import_queries(session=session, path=subset).inserted == 222
            export_queries(session=session, path=tmp_path / "subset_out.jsonl")
        assert _records(tmp_path / "subset_out.jsonl") == _records(subset)
    finally:
        fresh.dispose()


def test_requirement_checklists_import_as_their_own_sets(imported, data_dir: Path, tmp_path: Path) -> None:
    engine, _ = imported
    subset_c = data_dir / "length_subset_C.jsonl"
    before = db_snapshot(engine)
    with session_scope(engine) as session, pytest.raises(InputError) as info:
        import_queries(session=session, path=subset_c)  # 1-2 criteria: not a main checklist
    assert f"{subset_c}, line 1, field checklist" in str(info.value)
    assert "--requirement" in str(info.value)
    assert db_snapshot(engine) == before

    with session_scope(engine) as session:
        report = import_queries(session=session, path=subset_c, requirement="length")
        assert report.inserted == 222
        export_queries(session=session, path=tmp_path / "c_out.jsonl", requirement="length")
        export_queries(session=session, path=tmp_path / "main_out.jsonl")
    assert _records(tmp_path / "c_out.jsonl") == _records(subset_c)
    # the main checklists are untouched by the requirement import
    assert _records(tmp_path / "main_out.jsonl") == _records(data_dir / "benchmark_all.jsonl")
    after_first = db_snapshot(engine)
    with session_scope(engine) as session:
        assert import_queries(session=session, path=subset_c, requirement="length").unchanged == 222
    assert db_snapshot(engine) == after_first
