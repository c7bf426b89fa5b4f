"""The dashboard's median active time per annotator, per subdomain and over the study.

Active seconds per answer, set by one heartbeat each (a first heartbeat is credited its claim,
up to one interval; the submit comes long after it, so no tail is added):

             Sub 00   Sub 01     median
    u1          4       10         7
    u2          6        2         4
    median      5        6         5 (over 4, 10, 6, 2 -> (4 + 6) / 2)
"""

from __future__ import annotations

import math

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Query, StudyItem, Subdomain
from annotate.services.annotate.active_time import record_beat
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.studies.dashboard import study_dashboard
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")
ACTIVE = {("u1", "Sub 00"): 4.0, ("u1", "Sub 01"): 10.0, ("u2", "Sub 00"): 6.0, ("u2", "Sub 01"): 2.0}


@pytest.fixture()
def study(engine):
    with session_scope(engine) as s:
        make_benchmark(s, {("D", "Sub 00"): {1: ["m1", "m2"]}, ("D", "Sub 01"): {2: ["m1", "m2"]}})
        users = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        st = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="timed", per_subdomain=1, overlap=2, annotators=["u1", "u2"], seed=3))
        tasks = s.exec(select(Assignment, Subdomain.name).join(StudyItem, StudyItem.id == Assignment.item_id)
                       .join(Query, Query.id == StudyItem.query_id).join(Subdomain, Subdomain.id == Query.subdomain_id)
                       .where(Assignment.study_id == st.id)).all()
        names = {u.id: name for name, u in users.items()}
        for task, sub in tasks:
            who = names[task.annotator_id]
            record_beat(session=s, actor=users[who], assignment_id=task.id, revision=1,
                        active_s=ACTIVE[(who, sub)], now=1000.0, interval=60.0)
            submit_judgment(session=s, actor=users[who], assignment_id=task.id, choice="left",
                            instruction_version_no=1, content_revision=1, submit_token=f"{who}-{sub}")
            s.commit()
    return engine, users


def test_median_active_time_per_annotator_subdomain_and_study(study):
    engine, users = study
    with session_scope(engine) as s:
        dash = study_dashboard(session=s, actor=users["res"], study_name="timed")
    assert {a.annotator: a.median_active_s for a in dash.by_annotator} == {"u1": 7.0, "u2": 4.0}
    assert {sub["domain2"]: sub["median_active_s"] for sub in dash.active_by_subdomain} == {"Sub 00": 5.0, "Sub 01": 6.0}
    assert dash.median_active_s == 5.0


def test_no_measured_time_reads_as_nan(engine):
    with session_scope(engine) as s:
        make_benchmark(s, {("D", "Sub 00"): {1: ["m1", "m2"]}})
        users = make_users(s, ["u1"]) | make_users(s, ["res"], role="researcher")
        create_study(session=s, actor=users["res"], design=StudyDesign(
            name="untimed", per_subdomain=1, overlap=1, annotators=["u1"], seed=3))
        dash = study_dashboard(session=s, actor=users["res"], study_name="untimed")
    assert math.isnan(dash.median_active_s) and math.isnan(dash.by_annotator[0].median_active_s)
    assert math.isnan(dash.active_by_subdomain[0]["median_active_s"])
