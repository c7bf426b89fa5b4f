"""AppTest of *Rate responses* on the shared task flow: a skip is confirmed and the skipped
response comes back from its list; a link opens one of the annotator's own responses."""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment
from tests.fixtures.apptest import button, page, shown
from tests.fixtures.pairwise_seed import seed_accounts, seed_content, seed_study

DB_BACKENDS = ("sqlite",)
FILE = "annotate/rate_responses.py"

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture()
def rated(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = seed_accounts(engine, ("ann1",))
    seed_study(engine, name="points", annotators=("ann1",), overlap=1, kind="pointwise", subdomains=None)
    with session_scope(engine) as s:
        queue = [a.id for a in s.exec(select(Assignment).where(Assignment.annotator_id == ids["ann1"])
                                      .order_by(Assignment.position)).all()]
    return ids, queue


def texts(at) -> str:  # type: ignore[no-untyped-def]
    return shown("\n".join(str(e.value) for e in (*at.subheader, *at.success, *at.warning, *at.info)))


def test_skip_is_confirmed_and_the_response_comes_back_from_the_list(rated):
    ids, queue = rated
    at = page(ids["ann1"], FILE)
    assert "Response 1 of" in texts(at)
    at.button(key=f"rate_skip_{queue[0]}").click().run()
    assert "Response 1 skipped" in texts(at) and "Response 2 of" in texts(at)
    button(at, "Open skipped response").click().run()
    assert "Response 1 of" in texts(at)
    assert at.radio(key=f"rate_score_{queue[0]}") is not None


def test_a_link_opens_that_response(rated):
    ids, queue = rated
    at = page(ids["ann1"], FILE, {"assignment": str(queue[2])})
    assert "Response 3 of" in texts(at)


def test_a_link_to_a_response_that_is_not_theirs_says_so_and_shows_their_next(rated):
    ids, queue = rated
    at = page(ids["ann1"], FILE, {"assignment": "999999"})  # no such task
    warning = " ".join(str(w.value) for w in at.warning)
    assert "That response could not be opened" in warning and "your next response in study points" in warning
    assert "999999. Here is" in shown(warning)  # the reason ends its sentence
    assert "Response 1 of" in texts(at)  # no dead end: the first response of the queue
    assert at.radio(key=f"rate_score_{queue[0]}") is not None
