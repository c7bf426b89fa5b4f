"""Who may list accounts: the admin list needs its actor said out loud, and the study
design page offers annotators through a researcher's own service call."""

from __future__ import annotations

import pytest

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.core.errors import PermissionDenied
from annotate.services.studies.design import annotator_choices

pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)
PW = "correct horse battery"


@pytest.fixture()
def session(engine):
    with session_scope(engine) as s:
        yield s


def add(session, name, role):
    return users.create_user(session=session, username=name, role=role, password=PW)


def test_list_users_cannot_be_called_without_saying_who_asks(session):
    add(session, "root", "admin")
    with pytest.raises(TypeError):
        users.list_users(session=session)
    # the command line says so explicitly
    assert [u.username for u in users.list_users(session=session, actor=None)] == ["root"]


def test_annotator_choices_are_the_active_annotators_for_researchers_only(session):
    res = add(session, "res", "researcher")
    ann = add(session, "zoe", "annotator")
    add(session, "bob", "annotator")
    add(session, "old", "annotator")
    add(session, "exp", "expert")
    users.set_active(session=session, username="old", active=False, actor=None)
    # by hand: annotators zoe, bob, old; old is deactivated; sorted -> bob, zoe
    assert annotator_choices(session=session, actor=res) == ["bob", "zoe"]
    for refused in (ann, None):
        with pytest.raises(PermissionDenied):
            annotator_choices(session=session, actor=refused)
