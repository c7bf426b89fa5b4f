"""annotate study extend: exactly N assignments added, design rules kept (no one judges a pair
twice, sides counterbalanced, even load), seeded reproducibility, the default target, the
adaptive draw favouring items where the two judge rows disagree, and clear errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Assignment, Study, User
from annotate.services.accounts import users
from annotate.services.core.errors import InputError, PermissionDenied
from annotate.services.judges.agreement_view import agreement_inputs
from annotate.services.studies import extend
from tests.fixtures.audit_seed import STUDY, seed_audit
from tests.fixtures.pairwise_seed import PASSWORD

pytestmark = pytest.mark.usefixtures("cheap_hashing")
EXTRA = ["ann4", "ann5", "ann6", "ann7"]


@pytest.fixture()
def seeded(tmp_path):
    engine = init_db(f"sqlite:///{tmp_path / 'extend.db'}")
    seed_audit(engine)
    with session_scope(engine) as session:
        for name in EXTRA:
            users.create_user(session=session, username=name, role="annotator", password=PASSWORD)
    yield engine
    engine.dispose()


def _assignments(session):
    study = session.exec(select(Study).where(Study.name == STUDY)).one()
    return study, list(session.exec(select(Assignment).where(Assignment.study_id == study.id)).all())


@pytest.mark.parametrize("strategy", ["uniform", "adaptive"])
def test_extend_adds_exactly_n_within_the_design_rules(seeded, strategy):
    with session_scope(seeded) as session:
        res = users.get_user_by_username(session=session, username="res")
        _, before = _assignments(session)
        plan = extend.extend_study(session=session, actor=res, study_name=STUDY, n=23, strategy=strategy,
                                   seed=5, annotators=EXTRA)
        study, after = _assignments(session)
    assert len(after) - len(before) == 23 == len(plan.new) == sum(plan.per_item.values())
    # no one judges a pair twice
    pairs = Counter((a.item_id, a.annotator_id) for a in after)
    assert max(pairs.values()) == 1
    # sides stay counterbalanced: the imbalance of an item grows by at most one
    def imbalance(rows):
        sides = Counter()
        for a in rows:
            sides[(a.item_id, a.shown_left)] += 1
        return {i: abs(sides[(i, "a")] - sides[(i, "b")]) for i in {a.item_id for a in rows}}
    old, new = imbalance(before), imbalance(after)
    assert all(new[i] <= max(old.get(i, 0), 1) for i in new)
    # even load over the people who got new work (everyone starts from the same count among EXTRA)
    load = Counter(name for _, name, _ in plan.new)
    assert set(load) <= set(EXTRA) | {"ann1", "ann2", "ann3"}
    extra_load = [load.get(u, 0) for u in EXTRA]
    assert max(extra_load) - min(extra_load) <= 1
    # the draw is recorded for the design-based estimate
    rec = study.settings["extensions"][-1]
    assert rec["strategy"] == strategy and rec["n"] == 23
    assert sum(rec["counts"].values()) == 23
    assert sum(rec["expected"].values()) == pytest.approx(23)


def test_same_seed_same_extension_other_seed_differs(seeded):
    with session_scope(seeded) as session:
        a = extend.plan_extension(session=session, study_name=STUDY, n=15, strategy="adaptive", seed=3,
                                  annotators=EXTRA)
        b = extend.plan_extension(session=session, study_name=STUDY, n=15, strategy="adaptive", seed=3,
                                  annotators=EXTRA)
        c = extend.plan_extension(session=session, study_name=STUDY, n=15, strategy="adaptive", seed=4,
                                  annotators=EXTRA)
        _, rows = _assignments(session)
    assert a.new == b.new
    assert a.new != c.new
    assert a.expected == c.expected  # the allocation is the same; only the draw changes
    assert len(rows) == 15 * 3  # planning wrote nothing (15 items x 3 people in the seeded study)


def test_adaptive_favours_items_where_the_target_rows_disagree(seeded):
    target = "static-domain/demo-judge-static-global/demo-judge"  # these two rows differ on 3 of 15 pairs
    with session_scope(seeded) as session:
        plan = extend.plan_extension(session=session, study_name=STUDY, n=10, strategy="adaptive", seed=1,
                                     target=target, annotators=EXTRA)
        _, judges, _ = agreement_inputs(session=session, study_name=STUDY)
        items = extend._items(session, session.exec(select(Study).where(Study.name == STUDY)).one())
    assert plan.target == ("static-domain/demo-judge", "static-global/demo-judge")
    va = judges[plan.target[0]].pairs.set_index(["qid", "lo", "hi"])["verdict"].to_dict()
    vb = judges[plan.target[1]].pairs.set_index(["qid", "lo", "hi"])["verdict"].to_dict()
    differ = {it.id for it in items if va.get(it.key) != vb.get(it.key)}
    assert len(differ) == 3
    same = [plan.expected[i] for i in plan.expected if i not in differ]
    # same-verdict items get only the 10% even share: 0.1 * 10 / 15 each
    assert same == pytest.approx([1 / 15] * 12)
    assert min(plan.expected[i] for i in differ) > 3 * max(same)
    assert sum(plan.expected.values()) == pytest.approx(10)
    assert set(plan.widths) == {"now", "uniform", "adaptive"}
    assert plan.widths["adaptive"] < plan.widths["uniform"] < plan.widths["now"]


def test_default_target_is_the_best_row_against_the_next(seeded):
    with session_scope(seeded) as session:
        plan = extend.plan_extension(session=session, study_name=STUDY, n=5, strategy="adaptive",
                                     annotators=EXTRA)
        votes, judges, _ = agreement_inputs(session=session, study_name=STUDY)
    from metaeval.stats.agreement_study import agreement_study

    rows = agreement_study(votes, judges, n_resamples=10).rows
    ranked = sorted(rows, key=lambda r: (-r["agreement"], r["judge"]))
    assert plan.target == (ranked[0]["judge"], ranked[1]["judge"])


def test_target_parsing_and_errors(seeded):
    labels = ["static-global/critic", "dynamic/critic", "static-domain/critic"]
    assert extend.parse_target("static-global/critic-static-domain/critic", labels) == \
        ("static-global/critic", "static-domain/critic")
    with pytest.raises(InputError, match="not METHOD/JUDGE-METHOD/JUDGE"):
        extend.parse_target("dynamic/critic-nobody", labels)
    with session_scope(seeded) as session:
        with pytest.raises(InputError, match="free annotator slots"):
            extend.plan_extension(session=session, study_name=STUDY, n=5, strategy="uniform")  # 3 of 3 used
        with pytest.raises(InputError, match="strategy must be"):
            extend.plan_extension(session=session, study_name=STUDY, n=5, strategy="greedy", annotators=EXTRA)
        with pytest.raises(InputError, match="unknown users"):
            extend.plan_extension(session=session, study_name=STUDY, n=5, strategy="uniform", annotators=["zed"])
        ann = users.get_user_by_username(session=session, username="ann1")
        with pytest.raises(PermissionDenied):
            extend.extend_study(session=session, actor=ann, study_name=STUDY, n=5, strategy="uniform",
                                annotators=EXTRA)


def test_cli_extend_dry_run_then_add(seeded, capsys):
    from annotate.commands.cli import main as annotate_main

    url = str(seeded.url)
    args = ["--db", url, "study", "extend", STUDY, "--votes", "12", "--strategy", "uniform", "--seed", "2",
            "--annotators", ",".join(EXTRA)]
    assert annotate_main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "assignments added: 12" in out and "dry run: nothing added" in out
    with session_scope(seeded) as session:
        assert len(_assignments(session)[1]) == 45
    assert annotate_main(args) == 0
    assert "added 12 assignments" in capsys.readouterr().out
    with session_scope(seeded) as session:
        assert len(_assignments(session)[1]) == 57
    assert annotate_main([*args, "--target", "nope-none"]) == 2
    assert "not METHOD/JUDGE-METHOD/JUDGE" in capsys.readouterr().err


def test_extension_estimate_is_the_design_based_estimate_of_the_recorded_draw(seeded):
    """Extend adaptively, judge every new assignment, and compare the service's estimate with
    metaeval.stats.allocation fed by hand: phase 1 = the votes exported before the extension,
    phase 2 = the choices made here, e = the recorded expected counts."""
    from annotate.services.annotate.judgments import submit_judgment
    from annotate.services.judges.bridge import votes_for_study
    from annotate.services.studies.extension_estimate import extension_estimate
    from metaeval.stats import allocation

    target = "static-domain/demo-judge-static-global/demo-judge"
    with session_scope(seeded) as session:
        res = users.get_user_by_username(session=session, username="res")
        assert extension_estimate(session=session, study_name=STUDY) is None
        before = [v for v in votes_for_study(session=session, study_name=STUDY) if v.get("criterion") is None]
        plan = extend.extend_study(session=session, actor=res, study_name=STUDY, n=10, strategy="adaptive",
                                   seed=2, target=target, annotators=EXTRA)
        study, rows = _assignments(session)
        new = sorted((a for a in rows if a.id >= study.settings["extensions"][-1]["assignment_ids"][0]),
                     key=lambda a: a.id)
        assert len(new) == 10
        canonical = {}
        for k, a in enumerate(new):
            choice = ("left", "right", "tie")[k % 3]
            person = session.get(User, a.annotator_id)
            submit_judgment(session=session, actor=person, assignment_id=a.id, choice=choice, elapsed_s=5.0,
                            instruction_version_no=1, content_revision=1, submit_token=f"ext-{k}")
            side = a.shown_left if choice == "left" else ({"a": "b", "b": "a"}[a.shown_left] if choice == "right"
                                                          else "tie")
            canonical.setdefault(a.item_id, []).append({"a": 1.0, "b": -1.0, "tie": 0.0}[side])
        got = extension_estimate(session=session, study_name=STUDY)
        _, judges, _ = agreement_inputs(session=session, study_name=STUDY)
        items = extend._items(session, study)
    va = judges[plan.target[0]].pairs.set_index(["qid", "lo", "hi"])["verdict"].to_dict()
    vb = judges[plan.target[1]].pairs.set_index(["qid", "lo", "hi"])["verdict"].to_dict()
    sign = {"model_a": 1.0, "model_b": -1.0, "tie": 0.0}
    phase1 = {}
    for v in before:
        phase1.setdefault((str(v["question_id"]), v["model_a"], v["model_b"]), []).append(sign[v["winner"]])
    d1 = [allocation.vote_differences(phase1.get(it.key, []), va[it.key], vb[it.key]) for it in items]
    d2 = [allocation.vote_differences(canonical.get(it.id, []), va[it.key], vb[it.key]) for it in items]
    zero = np.array([va[it.key] == vb[it.key] for it in items])
    e = np.array([plan.expected[it.id] for it in items])
    want = allocation.adaptive_estimate(d1, d2, e, zero)
    assert got["method"] == "design-based (HT difference)" and got["n_added_done"] == 10
    assert got["value"] == pytest.approx(want.value)
    assert got["ci"] == pytest.approx(list(want.ci))
    assert got["target"] == list(plan.target)
