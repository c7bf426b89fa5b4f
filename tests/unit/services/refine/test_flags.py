"""The expert queue of annotators' flags, the dashboard's flag counts, and "needs materials"
set by annotators."""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, FlagResolution, Judgment, Query, StudyItem
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.core.errors import InputError, NotFound, PermissionDenied
from annotate.services.refine import flags, materials
from annotate.services.studies.dashboard import flag_counts
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")
PINS = {"instruction_version_no": 1, "content_revision": 1}
# two queries (7 and 8) of one subdomain, one pair each; both annotators judge both pairs
SPEC = {("Domain 0", "Sub 00"): {7: ["zeta", "alpha"], 8: ["zeta", "alpha"]}}


@pytest.fixture()
def flagged(engine):
    """u1 flags query 7 "Problem with the query" and "Needs an expert", query 8 nothing;
    u2 flags query 7 "A response is cut off" and query 8 "Problem with the query"."""
    with session_scope(engine) as s:
        make_benchmark(s, SPEC)
        users = (make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
                 | make_users(s, ["exp"], role="expert"))
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="pilot", per_subdomain=2, overlap=2, annotators=["u1", "u2"], seed=1))
        chosen = {("u1", 7): ["query_problem", "needs_expert"], ("u1", 8): [],
                  ("u2", 7): ["response_cut_off"], ("u2", 8): ["query_problem"]}
        ids = {}
        for a in s.exec(select(Assignment).where(Assignment.study_id == study.id)).all():
            name = "u1" if a.annotator_id == users["u1"].id else "u2"
            index = s.exec(select(Query.index).join(StudyItem, StudyItem.query_id == Query.id)
                           .where(StudyItem.id == a.item_id)).one()
            result = submit_judgment(session=s, actor=users[name], assignment_id=a.id, choice="left",
                                     rationale=f"{name} on {index}", flags=chosen[(name, index)],
                                     submit_token=f"t-{a.id}", **PINS)
            ids[(name, index)] = result.judgment_id
    return engine, users, ids


def test_queue_lists_every_open_flag_with_its_source(flagged):
    engine, users, ids = flagged
    with session_scope(engine) as s:
        queue = flags.flag_queue(session=s, actor=users["exp"])
    # sorted here; the queue itself is ordered by study, query index, judgment id
    got = sorted((f.query_index, f.annotator, f.flag, f.rationale, f.status, f.study) for f in queue)
    assert got == [(7, "u1", "needs_expert", "u1 on 7", "open", "pilot"),
                   (7, "u1", "query_problem", "u1 on 7", "open", "pilot"),
                   (7, "u2", "response_cut_off", "u2 on 7", "open", "pilot"),
                   (8, "u2", "query_problem", "u2 on 8", "open", "pilot")]
    assert [f.query_index for f in queue] == [7, 7, 7, 8]


def test_resolve_needs_a_note_and_reopen_appends_versions(flagged):
    engine, users, ids = flagged
    jid = ids[("u2", 8)]
    with session_scope(engine) as s:
        with pytest.raises(InputError) as exc:
            flags.resolve_flag(session=s, actor=users["exp"], judgment_id=jid, flag="query_problem", note="  ")
        assert exc.value.field == "note"
        first = flags.resolve_flag(session=s, actor=users["exp"], judgment_id=jid, flag="query_problem",
                                   note="The query now names the year.")
        assert first.status == "resolved" and first.expert_id == users["exp"].id
        # resolved flags leave the queue, but stay listed on request with their note and expert
        open_now = flags.flag_queue(session=s, actor=users["exp"])
        assert (8, "query_problem") not in {(f.query_index, f.flag) for f in open_now} and len(open_now) == 3
        everything = flags.flag_queue(session=s, actor=users["exp"], include_resolved=True)
        done = [f for f in everything if f.status == "resolved"]
        assert [(f.judgment_id, f.note, f.expert) for f in done] == [(jid, "The query now names the year.", "exp")]
        with pytest.raises(InputError):  # resolving twice: someone else already did
            flags.resolve_flag(session=s, actor=users["exp"], judgment_id=jid, flag="query_problem", note="again")
        flags.reopen_flag(session=s, actor=users["exp"], judgment_id=jid, flag="query_problem",
                          note="The year is still ambiguous.")
        assert len(flags.flag_queue(session=s, actor=users["exp"])) == 4
        flags.resolve_flag(session=s, actor=users["exp"], judgment_id=jid, flag="query_problem",
                           note="Fixed in version 3.")
        history = flags.flag_history(session=s, actor=users["exp"], judgment_id=jid, flag="query_problem")
        assert {h.expert for h in history} == {"exp"}
        assert [(h.status, h.note) for h in history] == [
            ("resolved", "The query now names the year."), ("open", "The year is still ambiguous."),
            ("resolved", "Fixed in version 3.")]
        assert len(s.exec(select(FlagResolution)).all()) == 3  # appended, never updated


