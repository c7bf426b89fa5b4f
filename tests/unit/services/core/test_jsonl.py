"""Strict JSON on import: non-standard or out-of-range input gets one located error, exit 2, no write.

Each case is a line a careless tool or an attacker could produce; the expected field is the path of
the value at fault, worked out by hand from the line. The same lines go through metaeval's reader.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.commands.cli import main
from annotate.db.engine import init_db, session_scope
from annotate.services.content.imports import import_queries
from metaeval.io import InputFileError, iter_jsonl
from tests.fixtures.writingbench_samples import db_snapshot, record, sample_records, write_jsonl

REPO = Path(__file__).resolve().parents[4]


def _good_text(index: int = 900301) -> str:
    return json.dumps(record(index, "Finance & Business", "Contract", "Draft a rental contract."),
                      ensure_ascii=False)


def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


GOOD = _good_text()
# (case id, the broken line, the field the error must name, a word of the message)
CASES = [
    ("nan", _with(GOOD, '"index": 900301', '"index": 900301, "score": NaN'), "score", "NaN"),
    ("infinity", _with(GOOD, '"index": 900301', '"index": 900301, "w": -Infinity'), "w", "Infinity"),
    ("float-overflow", _with(GOOD, '"index": 900301', '"index": 900301, "w": 1e400'), "w", "infinity"),
    ("duplicate-key", _with(GOOD, '"domain1"', '"query": "other", "domain1"'), "query", "duplicate key"),
    ("duplicate-in-checklist", _with(GOOD, '"criteria_description"', '"name": "x", "criteria_description"'),
     "checklist[0].name", "duplicate key"),
    ("nul", _with(GOOD, '"Draft a', '"Draft\\u0000 a'), "query", "NUL"),
    ("lone-surrogate", _with(GOOD, '"Draft a', '"Draft\\ud800 a'), "query", "surrogate"),
    ("surrogate-in-key", _with(GOOD, '"index": 900301', '"index": 900301, "k\\udc00": 1'), "k\\udc00",
     "surrogate"),
    ("deep-nesting", _with(GOOD, '"index": 900301', '"index": 900301, "deep": ' + "[" * 100_000 + "]" * 100_000),
     "deep[0][0][0]...", "deeper than 64"),
    ("moderate-nesting", _with(GOOD, '"index": 900301', '"index": 900301, "deep": ' + "[" * 70 + "]" * 70),
     "deep[0][0][0]...", "deeper than 64"),
    ("huge-index", _with(GOOD, '"index": 900301', '"index": ' + str(10**30)), "index", "out of range"),
    ("bigint-index", _with(GOOD, '"index": 900301', '"index": ' + str(2**40)), "index", "out of range"),
    ("huge-extra-int", _with(GOOD, '"index": 900301', '"index": 900301, "n": ' + str(10**30)), "n",
     "out of range"),
    ("int-digit-limit", _with(GOOD, '"index": 900301', '"index": 900301, "n": ' + "9" * 5000), "n",
     "out of range"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("strict")
    url = f"sqlite:///{folder / 'strict.db'}"
    eng = init_db(url)
    with session_scope(eng) as session:
        import_queries(session=session, path=write_jsonl(folder / "base.jsonl", sample_records()))
    eng.dispose()
    return url


@pytest.mark.parametrize(("line", "field", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_refuses_with_a_located_error_and_writes_nothing(db: str, tmp_path: Path, line: str, field: str,
                                                             word: str, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(_good_text(900399) + "\n" + line + "\n", encoding="utf-8")
    eng = init_db(db)
    before = db_snapshot(eng)
    assert main(["--db", db, "import", "queries", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    prefix = f"annotate: error: {path}, line 2, field "
    assert err[0].startswith(prefix), err[0]
    if field.endswith("..."):  # long paths are shortened in the middle
        assert err[0][len(prefix):].startswith(field[:-3]), err[0]
    else:
        assert err[0].startswith(prefix + field + ": "), err[0]
    assert word in err[0], err[0]
    assert db_snapshot(eng) == before, "a refused import changed the database"
    eng.dispose()


@pytest.mark.parametrize(("line", "field"), [c[1:3] for c in CASES if "index" not in c[0]],
                         ids=[c[0] for c in CASES if "index" not in c[0]])
def test_metaeval_reader_is_as_strict(tmp_path: Path, line: str, field: str) -> None:
    path = tmp_path / "v.jsonl"
    path.write_text(_good_text() + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        list(iter_jsonl(path))
    assert info.value.line == 2
    assert info.value.field is not None and info.value.field.startswith(field.removesuffix("..."))


def test_valid_unicode_is_kept(db: str, tmp_path: Path) -> None:
    """A surrogate pair escape is one real character (U+1F600), and U+2028 inside a string is not a line end."""
    line = _with(_good_text(900398), '"Draft a', '"Draft \\ud83d\\ude00 \u2028 a')
    path = tmp_path / "q.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    assert main(["--db", db, "import", "queries", str(path)]) == 0
    assert [o["query"] for _n, o in iter_jsonl(path)] == ["Draft \U0001F600 \u2028 a rental contract."]


def test_real_process_prints_no_traceback(db: str, tmp_path: Path) -> None:
    """Inputs that break a naive reader (deep nesting, 10**30, a lone surrogate), as a real process."""
    for case in ("deep-nesting", "huge-index", "lone-surrogate", "nan"):
        line = next(c[1] for c in CASES if c[0] == case)
        path = tmp_path / f"{case}.jsonl"
        path.write_text(line + "\n", encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "annotate.commands.cli", "--db", db, "import", "queries",
                               str(path)], capture_output=True, text=True, cwd=REPO, timeout=120)
        assert proc.returncode == 2, (case, proc.stderr)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"annotate: error: {path}, line 1, field "), proc.stderr


_PEAK = """
import sys
from annotate.services.core.jsonl import read_jsonl
from annotate.services.core.errors import InputError

