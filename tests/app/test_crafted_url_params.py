"""Crafted address parameters end in a plain message, never a traceback.

``?q=²`` (a digit to ``str.isdigit`` that ``int`` refuses), ``?q=`` with 5,000 digits (over
Python's conversion limit) and ``?assignment=99999999999999999999`` (beyond the database's
integers) must not raise on the page, and a bad ``?q=`` is dropped from the address so its
warning is shown once.
"""

from __future__ import annotations

import pytest

from tests.app.test_refine_pages import seeded, text_of  # noqa: F401 - the fixture is used by name
from tests.fixtures.apptest import page
from tests.fixtures.pairwise_seed import seed_accounts, seed_content, seed_study

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.mark.parametrize("raw", ["²", "9" * 5000, "-1", "1e3"])
def test_adapt_query_with_a_crafted_q_warns_once_and_drops_it(seeded, raw: str) -> None:  # noqa: F811
    at = page(seeded["exp1"], "refine/adapt_query.py", {"q": raw})  # fails on an exception
    assert "The address names no query" in text_of(at)
    assert at.query_params.get("q") != raw  # replaced by the query shown (the picker writes it back)
    at.run()
    assert not at.exception and "The address names no query" not in text_of(at)


@pytest.fixture()
def pairs(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = seed_accounts(engine)
    seed_study(engine)
    return ids


@pytest.mark.parametrize("raw", ["99999999999999999999", "²", "9" * 5000])
def test_judge_pairs_with_a_crafted_assignment_is_a_plain_message(pairs, raw: str) -> None:
    at = page(pairs["ann1"], "annotate/judge_pairs.py", {"assignment": raw})  # fails on an exception
    assert not at.exception
    assert "assignment" not in at.query_params
