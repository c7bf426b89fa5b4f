"""Study design: stratification, pairs, balance, counterbalancing, gold, qualification, seeds."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import Assignment, LLMModel, Response, StudyItem, User
from annotate.services.annotate.tasks import next_task
from annotate.services.core.errors import Conflict, InputError, PermissionDenied
from annotate.services.studies.design import StudyDesign, create_study, plan_study, set_gold_answer
from tests.fixtures.study_factory import grid_spec, make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")  # also run on PostgreSQL (tests/conftest.py)

ANN = ["ann1", "ann2", "ann3", "ann4", "ann5", "ann6", "ann7"]


@pytest.fixture()
def session(engine):
    with session_scope(engine) as s:
        yield s


@pytest.fixture()
def researcher(session) -> User:
    return make_users(session, ["res"], role="researcher")["res"]


def _items(session, study_id):
    return session.exec(select(StudyItem).where(StudyItem.study_id == study_id).order_by(StudyItem.id)).all()


def _assignments(session, study_id):
    return session.exec(select(Assignment).where(Assignment.study_id == study_id)).all()


def _model_of(session, response_id):
    resp = session.get(Response, response_id)
    return session.get(LLMModel, resp.model_id).name


def test_stratification_counts_and_shortfall_warning(session):
    # Sub A: 5 queries with two+ models; Sub B: 2 eligible + 1 with a single model (index 23);
    # Sub C: 4 eligible. N=3 -> A 3, B 2 (warning), C 3 = 8 queries; 23 is never chosen.
    spec = {
        ("D1", "Sub A"): {i: ["m1", "m2"] for i in range(1, 6)},
        ("D1", "Sub B"): {21: ["m1", "m3"], 22: ["m2", "m3"], 23: ["m1"]},
        ("D2", "Sub C"): {i: ["m1", "m2", "m3"] for i in range(31, 35)},
    }
    make_benchmark(session, spec)
    make_users(session, ANN[:3])
    plan = plan_study(session=session, design=StudyDesign(name="s", per_subdomain=3, overlap=2,
                                                          annotators=ANN[:3], seed=5))
    assert plan.per_subdomain == {"Sub A": 3, "Sub B": 2, "Sub C": 3}
    assert plan.n_queries == 8 and plan.n_items == 8
    assert plan.n_assignments == 16  # 8 items x K=2
    assert len(plan.warnings) == 1 and "Sub B" in plan.warnings[0] and "wanted 3" in plan.warnings[0]
    assert 23 not in {it.query_index for it in plan.items}
    assert {21, 22} <= {it.query_index for it in plan.items}


def test_two_different_models_in_canonical_order(session, researcher):
    ids = make_benchmark(session, grid_spec(4, 6, ["zeta", "alpha", "mid"]))
    make_users(session, ANN[:3])
    study = create_study(session=session, actor=researcher,
                         design=StudyDesign(name="s", per_subdomain=4, overlap=3, annotators=ANN[:3], seed=11))
    items = _items(session, study.id)
    assert len(items) == 16
    by_id = {v: k for k, v in ids.items()}
    for item in items:
        ma, mb = _model_of(session, item.response_a_id), _model_of(session, item.response_b_id)
        assert ma != mb
        assert ma < mb  # canonical: response_a belongs to the model whose name sorts first
        for rid in (item.response_a_id, item.response_b_id):
            assert session.get(Response, rid).query_id == item.query_id
        assert item.query_id in by_id


def test_given_model_pairs_only(session):
    make_benchmark(session, grid_spec(3, 5, ["a", "b", "c", "d"]))
    make_users(session, ANN[:2])
    plan = plan_study(session=session, design=StudyDesign(
        name="s", per_subdomain=5, overlap=1, annotators=ANN[:2], seed=3, model_pairs=[("b", "a"), ("c", "d")]))
    assert set(plan.per_model_pair) <= {"a vs b", "c vs d"}
    assert sum(plan.per_model_pair.values()) == 15


def test_assignments_balanced_and_overlap_distinct(session, researcher):
    # 8 subdomains x N=3 = 24 items, K=3 -> 72 assignments over 7 annotators:
    # 72 = 7*10 + 2 -> two annotators get 11, five get 10.
    make_benchmark(session, grid_spec(8, 4, ["m1", "m2"]))
    make_users(session, ANN)
    study = create_study(session=session, actor=researcher,
                         design=StudyDesign(name="s", per_subdomain=3, overlap=3, annotators=ANN, seed=2))
    rows = _assignments(session, study.id)
    assert len(rows) == 72
    per_user = Counter(a.annotator_id for a in rows)
    assert sorted(per_user.values()) == [10, 10, 10, 10, 10, 11, 11]
    per_item = defaultdict(list)
    for a in rows:
        per_item[a.item_id].append(a.annotator_id)
    assert all(len(v) == 3 and len(set(v)) == 3 for v in per_item.values())
    # queue positions are 0..n-1 for every annotator
    for uid in per_user:
        assert sorted(a.position for a in rows if a.annotator_id == uid) == list(range(per_user[uid]))


@pytest.mark.parametrize("k, allowed", [(5, {2, 3}), (4, {2}), (3, {1, 2}), (1, {0, 1})])
def test_left_right_counterbalanced_within_every_pair(session, researcher, k, allowed):
    make_benchmark(session, grid_spec(5, 4, ["m1", "m2", "m3"]))
    make_users(session, ANN)
    study = create_study(session=session, actor=researcher,
                         design=StudyDesign(name="s", per_subdomain=4, overlap=k, annotators=ANN, seed=9))
    per_item = defaultdict(list)
    for a in _assignments(session, study.id):
        per_item[a.item_id].append(a.shown_left)
    assert len(per_item) == 20
    n_a = [sides.count("a") for sides in per_item.values()]
    assert set(n_a) <= allowed  # floor(K/2) or ceil(K/2) annotators see response a on the left
    if k == 5:
        assert set(n_a) == {2, 3}  # both splits occur over 20 pairs (which one is random)
    assert all(len(s) == k for s in per_item.values())


def test_same_seed_same_study_other_seed_differs(tmp_path):
    def build(name: str, seed: int, db: str):
        engine = init_db(f"sqlite:///{tmp_path / db}")
        with session_scope(engine) as s:
            if not s.exec(select(User)).first():
                make_benchmark(s, grid_spec(6, 5, ["m1", "m2", "m3"]))
                make_users(s, ANN[:5])
                make_users(s, ["res"], role="researcher")
            res = s.exec(select(User).where(User.username == "res")).one()
            study = create_study(session=s, actor=res, design=StudyDesign(
                name=name, per_subdomain=2, overlap=3, annotators=ANN[:5], seed=seed, gold_rate=0.25,
                qualification_items=1))
            items = {it.id: it for it in _items(s, study.id)}
            names = {u.id: u.username for u in s.exec(select(User)).all()}
            out = sorted((items[a.item_id].query_id, items[a.item_id].response_a_id, items[a.item_id].response_b_id,
                          items[a.item_id].is_gold, items[a.item_id].is_qualification, names[a.annotator_id],
                          a.shown_left, a.position) for a in _assignments(s, study.id))
        engine.dispose()
        return out

    first = build("s1", 42, "one.db")
    again = build("s1", 42, "two.db")
    same_db_again = build("s2", 42, "one.db")
    other = build("s3", 43, "one.db")
    assert first == again == same_db_again
    assert first != other


def test_gold_pairs_at_the_set_rate(session, researcher):
    # 4 subdomains x N=4 = 16 real items; rate 0.2 -> round(0.2 * 16 / 0.8) = 4 gold items,
    # so gold is 4 / 20 = 20% of the items and of the K=3 assignments (12 / 60).
    make_benchmark(session, grid_spec(4, 10, ["m1", "m2"]))
    make_users(session, ANN[:5])
    study = create_study(session=session, actor=researcher, design=StudyDesign(
        name="s", per_subdomain=4, overlap=3, annotators=ANN[:5], seed=1, gold_rate=0.2))
    items = _items(session, study.id)
    gold = [it for it in items if it.is_gold]
    assert len(items) == 20 and len(gold) == 4
    real_queries = {it.query_id for it in items if not it.is_gold}
    assert not real_queries & {it.query_id for it in gold}  # gold pairs come from outside the sample
    rows = _assignments(session, study.id)
    gold_ids = {it.id for it in gold}
    assert len(rows) == 60 and sum(a.item_id in gold_ids for a in rows) == 12
    per_user_gold = Counter(a.annotator_id for a in rows if a.item_id in gold_ids)
    assert max(per_user_gold.values()) - min(per_user_gold.values()) <= 1  # 12 over 5: 3,3,2,2,2
    set_gold_answer(session=session, actor=researcher, item_id=gold[0].id, winner="b")
    assert session.get(StudyItem, gold[0].id).gold_winner == "b"
    with pytest.raises(Conflict):
        set_gold_answer(session=session, actor=researcher, item_id=items[0].id, winner="a")


def test_qualification_items_served_first(session, researcher):
    make_benchmark(session, grid_spec(3, 6, ["m1", "m2"]))
    users = make_users(session, ANN[:3])
    study = create_study(session=session, actor=researcher, design=StudyDesign(
        name="s", per_subdomain=2, overlap=2, annotators=ANN[:3], seed=4, qualification_items=2))
    items = _items(session, study.id)
    qual = {it.id for it in items if it.is_qualification}
    assert len(qual) == 2
    rows = _assignments(session, study.id)
    # 6 real items x K=2 = 12, plus 2 qualification items for each of the 3 annotators = 6
    assert len(rows) == 18
    for user in users.values():
        mine = sorted((a for a in rows if a.annotator_id == user.id), key=lambda a: a.position)
        assert {a.item_id for a in mine[:2]} == qual
        task = next_task(session=session, actor=user)
        assert task.is_qualification and task.position == 1


def test_design_errors_and_roles(session, researcher):
    make_benchmark(session, grid_spec(2, 3, ["m1", "m2"]))
    users = make_users(session, ANN[:2])
    with pytest.raises(InputError) as exc:
        plan_study(session=session, design=StudyDesign(name="s", per_subdomain=1, overlap=3, annotators=ANN[:2]))
    assert exc.value.field == "overlap"
    with pytest.raises(InputError) as exc:
        plan_study(session=session, design=StudyDesign(name="s", per_subdomain=1, overlap=1,
                                                       annotators=["ann1", "nobody"]))
    assert "nobody" in str(exc.value)
    with pytest.raises(InputError) as exc:
        plan_study(session=session, design=StudyDesign(name="s", per_subdomain=1, overlap=1, annotators=ANN[:2],
                                                       gold_rate=1.0))
    assert exc.value.field == "gold_rate"
    design = StudyDesign(name="s", per_subdomain=1, overlap=1, annotators=ANN[:2])
    with pytest.raises(PermissionDenied):
        create_study(session=session, actor=users["ann1"], design=design)
    create_study(session=session, actor=researcher, design=design)
    with pytest.raises(Conflict):
        create_study(session=session, actor=researcher, design=design)


def test_pointwise_study_items_are_single_responses(session, researcher):
    make_benchmark(session, grid_spec(2, 3, ["m1", "m2", "m3"]))
    make_users(session, ANN[:2])
    study = create_study(session=session, actor=researcher, design=StudyDesign(
        name="p", kind="pointwise", per_subdomain=2, overlap=2, annotators=ANN[:2], seed=1, models=["m1", "m3"]))
    items = _items(session, study.id)
    # 2 subdomains x 2 queries x 2 models (m1, m3) = 8 single-response items
    assert len(items) == 8
    assert all(it.response_b_id is None for it in items)
    assert {_model_of(session, it.response_a_id) for it in items} == {"m1", "m3"}
    assert study.settings["error_types"]  # default list stored with the study
