"""Response files: per-model files with --model, files with a "model" field, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import LLMModel, Query, Response
from annotate.services.content.imports import import_queries, import_responses
from annotate.services.core.errors import InputError
from tests.fixtures.writingbench_samples import db_snapshot, sample_records, write_jsonl


@pytest.fixture()
def engine(tmp_path: Path):
    eng = init_db(f"sqlite:///{tmp_path / 'resp.db'}")
    with session_scope(eng) as session:
        import_queries(session=session, path=write_jsonl(tmp_path / "queries.jsonl", sample_records()))
    yield eng
    eng.dispose()


def _stored(engine) -> dict[tuple[int, str], tuple[str, dict]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Query.index, LLMModel.name, Response.text, Response.extra)
                            .join(Response, Response.query_id == Query.id)
                            .join(LLMModel, LLMModel.id == Response.model_id)).all()
    return {(i, m): (t, e) for i, m, t, e in rows}


def test_per_model_file_with_model_named_by_the_caller(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"index": 900101, "response": "An abstract."},
        {"index": 900102, "response": "秋天的校园……", "tokens": 812, "finish": "stop"},
    ])
    with session_scope(engine) as session:
        report = import_responses(session=session, path=path, model="model-x")
    assert (report.inserted, report.unchanged, report.models_created) == (2, 0, ["model-x"])
    assert _stored(engine) == {(900101, "model-x"): ("An abstract.", {}),
                               (900102, "model-x"): ("秋天的校园……", {"tokens": 812, "finish": "stop"})}
    before = db_snapshot(engine)
    with session_scope(engine) as session:
        again = import_responses(session=session, path=path, model="model-x")
    assert (again.inserted, again.unchanged, again.models_created) == (0, 2, [])
    assert db_snapshot(engine) == before


def test_file_with_model_field_creates_models_as_needed(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"index": 900101, "model": "b-model", "response": "B's abstract."},
        {"index": 900101, "model": "a-model", "response": "A's abstract."},
        {"index": 900103, "model": "a-model", "response": "A lesson plan."},
    ])
    with session_scope(engine) as session:
        report = import_responses(session=session, path=path)
    assert report.inserted == 3
    assert report.models_created == ["a-model", "b-model"]
    assert set(_stored(engine)) == {(900101, "a-model"), (900101, "b-model"), (900103, "a-model")}


def _expect_error(engine, path: Path, line: int | None, field: str, word: str, model: str | None = None) -> None:
    before = db_snapshot(engine)
    with session_scope(engine) as session, pytest.raises(InputError) as info:
        import_responses(session=session, path=path, model=model)
    where = f"{path}, line {line}, field {field}: " if line else f"{path}, field {field}: "
    assert str(info.value).startswith(where), str(info.value)
    assert word in str(info.value)
    assert db_snapshot(engine) == before


def test_response_for_an_unknown_query(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"index": 900101, "response": "ok"},
                                              {"index": 42, "response": "orphan"}])
    _expect_error(engine, path, 2, "index", "no query with index 42", model="m")


def test_missing_model(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"index": 900101, "response": "ok"}])
    _expect_error(engine, path, 1, "model", "--model")


def test_model_field_that_contradicts_the_caller(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"index": 900101, "model": "other", "response": "ok"}])
    _expect_error(engine, path, 1, "model", "'other'", model="mine")


@pytest.mark.parametrize(("rec", "field"), [
    ({"index": 900101}, "response"), ({"response": "x"}, "index"),
    ({"index": 900101, "response": ["x"]}, "response"), ({"index": 1.5, "response": "x"}, "index"),
])
def test_missing_or_wrong_fields(engine, tmp_path: Path, rec: dict, field: str) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [rec])
    _expect_error(engine, path, 1, field, "", model="m")


def test_duplicate_response_with_different_text_in_the_file_and_vs_the_database(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"index": 900101, "response": "one"},
                                              {"index": 900101, "response": "two"}])
    _expect_error(engine, path, 2, "response", "line 1", model="m")
    with session_scope(engine) as session:
        import_responses(session=session, path=write_jsonl(tmp_path / "ok.jsonl", [
            {"index": 900101, "response": "one"}]), model="m")
    changed = write_jsonl(tmp_path / "changed.jsonl", [{"index": 900102, "response": "new"},
                                                       {"index": 900101, "response": "edited"}])
    _expect_error(engine, changed, 2, "response", "already holds a different response", model="m")


def test_empty_response_file(engine, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("", encoding="utf-8")
    _expect_error(engine, path, 1, "(none)", "empty", model="m")


def test_unicode_error_in_response_file(engine, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"index": 900101, "response": "ok"}\n{"index": 900102, "response": "caf\xe9"}\n')
    _expect_error(engine, path, 2, "response", "UTF-8", model="m")
