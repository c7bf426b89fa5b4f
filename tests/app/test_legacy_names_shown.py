"""Names stored before the naming rules are shown escaped, capped and told apart.

The hostile names go straight into the database (as an older version, or a hand-edited
database, would have left them): a right-to-left override with a zero-width space and a
newline, 10,000 characters, and a second "demo-study" spelt with a Cyrillic "е" (U+0435).
The annotator's study picker (Judge pairs), the Study dashboard picker, the Audit and
Agreement pickers must show no control, bidi or zero-width character, no option longer
than a line, and the two look-alikes as two different options.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from annotate.db.engine import init_db
from annotate.ui.annotate.task_flow import PAIRS
from tests.fixtures.apptest import html_text, page, page_direct, shown
from tests.fixtures.audit_seed import seed_audit
from tests.fixtures.pairwise_seed import seed_study

pytestmark = pytest.mark.usefixtures("cheap_hashing")

SPOOF = "pay\u202eroll\u200b\nnext"        # RLO, zero-width space, newline
LONG = "L" * 10_000
LATIN = "demo-study"
CYRILLIC = "d\u0435mo-study"                 # U+0435 CYRILLIC SMALL LETTER IE
HIDDEN = {"\u202e", "\u200b", "\n", "\r"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('legacy_names') / 'legacy.db'}"
    engine = init_db(url)
    ids = seed_audit(engine)
    studies = {}
    for i, legacy in enumerate((SPOOF, LONG, LATIN, CYRILLIC)):
        sid = seed_study(engine, name=f"plain-{i}", annotators=("ann1",), overlap=1)
        studies[legacy] = sid
    with engine.begin() as conn:  # the names an older version stored: no rule checked them
        for legacy, sid in studies.items():
            conn.execute(text("UPDATE study SET name = :n WHERE id = :i"), {"n": legacy, "i": sid})
        conn.execute(text("INSERT INTO auditcause (name, active) VALUES (:n, :a)"), {"n": SPOOF, "a": True})
    yield url, ids, studies
    engine.dispose()


def _check_options(options: list[str], studies: dict[str, int]) -> None:
    for option in options:
        assert not HIDDEN & set(option), repr(option)
        assert len(option) <= 120, len(option)  # capped: the 10,000-character name is one short line
    # the spoof shows its hidden characters as visible escapes (by hand: U+202E -> "\u202e")
    assert any("pay\\u202eroll\\u200b\\u000anext" in o for o in options), options
    assert any(o.startswith("LLLL") and "…" in o for o in options), options
    # the two look-alikes are two different options, each with its own id
    alike = [o for o in options if o.startswith(("demo-study", "d\u0435mo-study"))]
    assert len(alike) == 2 and alike[0] != alike[1]
    assert any(f"#{studies[LATIN]}" in o for o in alike) and any(f"#{studies[CYRILLIC]}" in o for o in alike)


def test_annotator_picker_shows_legacy_names_escaped(seeded, monkeypatch) -> None:
    url, ids, studies = seeded
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page(ids["ann1"], "annotate/judge_pairs.py", timeout=60)
    picker = at.selectbox(key=PAIRS.STUDY_KEY)
    _check_options(list(picker.options), studies)
    picker.set_value(studies[SPOOF]).run()
    assert not at.exception, at.exception
    # the pair's bar (st.html) or the progress line names the study, escaped
    bar = html_text(at) + " ".join(shown(p.proto.text) for p in at.get("progress"))
    assert "pay\\u202eroll\\u200b\\u000anext" in bar and "\u202e" not in bar and "\u200b" not in bar, bar[:2000]


@pytest.mark.parametrize(("file", "key"), [("studies/study_dashboard.py", "dashboard_study"),
                                           ("judges/audit.py", "audit_study"),
                                           ("judges/agreement.py", "agr_study")])
def test_researcher_pickers_show_legacy_names_escaped(seeded, monkeypatch, file, key) -> None:
    url, ids, studies = seeded
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], file, timeout=60)
    assert not at.exception, at.exception
    _check_options(list(at.selectbox(key=key).options), studies)


def test_audit_cause_picker_and_list_show_legacy_causes_escaped(seeded, monkeypatch) -> None:
    url, ids, _studies = seeded
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], "judges/audit.py", timeout=60)
    at.selectbox(key="audit_study").set_value("demo-audit").run()  # the study with judge scores
    assert not at.exception, at.exception
    causes = list(at.selectbox(key="audit_tag_cause").options)
    assert "pay\\u202eroll\\u200b\\u000anext" in causes and not any(HIDDEN & set(c) for c in causes), causes
    listed = " ".join(shown(m.value) for m in at.markdown)  # the Cause list tab
    assert "pay\\u202eroll\\u200b\\u000anext" in listed and not HIDDEN & set(listed)


def test_rating_picker_shows_legacy_names_escaped(tmp_path, monkeypatch) -> None:
    from tests.fixtures.pairwise_seed import seed_accounts, seed_content

    url = f"sqlite:///{tmp_path / 'rate.db'}"
    engine = init_db(url)
    seed_content(engine)
    ids = seed_accounts(engine)
    first = seed_study(engine, name="p1", kind="pointwise", annotators=("ann1",), overlap=1)
    second = seed_study(engine, name="p2", kind="pointwise", annotators=("ann1",), overlap=1)
    with engine.begin() as conn:  # stored before the rules: a look-alike that also hides a U+202E
        conn.execute(text("UPDATE study SET name = :n WHERE id = :i"), {"n": LATIN, "i": first})
        conn.execute(text("UPDATE study SET name = :n WHERE id = :i"), {"n": "d\u0435mo\u202e-study", "i": second})
    engine.dispose()
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["ann1"], "annotate/rate_responses.py", timeout=60)
    assert not at.exception, at.exception
    # by hand: the Cyrillic one shows its U+202E as text; both carry their ids (they look alike)
    assert list(at.selectbox(key="rate_study").options) == [f"demo-study (study #{first})",
                                                            f"d\u0435mo\\u202e-study (study #{second})"]
