"""Fixtures of the expert-refinement tests: one migrated database per module, copied for each test.

A module's queries come from the ``bench_file`` fixture: the demo's 15 queries unless the module
defines its own (the real WritingBench file, or both as parameters).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.unit.services.refine.refine_helpers import DEMO_QUERIES, build_template, copy_database


@pytest.fixture(scope="module")
def bench_file() -> Path:
    """The query file the module's database holds (a module may override it)."""
    return DEMO_QUERIES


@pytest.fixture(scope="module")
def template(bench_file: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with ``bench_file``'s queries and the four test accounts, built once a module."""
    return build_template(tmp_path_factory.mktemp(f"{request.module.__name__.rsplit('.', 1)[-1]}_tpl"), bench_file)


@pytest.fixture()
def session(template: Path, tmp_path: Path) -> Iterator[Session]:
    """A session on a fresh copy of the module's template database."""
    engine = copy_database(template, tmp_path)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()
