"""The demo built by ``annotate demo --no-serve`` opens every page for every demo account.

CI runs this file in a fresh virtual environment holding only ``pip install .`` (plus pytest),
from a copy of ``tests/`` outside the checkout, so the app imports the installed package: a
module that the app needs but the core install lacks fails here (see ``make core-install``).
It passes in the development environment too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

import annotate
from annotate.db.engine import make_engine, session_scope
from annotate.db.models import User
from annotate.navigation import PAGES
from tests.fixtures.apptest import html_text, page

pytestmark = pytest.mark.slow
PAGE_DIR = Path(annotate.__file__).resolve().parent / "app_pages"


def _annotate_command() -> list[str]:
    """The installed ``annotate`` script of this interpreter's environment, else ``-m``."""
    script = Path(sys.executable).with_name("annotate")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "annotate.commands.cli"]


@pytest.fixture(scope="module")
def demo_users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str]]]:
    """Build the demo database with the CLI; username -> (user id, role)."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    env = dict(os.environ, ANNOTATE_DEMO_PASSWORD="core-install-password")
    done = subprocess.run([*_annotate_command(), "--db", url, "demo", "--no-serve"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    engine = make_engine(url)
    with session_scope(engine) as session:
        found = {u.username: (u.id, u.role) for u in session.exec(select(User))}
    engine.dispose()
    before = os.environ.get("ANNOTATE_DB_URL")
    os.environ["ANNOTATE_DB_URL"] = url  # read by the app's engine in every AppTest run below
    yield found
    if before is None:
        os.environ.pop("ANNOTATE_DB_URL", None)
    else:
        os.environ["ANNOTATE_DB_URL"] = before


@pytest.mark.parametrize("username", ["annotator1", "expert1", "researcher1", "admin1"])
def test_every_page_of_the_role_opens(demo_users, username):
    user_id, role = demo_users[username]
    specs = [spec for spec in PAGES if role in spec.roles]
    assert specs, role
    for spec in specs:
        assert (PAGE_DIR / spec.file).is_file(), spec.file
        at = page(user_id, spec.file)  # fails on an exception in the page
        assert not at.exception, (username, spec.file, at.exception)


def test_annotator_sees_a_rendered_pair(demo_users):
    # The pair's panes go through the safe Markdown renderer (markdown-it-py).
    user_id, _ = demo_users["annotator1"]
    at = page(user_id, "annotate/judge_pairs.py")
    text = html_text(at)
    assert "Response A" in text or "Response" in text, text[:500]
