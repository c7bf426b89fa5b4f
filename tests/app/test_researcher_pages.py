"""Researcher pages (agreement, audit, criteria comparison): every page for every role, and
the audit page's tagging and cause list through AppTest."""

from __future__ import annotations

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from annotate.db.engine import session_scope
from annotate.db.models import AuditTag
from annotate.navigation import may_open
from annotate.services.accounts import users
from annotate.services.core.roles import ROLES
from tests.fixtures.apptest import page_direct, shown
from tests.fixtures.audit_seed import seed_audit

RESEARCHER_PAGES = ("judges/agreement.py", "judges/audit.py", "judges/criteria_comparison.py")
TIMEOUT = 60


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded database for the whole module (seeding takes a few seconds)."""
    from annotate.db.engine import init_db

    path = tmp_path_factory.mktemp("researcher") / "pages.db"
    url = f"sqlite:///{path}"
    engine = init_db(url)
    ids = seed_audit(engine)
    with session_scope(engine) as session:
        for role in ROLES:
            ids[f"role-{role}"] = users.create_user(session=session, username=f"r-{role}", role=role,
                                                    password="researcher-pages-pw").id
    yield url, engine, ids
    engine.dispose()


def page(name: str, user_id: int, url: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    return page_direct(user_id, name, timeout=TIMEOUT)


def all_text(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.markdown, *at.caption, *at.error, *at.info, *at.warning,
                                *at.subheader, *at.success)]
    return shown("\n".join(str(p) for p in parts))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", RESEARCHER_PAGES)
def test_page_opens_only_for_researchers_and_admins(seeded, monkeypatch, role, name):
    url, _engine, ids = seeded
    at = page(name, ids[f"role-{role}"], url, monkeypatch)
    assert not at.exception, at.exception
    refused = "Your account does not have access to this page." in [e.value for e in at.error]
    allowed = role in ("researcher", "admin")
    assert refused is not allowed
    assert may_open(role, {"judges/agreement.py": "agreement", "judges/audit.py": "audit",
                           "judges/criteria_comparison.py": "criteria-comparison"}[name]) is allowed
    if not allowed:  # nothing of the page leaks out
        assert len(at.dataframe) == 0 and len(at.selectbox) == 0


def test_agreement_page_shows_table4_and_downloads(seeded, monkeypatch):
    url, _engine, ids = seeded
    at = page("judges/agreement.py", ids["res"], url, monkeypatch)
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    # 4 judge runs + the human ceiling row, in the Table 4 layout
    assert list(table["Method"]) [-1] == "human"
    assert sorted(table["Method"][:-1]) == ["dynamic", "dynamic", "static-domain", "static-global"]
    assert "best" in list(table["p (Holm) vs best"])
    # 45 votes: 15 pairs x 3 annotators (every judge run scores every pair)
    assert set(table["n"][:-1]) == {"45"}
    text = all_text(at)
    assert "Human votes: 45 on 15 pairs" in text
    labels = [b.label for b in at.get("download_button")]
    # Table 4's downloads come first (the Rankings and Annotators tabs add their own after them)
    assert labels[:5] == ["Download CSV", "Download LaTeX", "Download HTML", "Download JSON", "Download Markdown"]


def test_audit_tagging_changes_the_summary(seeded, monkeypatch):
    url, engine, ids = seeded
    at = page("judges/audit.py", ids["res"], url, monkeypatch)
    assert not at.exception, at.exception
    rows = at.dataframe[0].value
    assert len(rows) > 0
    # sorted by human agreement strength, strongest first
    assert list(rows["strength"]) == sorted(rows["strength"], reverse=True)
    # every listed verdict differs from the human majority
    assert (rows["human"] != rows["verdict"]).all()
    first = rows.iloc[0]
    assert f"Query {first['query']}" in [s.value for s in at.subheader][0]
    at.selectbox(key="audit_tag_cause").select("length bias")
    at.text_area(key="audit_tag_note").input("the longer answer won")
    next(b for b in at.button if b.label == "Save tag").click()
    at.run()
    assert not at.exception, at.exception
    assert any("as 'length bias'" in shown(s.value) for s in at.success)
    with session_scope(engine) as session:
        tags = session.exec(select(AuditTag)).all()
        assert [(t.item_id, t.method, t.judge, t.cause, t.note) for t in tags] == [
            (int(first["item_id"]), first["method"], first["judge"], "length bias", "the longer answer won")]
    # the list shows the cause, the summary counts it
    assert at.dataframe[0].value.iloc[0]["cause"] == "length bias"
    summary = next(d.value for d in at.dataframe if "cause" in d.value.columns and "n" in d.value.columns)
    assert summary.to_dict("records") == [{"method": first["method"], "judge": first["judge"],
                                           "cause": "length bias", "n": 1}]


def test_cause_list_can_grow_and_retire(seeded, monkeypatch):
    url, _engine, ids = seeded
    at = page("judges/audit.py", ids["adm"], url, monkeypatch)
    at.text_input(key="audit_new_cause").input("prompt truncation")
    next(b for b in at.button if b.label == "Add cause").click()
    at.run()
    assert not at.exception, at.exception
    assert "prompt truncation" in at.selectbox(key="audit_tag_cause").options
    cause_id = next(k for k in (b.key for b in at.button) if k and k.startswith("audit_cause_")
                    and at.button(key=k).label == "Retire")
    at.button(key=cause_id).click()
    at.run()
    assert not at.exception
    assert len(at.selectbox(key="audit_tag_cause").options) == 8  # 8 defaults + 1 added - 1 retired


def test_criteria_comparison_lists_three_sets(seeded, monkeypatch):
    url, _engine, ids = seeded
    at = page("judges/criteria_comparison.py", ids["res"], url, monkeypatch)
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert {"dynamic", "static-global", "static-domain"} <= set(table.columns)
    # demo query 900001 asks for "no longer than 250 words" and the budget; its own checklist covers that
    row = table[table["requirement"].str.contains("250 words")].iloc[0]
    assert row["dynamic"] != "—"
