"""The Agreement page after an adaptive extension: the Table 4 rows use the design-based
estimator (as ``metaeval agreement`` does on the exported votes), and say so."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Assignment, Study, User
from annotate.services.accounts import users
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.judges.agreement_view import agreement_inputs, agreement_view
from annotate.services.studies import extend
from annotate.services.studies.votes_export import export_votes
from metaeval.stats import allocation
from tests.fixtures.audit_seed import STUDY, seed_audit
from tests.fixtures.pairwise_seed import PASSWORD

pytestmark = pytest.mark.usefixtures("cheap_hashing")
EXTRA = ["ann4", "ann5", "ann6", "ann7"]
TARGET = "static-domain/demo-judge-static-global/demo-judge"


def _seed(tmp_path, *, extended: bool):
    engine = init_db(f"sqlite:///{tmp_path / 'view.db'}")
    seed_audit(engine)
    if not extended:
        return engine
    with session_scope(engine) as session:
        for name in EXTRA:
            users.create_user(session=session, username=name, role="annotator", password=PASSWORD)
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        extend.extend_study(session=session, actor=res, study_name=STUDY, n=10, strategy="adaptive", seed=2,
                            target=TARGET, annotators=EXTRA)
        study = session.exec(select(Study).where(Study.name == STUDY)).one()
        first, _last = study.settings["extensions"][-1]["assignment_ids"]
        new = list(session.exec(select(Assignment).where(Assignment.study_id == study.id,
                                                         Assignment.id >= first)).all())
        for k, a in enumerate(new):
            submit_judgment(session=session, actor=session.get(User, a.annotator_id), assignment_id=a.id,
                            choice=("left", "right", "tie")[k % 3], elapsed_s=5.0, instruction_version_no=1,
                            content_revision=1, submit_token=f"ext-{k}")
    return engine


def _by_hand(rows: list[dict], verdicts: dict[tuple[str, str, str], float]) -> float:
    """The design-based row from the exported votes, built here from the design fields: phase 1 =
    round 0, phase 2 = the adaptive round, e_i = the pair's recorded expected count, each vote
    d = [vote == judge's verdict] on the pair sorted by model name."""
    d1: dict = {}
    d2: dict = {}
    e: dict = {}
    for r in rows:
        a, b = r["model_a"], r["model_b"]
        lo, hi = sorted((a, b))
        o = {"model_a": 1, "model_b": -1}.get(r["winner"], 0) * (1 if a == lo else -1)
        key = (str(r["question_id"]), lo, hi)
        if key not in verdicts:
            continue
        (d2 if r["design_round"] == 1 else d1).setdefault(key, []).append(float(o == verdicts[key]))
        e[key] = float(r["design_last_expected"] or 0.0)
    keys = sorted(set(d1) | set(d2))
    est = allocation.adaptive_estimate([np.array(d1.get(k, [])) for k in keys],
                                       [np.array(d2.get(k, [])) for k in keys],
                                       np.array([e[k] for k in keys]), np.zeros(len(keys), bool))
    return est.value


def test_rows_after_an_adaptive_extension_are_design_based(tmp_path):
    engine = _seed(tmp_path, extended=True)
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        view = agreement_view(session=session, actor=res, study_name=STUDY, n_resamples=50)
        export_votes(session=session, actor=res, study_name=STUDY, path=tmp_path / "v.jsonl")
    assert view.result.settings["estimator"] == "design-based"
    assert any("design-based" in n for n in view.notes)
    assert "Estimator: design-based" in view.downloads["markdown"]
    rows = [json.loads(x) for x in (tmp_path / "v.jsonl").read_text().splitlines()]
    rows = [r for r in rows if not r.get("criterion") and not r.get("stale")]
    assert {r["design_round"] for r in rows} == {0, 1}
    assert view.result.rows
    with session_scope(engine) as session:  # each judge's per-pair verdicts, as the page compared them
        _votes, jv, _notes = agreement_inputs(session=session, study_name=STUDY)
    for row in view.result.rows:
        p = jv[row["judge"]].pairs
        verdicts = {(str(q), lo, hi): float(v) for q, lo, hi, v in zip(p["qid"], p["lo"], p["hi"], p["verdict"],
                                                                       strict=True)}
        assert row["agreement"] == pytest.approx(_by_hand(rows, verdicts))
    assert view.table_rows  # the page's Table 4 rows are built from these rows


def test_without_an_extension_rows_stay_pooled(tmp_path):
    engine = _seed(tmp_path, extended=False)
    with session_scope(engine) as session:
        res = users.get_user_by_username(session=session, username="res")
        view = agreement_view(session=session, actor=res, study_name=STUDY, n_resamples=50)
    assert view.result.settings["estimator"] == "pooled"
    assert not any("design-based" in n for n in view.notes)
