"""Pointwise ratings keep their history (one row per revision) and are stored exactly once per token."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlmodel import select

from annotate.db.engine import current_revisions, head_revisions, make_engine, session_scope, upgrade
from annotate.db.models import Assignment, PointwiseRating, PointwiseRatingRevision
from annotate.services.annotate.judgments import rating_history, submit_rating
from annotate.services.core.errors import Conflict, PermissionDenied
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")
PINS = {"instruction_version_no": 1, "content_revision": 1}
SPEC = {("Domain 0", "Sub 00"): {7: ["zeta", "alpha"]}}  # one query, two responses -> two tasks


@pytest.fixture()
def rated(engine):
    with session_scope(engine) as s:
        make_benchmark(s, SPEC)
        users = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="pw", kind="pointwise", per_subdomain=1, overlap=1, annotators=["u1"], seed=1,
            error_types=["off-topic", "too short"]))
        tasks = [a.id for a in s.exec(select(Assignment).where(Assignment.study_id == study.id)
                                      .order_by(Assignment.id)).all()]
    return engine, users, tasks


def test_each_new_token_appends_a_revision_and_replays_store_nothing(rated):
    engine, users, (first, second) = rated
    with session_scope(engine) as s:
        u1 = users["u1"]
        r1 = submit_rating(session=s, actor=u1, assignment_id=first, score=2, error_type="too short",
                           rationale="stops mid-way", submit_token="t1", **PINS)
        r2 = submit_rating(session=s, actor=u1, assignment_id=first, score=4, submit_token="t2", **PINS)
        # A late replay of the *first* submit (a retry that arrives after the revision) must not
        # become a third revision that brings the old score back.
        replay = submit_rating(session=s, actor=u1, assignment_id=first, score=2, error_type="too short",
                               submit_token="t1", **PINS)
        assert (r1.revision, r1.created, r2.revision, r2.created) == (1, True, 2, True)
        assert (replay.revision, replay.created) == (1, False)
        with pytest.raises(Conflict):  # a token belongs to one task
            submit_rating(session=s, actor=u1, assignment_id=second, score=3, submit_token="t2", **PINS)
        s.commit()

        history = rating_history(session=s, actor=u1, assignment_id=first)
        assert [(h.revision, h.score, h.error_type, h.rationale) for h in history] == [
            (1, 2, "too short", "stops mid-way"), (2, 4, "", "")]
        current = s.exec(select(PointwiseRating).where(PointwiseRating.assignment_id == first)).one()
        assert (current.revision, current.score) == (2, 4)  # the rating holds the latest revision
        assert rating_history(session=s, actor=users["res"], assignment_id=first) == history
        assert rating_history(session=s, actor=u1, assignment_id=second) == []
        with pytest.raises(PermissionDenied):
            rating_history(session=s, actor=users["u2"], assignment_id=first)


def test_ratings_made_before_0006_get_one_history_row(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0005")
        with session_scope(engine) as s:
            make_benchmark(s, SPEC)
        with engine.begin() as conn:
            # Accounts as the 0005 schema held them (the ORM model has columns added later).
            for name, role in (("u1", "annotator"), ("res", "researcher")):
                conn.execute(text(
                    "INSERT INTO \"user\" (username, role, password_hash, display_name, active, created_at) "
                    "VALUES (:n, :r, '!', '', true, '2025-01-01 00:00:00')"), {"n": name, "r": role})
            ids = dict(conn.execute(text("SELECT username, id FROM \"user\"")).all())
            users = {name: SimpleNamespace(id=ids[name]) for name in ids}
            # A study, item and assignment written as the old schema held them.
            conn.execute(text(
                "INSERT INTO study (name, kind, settings, status, created_by_id, created_at) "
                "VALUES ('old', 'pointwise', '{}', 'open', :res, '2025-01-01 00:00:00')"), {"res": users["res"].id})
            conn.execute(text(
                "INSERT INTO studyitem (study_id, query_id, response_a_id, is_gold, is_qualification) "
                "SELECT s.id, r.query_id, r.id, false, false FROM study s, response r LIMIT 1"))
            conn.execute(text(
                "INSERT INTO assignment (study_id, item_id, annotator_id, position, shown_left, status, created_at) "
                "SELECT study_id, id, :u, 1, 'a', 'done', '2025-01-01 00:00:00' FROM studyitem"),
                {"u": users["u1"].id})
            conn.execute(text(
                "INSERT INTO pointwiserating (assignment_id, score, error_type, rationale, instruction_version_no, "
                "content_revision, stale, revision, submit_token, created_at, updated_at) "
                "SELECT id, 3, '', 'ok', 1, 1, false, 2, 'old-token', '2025-01-01 00:00:00', "
                "'2025-01-02 00:00:00' FROM assignment"))
        upgrade(engine)
        assert current_revisions(engine) == head_revisions()
        with session_scope(engine) as s:
            rows = s.exec(select(PointwiseRatingRevision)).all()
            assert [(r.revision, r.score, r.rationale, r.submit_token) for r in rows] == [(2, 3, "ok", "old-token")]
    finally:
        engine.dispose()
