"""Design a study: "Add votes where they matter most" previews the expected interval widths (the
service's plan, recomputed here) and then adds exactly the previewed assignments."""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Assignment
from annotate.services.accounts import users
from annotate.services.studies.extend import plan_extension
from tests.fixtures.apptest import button, page_direct, shown
from tests.fixtures.audit_seed import STUDY, seed_audit
from tests.fixtures.pairwise_seed import PASSWORD

pytestmark = pytest.mark.usefixtures("cheap_hashing")
EXTRA = ["ann4", "ann5"]
TARGET = "static-domain/demo-judge-static-global/demo-judge"


@pytest.fixture()
def seeded(tmp_path):
    url = f"sqlite:///{tmp_path / 'extend_page.db'}"
    engine = init_db(url)
    ids = seed_audit(engine)
    with session_scope(engine) as session:
        for name in EXTRA:
            users.create_user(session=session, username=name, role="annotator", password=PASSWORD)
    yield url, engine, ids
    engine.dispose()


def test_preview_shows_widths_then_adds_the_votes(seeded, monkeypatch):
    url, engine, ids = seeded
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], "studies/study_design.py", timeout=90)
    assert not at.exception, at.exception
    assert any(e.label.startswith("Add votes where they matter most") for e in at.expander)
    at.selectbox(key="ext_study").select(STUDY)
    at.number_input(key="ext_votes").set_value(12)
    picker = at.selectbox(key="ext_target")
    # the pick list shows the names as they are (plain-text options carry no markdown escapes)
    assert "static-domain/demo-judge minus static-global/demo-judge" in picker.options
    assert not any("\\" in o for o in picker.options), picker.options
    picker.select(("static-domain/demo-judge", "static-global/demo-judge"))
    at.multiselect(key="ext_people").set_value(EXTRA)
    button(at, "Preview the new votes").click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as session:
        plan = plan_extension(session=session, study_name=STUDY, n=12, strategy="adaptive", seed=0,
                              target=TARGET, annotators=EXTRA)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Expected width now"] == f"{100 * plan.widths['now']:.1f} pp"
    assert metrics["After these votes, spread evenly"] == f"{100 * plan.widths['uniform']:.1f} pp"
    assert metrics["After these votes, where they matter most"] == f"{100 * plan.widths['adaptive']:.1f} pp"
    assert any("assignments added: 12" in shown(m.value) for m in at.markdown)
    with session_scope(engine) as session:
        before = len(session.exec(select(Assignment)).all())
    button(at, "Add votes").click().run()
    assert not at.exception, at.exception
    assert any(f"Added 12 assignments to study {STUDY}" in shown(s.value) for s in at.success)
    with session_scope(engine) as session:
        rows = session.exec(select(Assignment)).all()
    assert len(rows) == before + 12
    new = sorted(rows, key=lambda a: a.id)[-12:]
    from annotate.db.models import User

    with session_scope(engine) as session:
        names = {u.id: u.username for u in session.exec(select(User)).all()}
    assert sorted((a.item_id, names[a.annotator_id], a.shown_left) for a in new) == sorted(plan.new)


def test_agreement_page_shows_the_design_based_estimate_after_an_extension(seeded, monkeypatch):
    url, engine, ids = seeded
    from annotate.services.studies.extend import extend_study
    from annotate.services.studies.extension_estimate import extension_estimate

    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        extend_study(session=session, actor=res, study_name=STUDY, n=6, strategy="adaptive", target=TARGET,
                     annotators=EXTRA)
        est = extension_estimate(session=session, study_name=STUDY)
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], "judges/agreement.py", timeout=120)
    assert not at.exception, at.exception
    info = " ".join(shown(i.value) for i in at.info)
    lo, hi = est["ci"]
    assert "adaptive, 0 of 6 added votes in" in info
    assert f"{100 * est['value']:.1f} pp [{100 * lo:.1f}, {100 * hi:.1f}]" in info
    assert hi > lo  # no added vote yet: the phase-1 interval, not a zero-width one
