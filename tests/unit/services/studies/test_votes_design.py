"""Every exported vote carries its design (round, strategy, expected count) in every format."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Assignment, Study, User
from annotate.services.accounts import users
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.studies import extend
from annotate.services.studies.votes_export import export_votes
from tests.fixtures.audit_seed import STUDY, seed_audit
from tests.fixtures.pairwise_seed import PASSWORD

pytestmark = pytest.mark.usefixtures("cheap_hashing")
EXTRA = ["ann4", "ann5", "ann6", "ann7"]
TARGET = "static-domain/demo-judge-static-global/demo-judge"


@pytest.fixture()
def extended(tmp_path):
    """The audit study extended adaptively by 10 votes, every new assignment judged."""
    engine = init_db(f"sqlite:///{tmp_path / 'design.db'}")
    seed_audit(engine)
    with session_scope(engine) as session:
        for name in EXTRA:
            users.create_user(session=session, username=name, role="annotator", password=PASSWORD)
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        extend.extend_study(session=session, actor=res, study_name=STUDY, n=10, strategy="adaptive", seed=2,
                            target=TARGET, annotators=EXTRA)
        study = session.exec(select(Study).where(Study.name == STUDY)).one()
        record = study.settings["extensions"][-1]
        first, last = record["assignment_ids"]
        new = list(session.exec(select(Assignment).where(Assignment.study_id == study.id,
                                                         Assignment.id >= first)).all())
        # (username, item id) -> the expected count the extension recorded for the item
        expected = {(session.get(User, a.annotator_id).username, a.item_id): record["expected"][str(a.item_id)]
                    for a in new}
        for k, a in enumerate(new):
            submit_judgment(session=session, actor=session.get(User, a.annotator_id), assignment_id=a.id,
                            choice=("left", "right", "tie")[k % 3], elapsed_s=5.0, instruction_version_no=1,
                            content_revision=1, submit_token=f"ext-{k}")
    yield engine, expected
    engine.dispose()


def _load(path, fmt):
    if fmt == "jsonl":
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "fastchat":
        return json.loads(path.read_text(encoding="utf-8"))
    if fmt == "csv":
        with path.open(encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    frame = pd.read_parquet(path)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "fastchat"])
def test_every_format_carries_round_and_expected_count(extended, tmp_path, fmt):
    engine, expected = extended
    path = tmp_path / f"votes.{fmt}"
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        export_votes(session=session, actor=res, study_name=STUDY, path=path, fmt=fmt)
    rows = [r for r in _load(path, fmt) if not r.get("criterion")]
    extra = [r for r in rows if str(r["judge"]).removeprefix("expert_") in EXTRA]
    assert len(extra) == 10  # the ten votes the extension added (the EXTRA people voted nowhere else)
    assert {str(r["design_strategy"]) for r in extra} == {"adaptive"}
    assert {int(r["design_round"]) for r in extra} == {1}
    assert {int(r["design_round_votes"]) for r in extra} == {10}
    assert sorted(float(r["design_expected"]) for r in extra) == sorted(expected.values())
    base = [r for r in rows if r not in extra]
    assert base and {int(r["design_round"]) for r in base} == {0}
    assert {str(r["design_strategy"]) for r in base} == {"fixed"}
    assert all(r["design_expected"] in (None, "") or pd.isna(r["design_expected"]) for r in base)


def test_exported_design_gives_the_agreement_pages_estimate(extended, tmp_path):
    """export votes -> metaeval's design-based estimator = the page's design-based estimate of the
    extension's target difference (value and interval)."""
    from annotate.services.judges.agreement_view import agreement_inputs
    from annotate.services.studies.extension_estimate import extension_estimate
    from metaeval.stats.design import design_estimates, read_vote_design

    engine, _ = extended
    path = tmp_path / "votes.jsonl"
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        export_votes(session=session, actor=res, study_name=STUDY, path=path)
        page = extension_estimate(session=session, study_name=STUDY)
        _, judges, _ = agreement_inputs(session=session, study_name=STUDY)
    assert page is not None and page["method"] == "design-based (HT difference)"
    a, b = page["target"]
    votes = read_vote_design(path)
    assert votes is not None
    est = design_estimates(votes, {name: j.pairs for name, j in judges.items()})
    assert est["method"] == "design-based (HT difference)"
    if (a, b) in est["differences"]:
        got = est["differences"][(a, b)]
        value, ci = got.value, list(got.ci)
    else:
        got = est["differences"][(b, a)]
        value, ci = -got.value, sorted([-got.ci[0], -got.ci[1]])
    assert value == pytest.approx(page["value"])
    assert ci == pytest.approx(page["ci"])
