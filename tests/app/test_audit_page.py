"""Audit page through AppTest: verdict columns first, no row-number box, domain and subdomain
as pick lists of the study's own values that filter the list."""

from __future__ import annotations

import zlib

import pytest

from annotate.db.engine import init_db, session_scope
from annotate.services.accounts import users
from annotate.services.judges.audit import disagreement_table
from tests.fixtures.apptest import page_direct
from tests.fixtures.audit_seed import seed_audit

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('audit_page') / 'audit.db'}"
    engine = init_db(url)
    ids = seed_audit(engine)
    with session_scope(engine) as session:
        table = disagreement_table(session=session, actor=users.get_user_by_username(session=session, username="res"),
                                   study_name="demo-audit")
    yield url, ids, table
    engine.dispose()


def test_verdicts_first_and_domain_pick_lists_filter(seeded, monkeypatch) -> None:
    url, ids, table = seeded
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], "judges/audit.py", timeout=60)
    assert not at.exception, at.exception
    rows = at.dataframe[0].value
    assert list(rows.columns[:3]) == ["human", "verdict", "margin"]
    assert len(rows) == len(table)
    assert not [n for n in at.number_input if n.label == "Open row #"]
    key = zlib.crc32(b"demo-audit")
    domains = at.multiselect(key=f"audit_f_dom_{key}")
    # the options are this study's domains, read from the service's table (not typed names)
    assert domains.options == sorted(set(table["domain"]))
    chosen = domains.options[0]
    domains.set_value([chosen]).run()
    assert not at.exception, at.exception
    filtered = at.dataframe[0].value
    assert len(filtered) == int((table["domain"] == chosen).sum()) and set(filtered["domain"]) == {chosen}
    # the subdomain list narrows to the chosen domain's subdomains
    subdomains = at.multiselect(key=f"audit_f_sub_{key}")
    assert subdomains.options == sorted(set(table.loc[table["domain"] == chosen, "subdomain"]))
    # without a selection the first row is open below the list
    assert f"Query {filtered.iloc[0]['query']}" in at.subheader[0].value
