"""Real browser: an annotator changes their own password on Home: a wrong
current password changes nothing; the right one does, and the next login takes the new one."""

from __future__ import annotations

from tests.e2e.conftest import log_in, wait_for_app
from tests.fixtures.pairwise_seed import PASSWORD, seed_accounts

NEW = "a-new-longer-password-42"


def change(page, current: str, new: str) -> None:  # type: ignore[no-untyped-def]
    if not page.get_by_label("Current password").is_visible():
        page.get_by_text("Change my password").first.click()
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    page.get_by_role("button", name="Change my password").click()
    wait_for_app(page)


def test_an_annotator_changes_their_own_password(live_server, browser_context):
    seed_accounts(live_server.engine, annotators=("ann1",))
    page = browser_context.new_page()
    log_in(page, live_server.base_url, "ann1", PASSWORD)
    change(page, "not-the-password", NEW)
    page.get_by_text("The current password is not right; nothing was changed.").wait_for()
    change(page, PASSWORD, NEW)
    page.get_by_text("Your password is changed.").wait_for()
    log_in(page, live_server.base_url, "ann1", NEW)  # the new password opens Home
