"""Agreement page after an adaptive extension: the Rankings and Annotators tabs each show the
line saying the design-based estimator is used (the numbers: tests/unit/services/judges/
test_rankings_view_design.py)."""

from __future__ import annotations

import pytest

from annotate.db.engine import session_scope
from annotate.services.accounts import users
from annotate.services.judges.rankings_view import ESTIMATOR_CAPTION
from annotate.ui.kit.safe_markdown import plain_label
from tests.fixtures.apptest import page_direct
from tests.unit.services.judges.test_agreement_view_design import _seed

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.mark.parametrize("extended", [True, False])
def test_estimator_line_shows_after_an_extension_only(tmp_path, monkeypatch, extended):
    engine = _seed(tmp_path, extended=extended)
    with session_scope(engine) as session:
        res_id = users.get_user_by_username(session=session, username="res").id
    monkeypatch.setenv("ANNOTATE_DB_URL", str(engine.url))
    at = page_direct(res_id, "judges/agreement.py", timeout=120)
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    # once in the Rankings tab, once in the Annotators tab
    assert captions.count(plain_label(ESTIMATOR_CAPTION)) == (2 if extended else 0)
