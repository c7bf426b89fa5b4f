"""Property: a mutated real WritingBench line is imported (exit 0) or refused with one located
line (exit 2); never a traceback, and a refused import leaves every table as it was.

Mutations: truncation at any byte, flipped bytes, and a value swapped for one of another type
(including NaN, 1e400, 10**30, deep nesting, NUL and lone-surrogate strings) at any field path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from annotate.commands.cli import main
from annotate.db.engine import init_db
from tests.fixtures.writingbench_samples import db_snapshot

pytestmark = pytest.mark.shared

LINES_USED = 40
DEEP = "[" * 100_000 + "]" * 100_000
SWAPS: list[str] = ['"text"', "17", "-3.5", "true", "null", "[]", "{}", "NaN", "Infinity", "1e400",
                    str(10**30), str(2**40), '"\\u0000"', '"\\ud800"', "[" * 200 + "]" * 200, DEEP, '""', '"  "',
                    '[{"name": 1}]', '{"a": 1, "a": 2}']


@pytest.fixture(scope="module")
def real_lines(shared_data_dir: Path) -> list[bytes]:
    with open(shared_data_dir / "benchmark_all.jsonl", "rb") as handle:
        return [next(handle).rstrip(b"\n") for _ in range(LINES_USED)]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    assert main(["--db", url, "init"]) == 0  # the taxonomy, as a user's database holds it
    return url


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a parsed record (keys and list positions)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


_MARK = "\x01SWAP\x01"


def _swap(line: bytes, pick: int, replacement: str, *, top: bool = False) -> bytes:
    """``line`` with the value at path number ``pick`` (of the top-level ones if ``top``) replaced."""
    record = json.loads(line)
    paths = [p for p in _paths(record) if len(p) == 1 or not top]
    target = paths[pick % len(paths)]
    holder = record
    for step in target[:-1]:
        holder = holder[step]
    holder[target[-1]] = _MARK
    text = json.dumps(record, ensure_ascii=False)
    return text.replace(json.dumps(_MARK), replacement, 1).encode("utf-8")


@st.composite
def mutated_file(draw: st.DrawFn, lines: list[bytes]) -> bytes:
    chosen = draw(st.lists(st.integers(0, len(lines) - 1), min_size=1, max_size=3))
    out = [lines[i] for i in chosen]
    victim = draw(st.integers(0, len(out) - 1))
    line = out[victim]
    kind = draw(st.sampled_from(["truncate", "flip", "swap"]))
    if kind == "truncate":
        line = line[: draw(st.integers(0, len(line) - 1))]
    elif kind == "flip":
        data = bytearray(line)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        line = bytes(data)
    else:
        line = _swap(line, draw(st.integers(0, 10_000)), draw(st.sampled_from(SWAPS)), top=draw(st.booleans()))
    out[victim] = line
    return b"\n".join(out) + b"\n"


@pytest.fixture(scope="module")
def strategy(real_lines: list[bytes]) -> st.SearchStrategy[bytes]:
    return mutated_file(real_lines)


def test_mutated_real_lines_exit_0_or_2_and_refusals_write_nothing(
        db: str, strategy: st.SearchStrategy[bytes], real_lines: list[bytes], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    engine = init_db(db)
    path = tmp_path / "mutated.jsonl"

    # Beside the random examples, three that break a naive reader (line 1 of the real file):
    # an index of 10**30, a lone surrogate in the query, and 100000 nested arrays.
    first = real_lines[0]
    known = [_swap(first, 0, str(10**30), top=True), _swap(first, 3, '"\\ud800"', top=True),
             _swap(first, 3, DEEP, top=True)]
    assert [json.loads(first).get(k) is not None for k in ("index", "query")] == [True, True]

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=strategy)
    @example(data=known[0] + b"\n")
    @example(data=known[1] + b"\n")
    @example(data=known[2] + b"\n")
    def check(data: bytes) -> None:
        path.write_bytes(data)
        before = db_snapshot(engine)
        capsys.readouterr()
        status = main(["--db", db, "import", "queries", str(path)])  # an exception here is the traceback
        err = capsys.readouterr().err
        assert status in (0, 2), (status, err)
        if status == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"annotate: error: {path}"), err
            assert db_snapshot(engine) == before, f"a refused import changed the database: {err}"

    try:
        check()
    finally:
        engine.dispose()