def test_resolve_refuses_non_experts_and_wrong_flags(flagged):
    engine, users, ids = flagged
    with session_scope(engine) as s:
        for who in ("u1", "res"):
            with pytest.raises(PermissionDenied):
                flags.resolve_flag(session=s, actor=users[who], judgment_id=ids[("u1", 7)],
                                   flag="query_problem", note="ok")
        with pytest.raises(PermissionDenied):
            flags.flag_queue(session=s, actor=users["u1"])
        with pytest.raises(InputError):  # u1 set no flag on query 8
            flags.resolve_flag(session=s, actor=users["exp"], judgment_id=ids[("u1", 8)],
                               flag="query_problem", note="ok")
        with pytest.raises(InputError):
            flags.resolve_flag(session=s, actor=users["exp"], judgment_id=ids[("u1", 7)], flag="spam", note="ok")
        with pytest.raises(InputError):  # reopening a flag that is open
            flags.reopen_flag(session=s, actor=users["exp"], judgment_id=ids[("u1", 7)],
                              flag="query_problem", note="ok")
        with pytest.raises(NotFound):
            flags.resolve_flag(session=s, actor=users["exp"], judgment_id=10_000, flag="query_problem", note="ok")
        assert s.exec(select(FlagResolution)).all() == []


def test_dashboard_counts_per_flag_and_per_query(flagged):
    engine, users, _ = flagged
    with session_scope(engine) as s:
        counts = flag_counts(session=s, actor=users["res"], study_name="pilot")
        with pytest.raises(PermissionDenied):
            flag_counts(session=s, actor=users["u1"], study_name="pilot")
    # by hand from the fixture: query_problem u1@7 + u2@8 = 2; response_cut_off u2@7 = 1; needs_expert u1@7 = 1
    assert counts.per_flag == {"query_problem": 2, "response_cut_off": 1, "needs_expert": 1, "needs_materials": 0}
    assert counts.per_query == [
        {"query": 7, "query_problem": 1, "response_cut_off": 1, "needs_expert": 1, "needs_materials": 0, "total": 3},
        {"query": 8, "query_problem": 1, "response_cut_off": 0, "needs_expert": 0, "needs_materials": 0, "total": 1}]


def test_annotators_may_flag_a_query_as_needing_materials(flagged):
    engine, users, _ = flagged
    with session_scope(engine) as s:
        query = s.exec(select(Query).where(Query.index == 8)).one()
        materials.set_needs_materials(session=s, actor=users["u1"], query_id=query.id, needs=True,
                                      requirement="the 2023 annual report")
        needs = materials.queries_needing_materials(session=s)
    assert [(n.index, n.requirement) for n in needs] == [(8, "the 2023 annual report")]


def test_judgment_flags_unchanged_by_resolution(flagged):
    engine, users, ids = flagged
    with session_scope(engine) as s:
        flags.resolve_flag(session=s, actor=users["exp"], judgment_id=ids[("u1", 7)], flag="needs_expert",
                           note="Answered the annotator.")
        assert s.get(Judgment, ids[("u1", 7)]).flags == ["query_problem", "needs_expert"]
