"""AppTest of the admin page: change a role, deactivate and re-activate, close and archive a study."""

from __future__ import annotations

import pytest

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.studies import lifecycle
from tests.fixtures.apptest import button, page
from tests.fixtures.pairwise_seed import seed_accounts, seed_content, seed_study

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture()
def seeded(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = seed_accounts(engine)
    seed_study(engine, name="pilot")
    return ids


def _state(engine, name: str) -> tuple[str, bool]:
    with session_scope(engine) as s:
        user = users.get_user_by_username(session=s, username=name)
        return user.role, user.active


def test_admin_changes_a_role_and_deactivates_and_reactivates(seeded, engine) -> None:
    at = page(seeded["adm"], "admin/accounts.py")
    at.selectbox(key="role_target").select("ann1").run()
    assert button(at, "Change role").disabled  # the role shown is the current one
    at.selectbox(key="role_new_ann1").select("expert").run()
    button(at, "Change role").click().run()
    assert not at.exception
    assert "Account ann1 is now expert." in [s.value.replace("\\", "") for s in at.success]
    assert _state(engine, "ann1") == ("expert", True)
    # the next account's role box starts from that account's own role, not the previous choice
    at.selectbox(key="role_target").select("ann2").run()
    assert at.selectbox(key="role_new_ann2").value == "annotator"
    at.selectbox(key="status_target").select("ann2").run()
    button(at, "Deactivate").click().run()
    assert _state(engine, "ann2") == ("annotator", False)
    at.selectbox(key="status_target").select("ann2").run()
    button(at, "Re-activate").click().run()
    assert _state(engine, "ann2") == ("annotator", True)


def test_admin_closes_archives_and_restores_a_study(seeded, engine) -> None:
    at = page(seeded["adm"], "admin/accounts.py")
    at.selectbox(key="admin_study").select("pilot").run()
    assert [b.label for b in at.button if b.key and b.key.startswith("study_")] == ["Close", "Archive"]
    button(at, "Close").click().run()
    assert not at.exception
    with session_scope(engine) as s:
        assert lifecycle.get_study(session=s, name="pilot").status == "closed"
    button(at, "Archive").click().run()
    assert [b.label for b in at.button if b.key and b.key.startswith("study_")] == ["Restore (closed)"]
    button(at, "Restore (closed)").click().run()
    with session_scope(engine) as s:
        assert lifecycle.get_study(session=s, name="pilot").status == "closed"
