"""Bad query files: every error names the file, the line and the field, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotate.db.engine import init_db, session_scope
from annotate.services.content.exports import export_queries
from annotate.services.content.imports import import_queries
from annotate.services.core.errors import InputError
from tests.fixtures.writingbench_samples import db_snapshot, record, sample_records, write_jsonl


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    """A database that already holds the three sample queries."""
    folder = tmp_path_factory.mktemp("bad")
    eng = init_db(f"sqlite:///{folder / 'bad.db'}")
    with session_scope(eng) as session:
        import_queries(session=session, path=write_jsonl(folder / "base.jsonl", sample_records()))
    yield eng
    eng.dispose()


def _good(index: int = 900201) -> dict:
    return record(index, "Finance & Business", "Contract", "Draft a one-page rental contract for a studio.")


def _expect_error(engine, path: Path, line: int, field: str, *words: str) -> InputError:
    before = db_snapshot(engine)
    with session_scope(engine) as session, pytest.raises(InputError) as info:
        import_queries(session=session, path=path)
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}, field {field}: "), message
    for word in words:
        assert word in message, message
    assert (info.value.path, info.value.line, info.value.field) == (str(path), line, field)
    assert db_snapshot(engine) == before, "a failed import changed the database"
    return info.value


def _lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_invalid_json_names_the_field_being_read(engine, tmp_path: Path) -> None:
    broken = json.dumps(_good(900202), ensure_ascii=False)[:-40]  # cut inside the checklist
    path = _lines(tmp_path / "q.jsonl", json.dumps(_good()), broken)
    _expect_error(engine, path, 2, "checklist[4].9-10", "invalid JSON")


def test_missing_field(engine, tmp_path: Path) -> None:
    rec = _good()
    del rec["domain2"]
    path = write_jsonl(tmp_path / "q.jsonl", [_good(900203), rec])
    _expect_error(engine, path, 2, "domain2", "missing field")


@pytest.mark.parametrize(("key", "value", "found"), [
    ("index", "17", "string"), ("index", True, "boolean"), ("query", 5, "integer"),
    ("domain1", None, "null"), ("checklist", "five", "string"),
])
def test_wrong_type(engine, tmp_path: Path, key: str, value, found: str) -> None:
    rec = _good()
    rec[key] = value
    path = write_jsonl(tmp_path / "q.jsonl", [rec])
    _expect_error(engine, path, 1, key, found)


def test_unknown_subdomain_suggests_close_names(engine, tmp_path: Path) -> None:
    rec = record(900204, "Finance & Business", "Contracts", "Draft a contract.")
    path = write_jsonl(tmp_path / "q.jsonl", [_good(), rec])
    _expect_error(engine, path, 2, "domain2", "unknown subdomain 'Contracts'", "did you mean 'Contract'")


def test_unknown_domain_suggests_close_names(engine, tmp_path: Path) -> None:
    rec = record(900205, "Finance and Business", "Contract", "Draft a contract.")
    path = write_jsonl(tmp_path / "q.jsonl", [rec])
    _expect_error(engine, path, 1, "domain1", "unknown domain", "'Finance & Business'")


def test_duplicate_index_with_different_content_in_the_file(engine, tmp_path: Path) -> None:
    first, second = _good(900206), _good(900206)
    second["query"] += " Add a deposit clause."
    path = write_jsonl(tmp_path / "q.jsonl", [first, _good(900207), second])
    _expect_error(engine, path, 3, "index", "line 1", "'query' differs")


def test_identical_duplicate_in_the_file_is_accepted(engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [sample_records()[0], sample_records()[0]])
    before = db_snapshot(engine)
    with session_scope(engine) as session:
        report = import_queries(session=session, path=path)
    assert (report.inserted, report.unchanged) == (0, 2)
    assert db_snapshot(engine) == before


def test_duplicate_index_with_different_content_than_the_database(engine, tmp_path: Path) -> None:
    changed = sample_records()[2]
    changed["tags"] = ["math"]  # an extra field differs from the stored query 900103
    path = write_jsonl(tmp_path / "q.jsonl", [_good(), changed])
    _expect_error(engine, path, 2, "index", "already in the database", "'tags' differs")


@pytest.mark.parametrize(("mutate", "field", "words"), [
    (lambda c: c.pop(), "checklist", ("exactly 5", "found 4")),
    (lambda c: c.append(dict(c[0], name="sixth")), "checklist", ("exactly 5", "found 6")),
    (lambda c: c[2].pop("5-6"), "checklist[2].5-6", ("misses '5-6'",)),
    (lambda c: c[1].update({"criteria_description": 3}), "checklist[1].criteria_description", ("string",)),
    (lambda c: c.__setitem__(4, "be concise"), "checklist[4]", ("criterion object",)),
    (lambda c: c[0].update({"name": "  "}), "checklist[0].name", ("empty",)),
    (lambda c: c[3].update({"name": c[0]["name"]}), "checklist", ("two criteria",)),
])
def test_checklist_that_is_not_five_well_formed_criteria(engine, tmp_path: Path, mutate, field, words) -> None:
    rec = _good()
    mutate(rec["checklist"])
    path = write_jsonl(tmp_path / "q.jsonl", [_good(900208), rec])
    _expect_error(engine, path, 2, field, *words)


def test_empty_file(engine, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"\xef\xbb\xbf\n  \n")
    _expect_error(engine, path, 1, "(none)", "empty")


def test_bytes_that_are_not_utf8_name_the_line_and_field(engine, tmp_path: Path) -> None:
    good = json.dumps(_good(), ensure_ascii=False).encode("utf-8")
    bad = json.dumps(_good(900209), ensure_ascii=False).replace("one-page", "one-\udcffpage")
    raw_bad = bad.encode("utf-8", "surrogateescape")  # a lone 0xFF byte inside "query"
    path = tmp_path / "latin.jsonl"
    path.write_bytes(good + b"\n" + raw_bad + b"\n")
    _expect_error(engine, path, 2, "query", "not valid UTF-8", "0xff")


def test_not_an_object(engine, tmp_path: Path) -> None:
    path = _lines(tmp_path / "q.jsonl", json.dumps(_good()), "[1, 2]")
    _expect_error(engine, path, 2, "(record)", "JSON object")


def test_bom_and_a_ten_megabyte_field_are_accepted(engine, tmp_path: Path) -> None:
    big = "长文本 long text. " * (10 * 1024 * 1024 // 20 + 1)
    assert len(big.encode("utf-8")) > 10 * 1024 * 1024
    rec = record(900210, "Literature & Arts", "Novel Outline", "请根据以下材料写小说大纲：" + big)
    path = write_jsonl(tmp_path / "big.jsonl", [rec], bom=True)
    with session_scope(engine) as session:
        report = import_queries(session=session, path=path)
        assert report.inserted == 1
        export_queries(session=session, path=tmp_path / "out.jsonl")
    exported = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert exported[-1] == rec
