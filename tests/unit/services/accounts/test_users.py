"""Accounts service: hashing, login, slowing of repeated failures, admin actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from annotate.db.engine import session_scope
from annotate.db.models import LoginAttempt, User
from annotate.services.accounts import login_limits, users
from annotate.services.core.authz import has_role, require_role
from annotate.services.core.errors import Conflict, InputError, NotFound, PermissionDenied

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
PW = "correct horse battery"


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


@pytest.fixture()
def session(engine):
    with session_scope(engine) as s:
        yield s


def add(session, name, role, password=PW):
    return users.create_user(session=session, username=name, role=role, password=password)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def attempts(session, name):
    return session.exec(select(LoginAttempt).where(LoginAttempt.username == name)).all()


# ----------------------------------------------------------------------------- creation


def test_password_is_stored_only_as_argon2id_hash(session):
    user = add(session, "Alice", "annotator")
    assert user.username == "alice"  # stored lower-case
    assert PW not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")
    # checked with argon2's own verifier, not with our code
    assert PasswordHasher().verify(user.password_hash, PW)


def test_same_password_gives_different_hashes(session):
    a = add(session, "a1", "annotator")
    b = add(session, "a2", "annotator")
    assert a.password_hash != b.password_hash  # salted


def test_duplicate_username_is_a_conflict_whatever_the_case(session):
    add(session, "bob", "expert")
    with pytest.raises(Conflict, match="taken"):
        add(session, "BOB", "annotator")


@pytest.mark.parametrize(("name", "role", "password", "field"), [
    ("ok_name", "superuser", PW, "role"),
    ("ok_name", "annotator", "short", "password"),
    ("ok_name", "annotator", " " * 12, "password"),
    ("has space", "annotator", PW, "username"),
    ("", "annotator", PW, "username"),
    ("x" * 101, "annotator", PW, "username"),
])
def test_bad_input_names_the_field_and_writes_nothing(session, name, role, password, field):
    with pytest.raises(InputError) as err:
        add(session, name, role, password)
    assert err.value.field == field
    assert password.strip() == "" or password not in str(err.value)
    assert session.exec(select(User)).all() == []


def test_admin_actor_may_create_and_annotator_may_not(session):
    admin = add(session, "root", "admin")
    ann = add(session, "ann", "annotator")
    created = users.create_user(session=session, username="new", role="expert", password=PW, actor=admin)
    assert created.role == "expert"
    with pytest.raises(PermissionDenied):
        users.create_user(session=session, username="new2", role="admin", password=PW, actor=ann)
    assert users.get_user_by_username(session=session, username="new2") is None


# ----------------------------------------------------------------------------- login


def test_authenticate_right_wrong_unknown_and_deactivated(session):
    admin = add(session, "root", "admin")
    add(session, "carol", "researcher")
    assert users.authenticate(session=session, username=" Carol ", password=PW).username == "carol"
    assert users.authenticate(session=session, username="carol", password=PW + "x") is None
    assert users.authenticate(session=session, username="nobody", password=PW) is None
    users.deactivate(session=session, username="carol", actor=admin)
    assert users.authenticate(session=session, username="carol", password=PW) is None
    # every checked attempt is recorded: 1 success then 2 failures for carol, 1 for nobody
    assert [a.success for a in attempts(session, "carol")] == [True, False, False]
    assert [a.success for a in attempts(session, "nobody")] == [False]


def test_unknown_username_costs_one_hash_check_like_a_known_one(session, monkeypatch):
    add(session, "dave", "annotator")
    calls = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):  # noqa: A002
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(users, "_hasher", CountingHasher(time_cost=1, memory_cost=1024, parallelism=1))
    users.authenticate(session=session, username="dave", password="wrong-password")
    users.authenticate(session=session, username="ghost", password="wrong-password")
    assert len(calls) == 2  # one argon2 verification in each case


def test_five_failures_then_refused_for_30_seconds(session):
    add(session, "erin", "annotator")
    for i in range(5):  # failures at t = 0, 1, 2, 3, 4 s
        assert users.authenticate(session=session, username="erin", password="bad", now=at(i)) is None
    # by hand: delay after 5 failures = 30 s * 2**0 from the last failure (t=4) -> allowed at t=34
    assert login_limits.seconds_until_allowed(session=session, username="erin", now=at(5)) == pytest.approx(29)
    # the right password is refused while slowed, and the refusal is not recorded
    assert users.authenticate(session=session, username="erin", password=PW, now=at(5)) is None
    assert len(attempts(session, "erin")) == 5
    assert users.authenticate(session=session, username="erin", password=PW, now=at(34)).username == "erin"
    # a success resets the count
    assert login_limits.seconds_until_allowed(session=session, username="erin", now=at(35)) == 0


def test_delay_doubles_with_each_further_failure(session):
    add(session, "fay", "annotator")
    for i in range(5):
        users.authenticate(session=session, username="fay", password="bad", now=at(i))
    users.authenticate(session=session, username="fay", password="bad", now=at(40))  # 6th failure
    # by hand: 6 failures -> 30 * 2**1 = 60 s after t=40 -> allowed at t=100
    assert login_limits.seconds_until_allowed(session=session, username="fay", now=at(41)) == pytest.approx(59)
    users.authenticate(session=session, username="fay", password="bad", now=at(100))  # 7th
    # 7 failures -> 120 s after t=100
    assert login_limits.seconds_until_allowed(session=session, username="fay", now=at(100)) == pytest.approx(120)


def test_unknown_and_known_usernames_are_slowed_alike(session):
    add(session, "gus", "annotator")
    for name in ("gus", "ghost"):
        for i in range(6):
            users.authenticate(session=session, username=name, password="bad", now=at(i * 40))
    waits = {name: login_limits.seconds_until_allowed(session=session, username=name, now=at(201))
             for name in ("gus", "ghost")}
    assert waits["gus"] == waits["ghost"] == pytest.approx(59)  # 6th failure at t=200, 60 s delay


def test_failures_older_than_the_window_do_not_count(session):
    add(session, "hal", "annotator")
    for i in range(5):
        users.authenticate(session=session, username="hal", password="bad", now=at(i))
    later = at(4 + login_limits.FAILURE_WINDOW.total_seconds() + 1)  # all five are outside the window
    assert login_limits.seconds_until_allowed(session=session, username="hal", now=later) == 0
    assert users.authenticate(session=session, username="hal", password=PW, now=later) is not None


def test_login_delay_schedule():
    assert [login_limits.login_delay(n).total_seconds() for n in range(4, 12)] == \
        [0, 30, 60, 120, 240, 480, 900, 900]


# ----------------------------------------------------------------------------- administration


def test_set_password_rules(session):
    admin = add(session, "root", "admin")
    ann = add(session, "ivy", "annotator")
    add(session, "jon", "annotator")
    users.set_password(session=session, username="ivy", password="ivy-new-password", actor=ann)
    assert users.authenticate(session=session, username="ivy", password="ivy-new-password") is not None
    with pytest.raises(PermissionDenied):
        users.set_password(session=session, username="jon", password="hijacked-pass", actor=ann)
    with pytest.raises(NotFound):
        users.set_password(session=session, username="nobody", password="whatever-pass", actor=admin)
    with pytest.raises(InputError):
        users.set_password(session=session, username="jon", password="short", actor=admin)


def test_admin_reset_lifts_a_login_block(session):
    admin = add(session, "root", "admin")
    add(session, "kim", "annotator")
    now = datetime.now(UTC)
    for _ in range(5):
        users.authenticate(session=session, username="kim", password="bad", now=now)
    assert login_limits.seconds_until_allowed(session=session, username="kim", now=now) > 0
    users.set_password(session=session, username="kim", password="fresh-password", actor=admin)
    assert login_limits.seconds_until_allowed(session=session, username="kim", now=now) == 0


def test_list_users_is_admin_only_and_sorted(session):
    admin = add(session, "root", "admin")
    ann = add(session, "zed", "annotator")
    add(session, "amy", "expert")
    assert [u.username for u in users.list_users(session=session, actor=admin)] == ["amy", "root", "zed"]
    with pytest.raises(PermissionDenied):
        users.list_users(session=session, actor=ann)


def test_deactivation_rules(session):
    admin = add(session, "root", "admin")
    add(session, "lee", "annotator")
    with pytest.raises(Conflict, match="own account"):
        users.deactivate(session=session, username="root", actor=admin)
    with pytest.raises(Conflict, match="last active admin"):
        users.deactivate(session=session, username="root")
    assert users.deactivate(session=session, username="lee", actor=admin).active is False
    assert users.activate(session=session, username="lee", actor=admin).active is True
    other_admin = add(session, "root2", "admin")
    assert users.deactivate(session=session, username="root", actor=other_admin).active is False


def test_require_role():
    admin = User(username="a", role="admin")
    ann = User(username="b", role="annotator")
    gone = User(username="c", role="admin", active=False)
    assert require_role(admin, "admin", "researcher") is admin
    for actor in (ann, gone, None):
        with pytest.raises(PermissionDenied):
            require_role(actor, "admin")
    assert has_role(ann, "annotator") and not has_role(gone, "admin")
    with pytest.raises(ValueError):
        require_role(admin, "superuser")
