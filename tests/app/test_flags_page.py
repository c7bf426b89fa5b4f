"""AppTest of the Flags page (expert queue of annotators' flags) and of the dashboard's flag counts."""

from __future__ import annotations

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, FlagResolution
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.apptest import button, page, page_direct, shown
from tests.fixtures.study_factory import make_benchmark, make_users

PINS = {"instruction_version_no": 1, "content_revision": 1}
HOSTILE = "see ![x](https://evil.example/p.png) <b>now</b>"


@pytest.fixture()
def flagged(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    with session_scope(engine) as s:
        make_benchmark(s, {("Domain 0", "Sub 00"): {7: ["zeta", "alpha"]}})
        users = (make_users(s, ["u1"]) | make_users(s, ["res"], role="researcher")
                 | make_users(s, ["exp"], role="expert"))
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="pilot", per_subdomain=1, overlap=1, annotators=["u1"], seed=1))
        task = s.exec(select(Assignment).where(Assignment.study_id == study.id)).one()
        submit_judgment(session=s, actor=users["u1"], assignment_id=task.id, choice="left", rationale=HOSTILE,
                        flags=["response_cut_off"], submit_token="t1", **PINS)
        return {name: u.id for name, u in users.items()}


def text_of(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.markdown, *at.caption, *at.error, *at.info, *at.success)]
    return shown("\n".join(str(p) for p in parts))


def test_expert_resolves_a_flag_with_a_required_note(flagged, engine) -> None:
    at = page(flagged["exp"], "refine/flags.py")
    text = text_of(at)
    assert "A response is cut off" in text and "Query 7" in text and "u1" in text and "1 open flag" in text
    # the annotator's rationale is shown escaped: no markdown image reaches the page
    assert all("![x](" not in m.value for m in at.markdown)
    button(at, "Resolve").click().run()
    assert "write a note" in text_of(at).lower()
    with session_scope(engine) as s:
        assert s.exec(select(FlagResolution)).all() == []
    at.text_input[0].set_value("Checked: the response ends mid-sentence; regenerated.").run()
    button(at, "Resolve").click().run()
    assert "No open flag" in text_of(at)
    with session_scope(engine) as s:
        rows = s.exec(select(FlagResolution)).all()
        assert [(r.status, r.note, r.expert_id) for r in rows] == [
            ("resolved", "Checked: the response ends mid-sentence; regenerated.", flagged["exp"])]
    at.checkbox(key="flags_show_resolved").check().run()
    assert "Resolved by exp" in text_of(at) and button(at, "Reopen")
    history = [d.value for d in at.dataframe]
    assert [r["status"] for r in history[0].to_dict("records")] == ["resolved"]
    # reopening also needs a note, and appends a row
    note = at.text_input[0].set_value("The regenerated response is cut off again.").run()
    button(note, "Reopen").click().run()
    assert "1 open flag" in text_of(at)
    with session_scope(engine) as s:
        assert [r.status for r in s.exec(select(FlagResolution).order_by(col(FlagResolution.id))).all()] == [
            "resolved", "open"]


def test_flags_page_refuses_other_roles(flagged) -> None:
    for who in ("u1", "res"):
        assert "does not have access" in text_of(page_direct(flagged[who], "refine/flags.py"))


def test_dashboard_shows_flag_counts(flagged) -> None:
    at = page(flagged["res"], "studies/study_dashboard.py")
    frames = [d.value for d in at.dataframe]
    flag_frames = [f for f in frames if "A response is cut off" in getattr(f, "columns", [])]
    assert flag_frames, "no flag table on the dashboard"
    # one judgment, flagged "A response is cut off" only
    assert flag_frames[0].to_dict("records") == [
        {"query": 7, "Problem with the query": 0, "A response is cut off": 1, "Needs an expert": 0,
         "Needs materials": 0, "all flags": 1}]
    assert {m.label: m.value for m in at.metric}["A response is cut off"] == "1"


def test_annotator_flags_a_query_as_needing_materials(flagged, engine) -> None:
    from annotate.db.models import Query

    at = page(flagged["u1"], "refine/collect_materials.py")
    assert any(e.label == "Flag a query as needing materials" for e in at.expander)
    at.text_input(key="flag_requirement").set_value("the 2023 annual report").run()
    button(at, "Flag").click().run()
    assert not at.exception and not at.error
    with session_scope(engine) as s:
        query = s.exec(select(Query).where(Query.index == 7)).one()
        assert query.needs_materials and query.material_requirement == "the 2023 annual report"