def kib(key):  # not ru_maxrss, which keeps the parent's peak over exec
    with open("/proc/self/status") as handle:
        return next(int(l.split()[1]) for l in handle if l.startswith(key + ":"))

base = kib("VmRSS")
try:
    read_jsonl(sys.argv[1])
except InputError as exc:
    print(exc.field, kib("VmHWM") - base)
"""


def test_broken_long_line_error_costs_a_small_multiple_of_the_line(tmp_path: Path) -> None:
    """A 10 MB line cut off inside its text: the error is built in memory of a few times the line
    (the old regex over the line took about 130 times it). Peak RSS (VmHWM, KiB) is read in a fresh process."""
    size = 10 * 2**20
    line = _with(_good_text(), '"Draft a', '"Draft ' + "x\\\"y " * (size // 5) + " a")
    path = tmp_path / "long.jsonl"
    path.write_text(line[: len(line) // 2] + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    field, grew_kib = proc.stdout.split()
    assert field == "query", proc.stdout + proc.stderr
    assert int(grew_kib) * 1024 < 8 * size, f"peak grew by {int(grew_kib) // 1024} MiB for a 10 MiB line"


def test_responses_out_of_range_index_and_long_model_name_are_refused(db: str, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """An index beyond INTEGER (32-bit on PostgreSQL) and a model name beyond LLMModel.name's 200
    characters would fail inside the database; both are located errors before any write."""
    eng = init_db(db)
    before = db_snapshot(eng)
    cases = [({"index": 2**31, "response": "r", "model": "m"}, "index", "out of range"),
             ({"index": 900101, "response": "r", "model": "m" * 201}, "model", "at most 200 characters")]
    for rec, field, word in cases:
        path = write_jsonl(tmp_path / f"r_{field}.jsonl", [{"index": 900101, "response": "ok", "model": "m"}, rec])
        assert main(["--db", db, "import", "responses", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"annotate: error: {path}, line 2, field {field}: ") and word in err, err
    assert db_snapshot(eng) == before
    eng.dispose()
