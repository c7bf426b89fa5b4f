"""Admin actions the app offers: change a role, close/reopen/archive a study. The services
check every rule themselves, whatever page or client calls them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import Study, User
from annotate.services.accounts import users
from annotate.services.annotate import tasks
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied
from annotate.services.studies import lifecycle
from tests.fixtures.pairwise_seed import seed_accounts, seed_content, seed_study

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture()
def people(engine):
    seed_content(engine)
    ids = seed_accounts(engine)
    with session_scope(engine) as s:
        for name, role in (("adm2", "admin"), ("exp", "expert")):
            ids[name] = users.create_user(session=s, username=name, role=role, password="x" * 12).id
    return ids


def _user(session, name: str) -> User:
    return users.get_user_by_username(session=session, username=name)


def test_set_role_rules(engine, people) -> None:
    with session_scope(engine) as s:
        adm, adm2 = _user(s, "adm"), _user(s, "adm2")
        assert users.set_role(session=s, username="ann1", role="expert", actor=adm).role == "expert"
        with pytest.raises(PermissionDenied):
            users.set_role(session=s, username="ann2", role="admin", actor=_user(s, "res"))
        with pytest.raises(InputError, match="unknown role 'boss'"):
            users.set_role(session=s, username="ann2", role="boss", actor=adm)
        with pytest.raises(NotFound):
            users.set_role(session=s, username="nobody", role="expert", actor=adm)
        with pytest.raises(Conflict, match="your own role"):
            users.set_role(session=s, username="adm", role="annotator", actor=adm)
        # two admins: one may demote the other, but not the last one left
        users.set_role(session=s, username="adm2", role="researcher", actor=adm)
        users.set_role(session=s, username="adm2", role="admin", actor=adm)
        users.set_active(session=s, username="adm", active=False, actor=adm2)
        with pytest.raises(Conflict, match="last active admin"):
            users.set_role(session=s, username="adm2", role="annotator", actor=None)  # the CLI has no actor
    with session_scope(engine) as s:
        roles = {u.username: u.role for u in s.exec(select(User))}
    assert roles["ann1"] == "expert" and roles["ann2"] == "annotator" and roles["adm2"] == "admin"


def test_a_closed_or_archived_study_serves_no_task_and_only_admins_archive(engine, people) -> None:
    study_id = seed_study(engine, name="pilot")
    with session_scope(engine) as s:
        adm, res, ann1 = _user(s, "adm"), _user(s, "res"), _user(s, "ann1")
        assert tasks.next_task(session=s, actor=ann1, study_id=study_id) is not None
        assert lifecycle.set_study_status(session=s, actor=res, study_name="pilot", status="closed").status == "closed"
        assert tasks.next_task(session=s, actor=ann1, study_id=study_id) is None
        with pytest.raises(PermissionDenied):
            lifecycle.set_study_status(session=s, actor=res, study_name="pilot", status="archived")
        with pytest.raises(PermissionDenied):
            lifecycle.set_study_status(session=s, actor=_user(s, "exp"), study_name="pilot", status="active")
        with pytest.raises(InputError, match="one of active, closed, archived"):
            lifecycle.set_study_status(session=s, actor=adm, study_name="pilot", status="deleted")
        with pytest.raises(NotFound):
            lifecycle.set_study_status(session=s, actor=adm, study_name="no-such", status="closed")
        lifecycle.set_study_status(session=s, actor=adm, study_name="pilot", status="archived")
        assert tasks.next_task(session=s, actor=ann1, study_id=study_id) is None
        with pytest.raises(PermissionDenied):  # a researcher cannot bring it back from the archive either
            lifecycle.set_study_status(session=s, actor=res, study_name="pilot", status="active")
        lifecycle.set_study_status(session=s, actor=adm, study_name="pilot", status="active")
        assert tasks.next_task(session=s, actor=ann1, study_id=study_id) is not None
    with session_scope(engine) as s:
        assert s.get(Study, study_id).status == "active"
