"""AppTest of the pairwise study pages: judge pairs, rate responses, guidelines, study
design and dashboard, for every role, on a real SQLite file seeded through the services.

Expected values are derived from the database rows the test reads itself (e.g. the
canonical winner from ``Assignment.shown_left``), never from the page's own output.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from annotate.db.engine import session_scope
from annotate.db.models import (
    Assignment,
    Judgment,
    JudgmentRevision,
    LLMModel,
    PointwiseRating,
    Query,
    Response,
    Study,
    StudyItem,
)
from annotate.navigation import PAGES
from tests.fixtures.apptest import APP, PAGE_DIR, TIMEOUT, button, html_text, page, page_direct, shown
from tests.fixtures.pairwise_seed import seed_accounts, seed_content, seed_study

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)

MY_PAGES = ("annotate/judge_pairs.py", "annotate/rate_responses.py", "annotate/guidelines.py", "studies/study_design.py", "studies/study_dashboard.py")


pytestmark = pytest.mark.usefixtures("cheap_hashing")  # fast argon2 (tests/conftest.py)


@pytest.fixture()
def seeded(engine, db_url, monkeypatch):
    """Demo content, accounts ann1/ann2/res/adm, pairwise study 'pilot' (15 pairs, K=2)."""
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = seed_accounts(engine)
    ids["study"] = seed_study(engine)
    return ids


def all_text(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.caption, *at.error, *at.info,
                               *at.warning, *at.success)]
    parts += [b.label for b in at.button] + [e.label for e in at.expander] + [html_text(at)]
    parts += [e.proto.text for e in at.get("progress")]  # the progress bar's line
    return shown("\n".join(str(p) for p in parts))


def my_assignments(engine, user_id: int) -> list[Assignment]:
    with session_scope(engine) as session:
        return list(session.exec(select(Assignment).where(Assignment.annotator_id == user_id)
                                 .order_by(Assignment.position)).all())


def judgments_of(engine, assignment_id: int) -> tuple[list[Judgment], list[JudgmentRevision]]:
    with session_scope(engine) as session:
        rows = list(session.exec(select(Judgment).where(Judgment.assignment_id == assignment_id)).all())
        revs = list(session.exec(select(JudgmentRevision).where(
            JudgmentRevision.judgment_id.in_([j.id for j in rows]))).all()) if rows else []
        return rows, revs


# --------------------------------------------------------------------------- roles


def test_registry_gives_annotator_and_researcher_pages_to_the_right_roles():
    roles = {spec.file: spec.roles for spec in PAGES if spec.file in MY_PAGES}
    assert roles["annotate/judge_pairs.py"] == {"annotator"}
    assert roles["annotate/rate_responses.py"] == {"annotator"}
    assert roles["studies/study_design.py"] == roles["studies/study_dashboard.py"] == {"researcher", "admin"}


@pytest.mark.parametrize("file", ["studies/study_design.py", "studies/study_dashboard.py"])
def test_annotator_cannot_reach_researcher_pages(seeded, file):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["user_id"] = seeded["ann1"]
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"app_pages/{file}")
    # Run directly (a crafted URL), the page's own server-side check refuses.
    at = page_direct(seeded["ann1"], file)
    assert [e.value for e in at.error] == ["Your account does not have access to this page."]
    assert not at.button and not at.text_input and not at.dataframe


@pytest.mark.parametrize("who", ["res", "adm"])
def test_researcher_and_admin_cannot_judge(seeded, who):
    at = page_direct(seeded[who], "annotate/judge_pairs.py")
    assert [e.value for e in at.error] == ["Your account does not have access to this page."]


@pytest.mark.parametrize("who,file", [("ann1", "annotate/guidelines.py"), ("res", "annotate/guidelines.py"),
                                      ("ann1", "annotate/rate_responses.py")])
def test_other_pages_render_for_their_roles(seeded, who, file):
    at = page(seeded[who], file)
    assert not at.error


def test_logged_out_visitor_gets_no_page(seeded):
    at = AppTest.from_file(str(PAGE_DIR / "annotate/judge_pairs.py"), default_timeout=TIMEOUT).run()
    assert [w.value for w in at.warning] == ["Please log in."]
    assert not at.button


# --------------------------------------------------------------------------- judge pairs


def test_judge_page_shows_pair_without_model_names(seeded, engine):
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    text = all_text(at)
    assert "Judge pairs" in text and "Pair 1 of 15" in text
    assert "Response A" in text and "Response B" in text
    # The texts are shown: the first words of the query and of both responses, as stored.
    first = my_assignments(engine, seeded["ann1"])[0]
    with session_scope(engine) as session:
        item = session.get(StudyItem, first.item_id)
        shown = [session.get(Query, item.query_id).original_text] + [
            session.get(Response, rid).text for rid in (item.response_a_id, item.response_b_id)]
    visible = " ".join(html_text(at).split())
    for text in shown:  # its first run of three plain words (no markdown marks around them)
        phrase = re.search(r"\b[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}\b", text).group(0)
        assert phrase in visible, phrase
    assert [b.label for b in at.button][:3] == ["A is better", "B is better", "Equivalent"]
    with session_scope(engine) as session:
        model_names = [m.name for m in session.exec(select(LLMModel)).all()]
    assert model_names and not any(name in text for name in model_names)


def test_submit_stores_canonical_winner_flags_and_time(seeded, engine):
    first = my_assignments(engine, seeded["ann1"])[0]
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    aid = first.id
    at.pills(key=f"pairs_marks_{aid}").select("response_cut_off")
    at.text_input(key=f"pairs_rationale_{aid}").input("B ignores the word limit.")
    at.button(key=f"pairs_choice_left_{aid}").click().run()
    assert not at.exception and not at.error
    rows, revs = judgments_of(engine, aid)
    assert len(rows) == 1 and len(revs) == 1
    # "A is better" = the left response; which canonical response was left is in shown_left.
    assert rows[0].winner == first.shown_left
    assert rows[0].flags == ["response_cut_off"]
    assert rows[0].rationale == "B ignores the word limit."
    assert rows[0].elapsed_s is not None and rows[0].elapsed_s >= 0
    assert rows[0].both_poor is False
    text = all_text(at)
    assert "Pair 1: A is better saved." in text
    assert "Pair 2 of 15" in text  # moved on to the next pair


def test_second_study_stays_selected_after_a_judgment(seeded, engine):
    # The study picker's labels carry "done" counts; judging a pair changes them, and the
    # picker must still hold the second study rather than fall back to the first.
    second = seed_study(engine, name="second", seed=2)
    with session_scope(engine) as session:
        first_of_second = session.exec(select(Assignment).where(
            Assignment.annotator_id == seeded["ann1"], Assignment.study_id == second)
            .order_by(Assignment.position)).first()
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    at.selectbox(key="pairs_study").set_value(second).run()
    aid = first_of_second.id
    at.button(key=f"pairs_choice_tie_{aid}").click().run()
    assert not at.exception and not at.error
    assert judgments_of(engine, aid)[0][0].winner == "tie"
    assert at.selectbox(key="pairs_study").value == second
    assert "1 of 15 pairs judged in study second" in all_text(at)


def test_both_poor_is_a_choice_stored_as_a_tie(seeded, engine):
    """One rule: "Both are poor" is the fourth choice and stores a tie with both_poor."""
    aid = my_assignments(engine, seeded["ann2"])[0].id
    at = page(seeded["ann2"], "annotate/judge_pairs.py")
    assert [b.label for b in at.button][:4] == ["A is better", "B is better", "Equivalent", "Both are poor"]
    at.button(key=f"pairs_choice_both_poor_{aid}").click().run()
    assert not at.exception and not at.error
    rows, _ = judgments_of(engine, aid)
    assert [(r.winner, r.both_poor) for r in rows] == [("tie", True)]
    assert "Pair 1: Both are poor saved." in all_text(at)
    # Reopened, the stored answer reads "Both are poor" and that button is the current one.
    button(at, "Open this pair").click().run()
    assert "You judged this pair before: **Both are poor**" in all_text(at)
    assert at.button(key=f"pairs_choice_both_poor_{aid}").proto.type == "primary"


def test_resent_submit_token_stores_once(seeded, engine):
    """A double click whose first run was cut short re-sends the same token: one judgment."""
    aid = my_assignments(engine, seeded["ann1"])[0].id
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    token = at.session_state[f"task_token_{aid}"]
    at.button(key=f"pairs_choice_right_{aid}").click().run()
    assert len(judgments_of(engine, aid)[1]) == 1
    # The second click arrives with the state of the interrupted first run: same task, same token.
    at.session_state["pairs_open"] = (my_assignments(engine, seeded["ann1"])[0].study_id, aid)
    at.session_state[f"task_token_{aid}"] = token
    at.run()
    at.button(key=f"pairs_choice_right_{aid}").click().run()
    assert not at.exception
    rows, revs = judgments_of(engine, aid)
    assert len(rows) == 1 and len(revs) == 1 and rows[0].revision == 1


def test_choice_right_after_the_pair_appears_is_refused(seeded, engine, monkeypatch):
    """A slow double click: the second click lands on the next pair's button moments after it
    appeared. The minimum-dwell guard refuses it; a later, deliberate click is stored."""
    monkeypatch.setenv("ANNOTATE_MIN_DWELL_S", "30")  # far longer than this test takes
    aid = my_assignments(engine, seeded["ann1"])[0].id
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    at.button(key=f"pairs_choice_left_{aid}").click().run()
    assert not at.exception and not at.error
    assert judgments_of(engine, aid) == ([], [])
    assert any("Not saved: pair 1 appeared a moment ago" in shown(w.value) for w in at.warning)
    # The annotator reads for a while (the pair's start time moves 60 s into the past).
    at.session_state[f"task_start_{aid}"] -= 60
    at.button(key=f"pairs_choice_left_{aid}").click().run()
    rows, revs = judgments_of(engine, aid)
    assert len(rows) == 1 and len(revs) == 1
    assert rows[0].elapsed_s is not None and rows[0].elapsed_s >= 60


def test_revisit_and_revise_keeps_history(seeded, engine):
    first = my_assignments(engine, seeded["ann1"])[0]
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    at.button(key=f"pairs_choice_left_{first.id}").click().run()
    # Open it again from "My judgments" and change the answer.
    button(at, "Open this pair").click().run()
    assert "You judged this pair before" in all_text(at)
    assert at.button(key=f"pairs_choice_left_{first.id}").proto.type == "primary"  # current answer
    at.button(key=f"pairs_choice_tie_{first.id}").click().run()
    assert "revised (revision 2)" in all_text(at)
    rows, revs = judgments_of(engine, first.id)
    assert len(rows) == 1 and rows[0].winner == "tie" and rows[0].revision == 2
    assert sorted((r.revision, r.winner) for r in revs) == [(1, first.shown_left), (2, "tie")]


def test_skip_moves_pair_to_the_back(seeded, engine):
    queue = my_assignments(engine, seeded["ann1"])
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    button(at, "Skip for now").click().run()
    assert "Pair 1 skipped" in all_text(at)
    # The next pair shown is the second of the queue (its form carries its assignment id).
    assert at.button(key=f"pairs_choice_left_{queue[1].id}")
    with session_scope(engine) as session:
        assert session.get(Assignment, queue[0].id).status == "skipped"


def test_another_annotators_assignment_is_refused(seeded, engine):
    theirs = my_assignments(engine, seeded["ann2"])[0].id
    at = page(seeded["ann1"], "annotate/judge_pairs.py", query={"assignment": str(theirs)})
    # Refused with the reason, and no dead end: the annotator's own next pair is
    # shown instead; nothing of theirs can be judged (no button of their task).
    assert any("could not be opened" in e.value and "someone else" in e.value for e in at.warning)
    keys = [str(b.key) for b in at.button]
    assert f"pairs_choice_left_{theirs}" not in keys
    mine = {a.id for a in my_assignments(engine, seeded["ann1"])}
    assert any(k.startswith("pairs_choice_left_") and int(k.rsplit("_", 1)[1]) in mine for k in keys)


def test_own_assignment_opens_by_link(seeded, engine):
    mine = my_assignments(engine, seeded["ann1"])[3].id
    at = page(seeded["ann1"], "annotate/judge_pairs.py", query={"assignment": str(mine)})
    assert "Pair 4 of 15" in all_text(at)
    assert at.button(key=f"pairs_choice_left_{mine}")


def test_per_criterion_choices_required_and_stored(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = seed_accounts(engine, ("ann1",))
    seed_study(engine, name="crit", annotators=("ann1",), overlap=1, per_criterion=True)
    aid = my_assignments(engine, ids["ann1"])[0].id
    at = page(ids["ann1"], "annotate/judge_pairs.py")
    radios = [r for r in at.radio if r.key and r.key.startswith(f"pairs_crit_{aid}_")]
    assert len(radios) == 5  # the demo queries have five checklist criteria
    at.button(key=f"pairs_choice_left_{aid}").click().run()
    assert any("every criterion" in e.value for e in at.error)
    assert judgments_of(engine, aid)[0] == []
    names = [r.label for r in radios]
    for i, value in enumerate(["left", "right", "tie", "left", "left"]):
        at.radio(key=f"pairs_crit_{aid}_{i}").set_value(value)
    at.button(key=f"pairs_choice_left_{aid}").click().run()
    rows, _ = judgments_of(engine, aid)
    with session_scope(engine) as session:
        shown_left = session.get(Assignment, aid).shown_left
    other = "b" if shown_left == "a" else "a"
    expected = dict(zip(names, [shown_left, other, "tie", shown_left, shown_left], strict=True))
    assert rows[0].per_criterion == expected


# --------------------------------------------------------------------------- rate responses


def test_rate_responses_requires_error_type_for_low_scores(engine, db_url, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DB_URL", db_url)
    seed_content(engine)
    ids = seed_accounts(engine, ("ann1",))
    seed_study(engine, name="points", annotators=("ann1",), overlap=1, kind="pointwise",
               subdomains=None)
    aid = my_assignments(engine, ids["ann1"])[0].id
    at = page(ids["ann1"], "annotate/rate_responses.py")
    assert "Response" in html_text(at)
    at.radio(key=f"rate_score_{aid}").set_value(2)
    at.button(key=f"rate_submit_{aid}").click().run()
    assert any("needs an error type" in e.value for e in at.error)
    at.selectbox(key=f"rate_error_{aid}").select("factual error")
    at.button(key=f"rate_submit_{aid}").click().run()
    assert not at.error
    with session_scope(engine) as session:
        rating = session.exec(select(PointwiseRating).where(PointwiseRating.assignment_id == aid)).one()
    assert (rating.score, rating.error_type) == (2, "factual error")


# --------------------------------------------------------------------------- study design


def test_study_design_previews_counts_then_creates(seeded, engine):
    at = page(seeded["res"], "studies/study_design.py")
    at.text_input[0].input("second")
    at.number_input[0].set_value(1)  # N per subdomain
    at.number_input[1].set_value(2)  # K
    at.multiselect[0].set_value(["ann1", "ann2"])
    button(at, "Preview counts").click().run()
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    # The demo project has 15 queries, each in its own subdomain, each with >= 2 models:
    # N=1 gives 15 pairs; K=2 gives 30 assignments, 15 per annotator.
    assert metrics["Queries"] == "15" and metrics["Items"] == "15" and metrics["Assignments"] == "30"
    with session_scope(engine) as session:
        assert session.exec(select(Study).where(Study.name == "second")).first() is None  # not yet
    button(at, "Create study").click().run()
    assert any("Study second created" in s.value for s in at.success)
    with session_scope(engine) as session:
        study = session.exec(select(Study).where(Study.name == "second")).one()
        n = len(session.exec(select(Assignment).where(Assignment.study_id == study.id)).all())
    assert n == 30


def test_study_design_shows_input_errors(seeded):
    at = page(seeded["res"], "studies/study_design.py")
    at.text_input[0].input("pilot")  # overlap 5 > 2 annotators chosen
    at.number_input[1].set_value(5)
    at.multiselect[0].set_value(["ann1", "ann2"])
    button(at, "Preview counts").click().run()
    assert any("overlap" in e.value for e in at.error)


# --------------------------------------------------------------------------- dashboard


def test_dashboard_shows_progress_and_split_pairs(seeded, engine):
    # Both annotators judge the same first pair differently (through the judging page).
    for who, choice in (("ann1", "left"), ("ann2", "right")):
        queue = my_assignments(engine, seeded[who])
        at = page(seeded[who], "annotate/judge_pairs.py")
        at.button(key=f"pairs_choice_{choice}_{queue[0].id}").click().run()
    at = page(seeded["adm"], "studies/study_dashboard.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Judgments"] == "2 of 30"
    assert len(at.get("plotly_chart")) == 2
    assert [b.label for b in at.get("download_button")] == ["CSV", "JSONL", "PARQUET"]
    table = at.dataframe[0].value
    assert list(table["Annotator"]) == ["ann1", "ann2"]
    assert list(table["Done"]) == ["1 of 15", "1 of 15"]


def test_dashboard_shows_stale_judgments_and_requeues_them_once(seeded, engine):
    # ann1 judges one pair; then an approved edit of that query marks the judgment stale.
    from annotate.services.refine.staleness import mark_content_changed

    queue = my_assignments(engine, seeded["ann1"])
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    at.button(key=f"pairs_choice_left_{queue[0].id}").click().run()
    with session_scope(engine) as session:
        from annotate.db.models import StudyItem

        query_id = session.get(StudyItem, queue[0].item_id).query_id
        report = mark_content_changed(session=session, query_id=query_id)
        session.commit()
    assert report.judgments == 1  # only ann1 had judged that pair

    at = page(seeded["adm"], "studies/study_dashboard.py")
    assert any("1 judgment(s) are stale" in w.value for w in at.warning)
    button(at, "Re-queue stale work").click().run()
    assert any("Re-queued 1 task(s) for ann1" in shown(s.value) for s in at.success)
    after = my_assignments(engine, seeded["ann1"])
    # exactly one new assignment, pointing at the superseded one
    assert len(after) == len(queue) + 1
    new = [a for a in after if a.requeued_from_id == queue[0].id]
    assert len(new) == 1 and new[0].status == "pending"
    assert not any("are stale" in w.value for w in at.warning)


# --------------------------------------------------------------------------- home


def test_annotator_home_says_what_is_left_and_continues_there(seeded, engine):
    """Home: "N pairs left in study X" per study, and Continue opens that study's next pair."""
    second = seed_study(engine, name="second", seed=2)
    queue = my_assignments(engine, seeded["ann1"])
    first_of_pilot = next(a for a in queue if a.study_id == seeded["study"])
    at = page(seeded["ann1"], "annotate/judge_pairs.py")
    at.button(key=f"pairs_choice_left_{first_of_pilot.id}").click().run()
    at = page(seeded["ann1"], "project/home.py")
    text = all_text(at)
    # pilot: 15 pairs, one judged above -> 14 left; second: 15 pairs, none judged.
    assert "14 pairs left in study pilot (1 of 15 judged)" in text
    assert "15 pairs left in study second (0 of 15 judged)" in text
    at.button(key=f"home_continue_{second}").click().run()
    assert not at.exception
    first_of_second = next(a for a in queue if a.study_id == second)
    assert at.selectbox(key="pairs_study").value == second
    assert at.button(key=f"pairs_choice_left_{first_of_second.id}")  # the second study's first pair
    assert "0 of 15 pairs judged in study second" in all_text(at)


def test_guidelines_state_the_both_poor_rule_and_every_key(seeded):
    from annotate.ui.annotate.task_state import KEY_HELP

    at = page(seeded["ann1"], "annotate/guidelines.py")
    text = " ".join(all_text(at).split())
    assert "Choose **Both are poor** when neither response is acceptable" in text
    assert "it never goes with A or B" in text
    assert "Marks" not in text  # the old rule ("mark it with any choice") is gone
    table = at.table[0].value
    assert list(table["Key"]) == [key for key, _ in KEY_HELP]
