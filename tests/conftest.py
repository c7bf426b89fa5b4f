"""Shared pytest fixtures: the WritingBench data (``$WRITINGBENCH_DATA``) and fresh databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from metaeval.data_location import ENV as WRITINGBENCH_DATA_ENV
from metaeval.data_location import writingbench_data_dir

REPO_ROOT = Path(__file__).resolve().parent.parent

# Scripted clicks come a few milliseconds after a pair appears, which the judging page's
# minimum-dwell guard (annotate/ui/annotate/task_state.py) would refuse as a slow double click. The
# guard is off for the suite (app servers started by tests inherit this) and switched on
# by the tests that check it.
os.environ.setdefault("ANNOTATE_MIN_DWELL_S", "0")
#: WritingBench's real files: $WRITINGBENCH_DATA, default ../shared/data/writingbench beside the checkout.
SHARED_DATA = writingbench_data_dir(REPO_ROOT)


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder with WritingBench's real files.

    Under CI (``CI=true``) a missing folder is a failure; elsewhere the test is skipped
    with a message saying where the data was looked for.
    """
    if (SHARED_DATA / "benchmark_all.jsonl").is_file():
        return SHARED_DATA
    message = (f"WritingBench data not found at {SHARED_DATA} (set {WRITINGBENCH_DATA_ENV} to the folder "
               "holding benchmark_all.jsonl)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (required in CI)")
    pytest.skip(message)


@pytest.fixture()
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id with small cost settings, so tests that hash passwords stay fast.

    A module opts in with ``pytestmark = pytest.mark.usefixtures("cheap_hashing")``.
    """
    from argon2 import PasswordHasher

    from annotate.services.accounts import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a module's database tests on each backend it lists in ``DB_BACKENDS``.

    A test module opts in with ``DB_BACKENDS = ("sqlite", "postgres")``; its tests that use
    ``db_url`` or ``engine`` then run once per backend (ids ``[sqlite]``, ``[postgres]``;
    the PostgreSQL ones carry the ``postgres`` marker and use :func:`pg_url`). Modules
    without it keep running on SQLite only.
    """
    backends = getattr(metafunc.module, "DB_BACKENDS", None)
    if not backends or "db_backend" not in metafunc.fixturenames:
        return
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"{metafunc.module.__name__}: unknown DB_BACKENDS {sorted(unknown)}")
    params = [pytest.param(b, id=b, marks=[pytest.mark.postgres] if b == "postgres" else [])
              for b in backends]
    metafunc.parametrize("db_backend", params, indirect=True)


@pytest.fixture()
def db_backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` (default) or ``"postgres"`` when the module opted in (see above)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture()
def db_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of a fresh database (not yet migrated): a SQLite file, or a new PostgreSQL
    database when the test runs on the ``postgres`` backend."""
    if db_backend == "postgres":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture()
def engine(db_url: str):
    """A migrated engine on a fresh SQLite file."""
    from annotate.db.engine import init_db

    eng = init_db(db_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def pg_url():
    """URL of a fresh, empty PostgreSQL database, dropped after the test.

    The server comes from ``ANNOTATE_TEST_PG_URL`` (``.ci/run`` starts one with
    ``scripts/start_postgres.sh``). Without it the test is skipped, except under CI where
    it fails: the PostgreSQL suite must run there.
    """
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("ANNOTATE_TEST_PG_URL")
    if not base:
        message = "ANNOTATE_TEST_PG_URL not set (start a server with scripts/start_postgres.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    # A test that failed on purpose may leave a connection behind; FORCE ends it. If the
    # server refuses (privileges), the throw-away database is left for the next cluster reset.
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception as exc:  # noqa: BLE001 - cleanup must not fail the test
        import warnings

        warnings.warn(f"could not drop test database {name}: {exc}", stacklevel=1)
    admin.dispose()
