"""Login limits that slow guessing without locking the real person out:
per (address, username), per address across usernames, and the client address itself.

Time is simulated: every attempt passes ``now`` (an injectable clock), nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from annotate.api.routes import Api
from annotate.auth import client_address
from annotate.db.engine import session_scope
from annotate.services.accounts import login_limits, users

DB_BACKENDS = ("sqlite", "postgres")
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
PW = "correct horse battery"
ATTACKER, VICTIM_HOME = "203.0.113.66", "198.51.100.10"

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture()
def session(engine):
    with session_scope(engine) as s:
        yield s


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_guess_every_two_minutes_never_locks_out_the_victim(session):
    users.create_user(session=session, username="victim", role="annotator", password=PW)
    victim_in = attacker_checked = 0
    for minute in range(0, 120, 2):  # 2 simulated hours: a guess at even minutes, the victim at odd ones
        if login_limits.seconds_until_allowed(session=session, username="victim", client_address=ATTACKER,
                                       now=at(minute * 60)) == 0:
            attacker_checked += 1
        users.authenticate(session=session, username="victim", password="guess", client_address=ATTACKER,
                           now=at(minute * 60))
        user = users.authenticate(session=session, username="victim", password=PW,
                                  client_address=VICTIM_HOME, now=at(minute * 60 + 60))
        victim_in += user is not None
    assert victim_in == 60  # 0 lockouts (the earlier per-username rule let 0 of these in)
    # by hand: 5 free guesses (t=0..8 min), then waits of 30 s, 1, 2, 4, 8 min (guesses at
    # 10, 12, 14, 18, 26 min), then the 15-minute cap (42, 58, 74, 90, 106 min): 15 checked
    assert attacker_checked == 15


def test_the_attacker_cannot_use_the_victims_address_rule_from_its_own(session):
    users.create_user(session=session, username="victim", role="annotator", password=PW)
    for i in range(5):
        users.authenticate(session=session, username="victim", password="guess", client_address=ATTACKER,
                           now=at(i))
    # by hand: 5 failures of (attacker, victim) -> 30 s after t=4, so 29 s at t=5
    assert login_limits.seconds_until_allowed(session=session, username="victim", client_address=ATTACKER,
                                       now=at(5)) == pytest.approx(29)
    # even the right password is refused from there, while the victim's own address is free
    assert users.authenticate(session=session, username="victim", password=PW, client_address=ATTACKER,
                              now=at(5)) is None
    assert users.authenticate(session=session, username="victim", password=PW, client_address=VICTIM_HOME,
                              now=at(5)) is not None


def test_a_username_under_attack_gives_a_new_address_one_free_failure(session):
    users.create_user(session=session, username="victim", role="annotator", password=PW)
    for i in range(10):  # 10 failures from ten addresses (HOT_USERNAME_FAILURES)
        users.authenticate(session=session, username="victim", password="guess",
                           client_address=f"192.0.2.{i + 1}", now=at(i))
    users.authenticate(session=session, username="victim", password="typo", client_address=VICTIM_HOME,
                       now=at(20))
    # by hand: one free failure, then BASE_DELAY (30 s) after t=20 -> 30 s at t=20
    assert login_limits.seconds_until_allowed(session=session, username="victim", client_address=VICTIM_HOME,
                                       now=at(20)) == pytest.approx(30)
    assert users.authenticate(session=session, username="victim", password=PW, client_address=VICTIM_HOME,
                              now=at(50)) is not None
    # a clean address still gets in at once
    assert users.authenticate(session=session, username="victim", password=PW, client_address="192.0.2.200",
                              now=at(21)) is not None


def test_a_spray_over_40_usernames_from_one_address_is_slowed(session):
    for i in range(40):
        users.create_user(session=session, username=f"person{i}", role="annotator", password=PW)
    checked = []
    for second in range(60):  # one guess a second, each for the next username not yet tried
        name = f"person{len(checked)}"
        if login_limits.seconds_until_allowed(session=session, username=name, client_address=ATTACKER,
                                       now=at(second)) == 0:
            users.authenticate(session=session, username=name, password="Spring2025!",
                               client_address=ATTACKER, now=at(second))
            checked.append(second)
    # by hand: 20 free (t=0..19), then 5 s after t=19 -> t=24, 10 s -> t=34, 20 s -> t=54
    assert checked == list(range(20)) + [24, 34, 54]
    # the next one waits 40 s after t=54; someone else from another address is not affected
    assert login_limits.seconds_until_allowed(session=session, username="person23", client_address=ATTACKER,
                                       now=at(60)) == pytest.approx(34)
    assert users.authenticate(session=session, username="person39", password=PW, client_address=VICTIM_HOME,
                              now=at(60)) is not None
    # the same spray an hour later starts from a clean slate (ADDRESS_WINDOW)
    assert login_limits.seconds_until_allowed(session=session, username="person23", client_address=ATTACKER,
                                       now=at(54 + 3601)) == 0


def test_client_address_is_the_socket_unless_a_trusted_proxy_header_is_configured():
    forged = {"x-forwarded-for": "10.9.9.9", "x-real-ip": "10.9.9.9"}
    assert client_address.resolve("198.51.100.4", forged, {}) == "198.51.100.4"
    env = {"ANNOTATE_TRUSTED_PROXY_HEADER": "X-Real-IP", "ANNOTATE_TRUSTED_PROXIES": "10.0.0.2"}
    assert client_address.resolve("10.0.0.2", {"x-real-ip": "203.0.113.5"}, env) == "203.0.113.5"
    assert client_address.resolve("198.51.100.4", {"x-real-ip": "203.0.113.5"}, env) == "198.51.100.4"
    assert client_address.resolve("10.0.0.2", {"x-real-ip": "not an address"}, env) == "10.0.0.2"
    assert client_address.resolve("::ffff:10.0.0.2", {}, {}) == "::ffff:a00:2"


def test_api_login_limits_follow_the_socket_address(engine, monkeypatch):
    with session_scope(engine) as s:
        users.create_user(session=s, username="victim", role="annotator", password=PW)
    app = Starlette(routes=Api(engine, b"test-secret-0123456789abcdef").routes())
    attacker = TestClient(app, base_url="http://127.0.0.1", client=(ATTACKER, 4000))
    victim = TestClient(app, base_url="http://127.0.0.1", client=(VICTIM_HOME, 4001))
    for i in range(5):  # the fifth failure is answered 429: from then on the pair waits
        r = attacker.post("/api/v1/login", json={"username": "victim", "password": "guess"},
                          headers={"X-Forwarded-For": VICTIM_HOME})  # not trusted: ignored
        assert r.status_code == (401 if i < 4 else 429), r.text
    slowed = attacker.post("/api/v1/login", json={"username": "victim", "password": PW})
    assert slowed.status_code == 429 and 0 < int(slowed.headers["Retry-After"]) <= 30
    assert "try again in" in slowed.json()["error"]
    assert victim.post("/api/v1/login", json={"username": "victim", "password": PW}).status_code == 200
    # behind a configured proxy, the header names the client
    monkeypatch.setenv("ANNOTATE_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
    monkeypatch.setenv("ANNOTATE_TRUSTED_PROXIES", "127.0.0.1")  # the proxy is named too (no default)
    proxy = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 4002))
    assert proxy.post("/api/v1/login", json={"username": "victim", "password": PW},
                      headers={"X-Forwarded-For": ATTACKER}).status_code == 429
    assert proxy.post("/api/v1/login", json={"username": "victim", "password": PW},
                      headers={"X-Forwarded-For": VICTIM_HOME}).status_code == 200


def test_attempts_are_counted_under_the_stored_username():
    # the limits key attempts by the name the account is stored under, whatever the case typed
    for typed in ("  Ada ", "ADA@Example.org", "X" * 150):
        assert login_limits.attempt_username(typed) == users.normalize_username(typed)[:100]
