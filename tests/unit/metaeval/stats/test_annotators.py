"""Annotator competence: Dawid–Skene against a plain-Python EM written independently below,
weighted fits against explicitly duplicated data, hand-derived gold accuracy and flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metaeval.cli import main
from metaeval.stats.annotators import aggregate_labels, annotator_competence
from metaeval.stats.latent_class import chance_competence, competence, fit_latent_class

LETTER = {1: "model_a", 0: "tie", -1: "model_b"}


def _simulate(seed, n_items=60, random_voter=True):
    rng = np.random.default_rng(seed)
    truth = rng.choice([1, 0, -1], size=n_items, p=[0.4, 0.2, 0.4])
    acc = {"h1": 0.85, "h2": 0.8, "h3": 0.75, "h4": 0.8}
    people = [*acc, "rnd"] if random_voter else list(acc)
    votes = []
    for i in range(n_items):
        for p in people:
            if p == "rnd":
                o = int(rng.choice([1, 0, -1]))
            elif rng.random() < acc[p]:
                o = int(truth[i])
            else:
                o = int(rng.choice([x for x in (1, 0, -1) if x != truth[i]]))
            votes.append({"question_id": i, "model_a": "a", "model_b": "b", "winner": LETTER[o], "judge": p})
    return votes


def _reference_ds(items, workers, labels, k=3, alpha=0.01, iters=2000):
    """Dawid–Skene EM with dictionaries and loops: start from vote shares, M step with alpha
    pseudo-counts, E step by Bayes' rule."""
    n_i, n_j = max(items) + 1, max(workers) + 1
    by_item = {i: [] for i in range(n_i)}
    for i, j, lab in zip(items, workers, labels, strict=True):
        by_item[i].append((j, lab))
    post = {}
    for i, vs in by_item.items():
        c = [1e-9] * k
        for _, lab in vs:
            c[lab] += 1
        post[i] = [x / sum(c) for x in c]
    for _ in range(iters):
        pi = [alpha + sum(post[i][t] for i in post) for t in range(k)]
        pi = [x / sum(pi) for x in pi]
        conf = [[[alpha] * k for _ in range(k)] for _ in range(n_j)]
        for i, vs in by_item.items():
            for j, lab in vs:
                for t in range(k):
                    conf[j][t][lab] += post[i][t]
        conf = [[[x / sum(row) for x in row] for row in cj] for cj in conf]
        new = {}
        for i, vs in by_item.items():
            lp = [np.log(pi[t]) + sum(np.log(conf[j][t][lab]) for j, lab in vs) for t in range(k)]
            m = max(lp)
            e = [np.exp(x - m) for x in lp]
            new[i] = [x / sum(e) for x in e]
        delta = max(abs(new[i][t] - post[i][t]) for i in post for t in range(k))
        post = new
        if delta < 1e-12:
            break
    return np.array(pi), np.array(conf), np.array([post[i] for i in range(n_i)])


def _arrays(votes):
    qs = sorted({v["question_id"] for v in votes})
    ws = sorted({v["judge"] for v in votes})
    items = [qs.index(v["question_id"]) for v in votes]
    workers = [ws.index(v["judge"]) for v in votes]
    labels = [{"model_b": 0, "tie": 1, "model_a": 2}[v["winner"]] for v in votes]
    return np.array(items), np.array(workers), np.array(labels), ws


def test_dawid_skene_matches_plain_python_em():
    items, workers, labels, _ = _arrays(_simulate(1, n_items=40))
    fit = fit_latent_class(items, workers, labels, n_classes=3, tol=1e-12, max_iter=5000)
    pi, conf, post = _reference_ds(items.tolist(), workers.tolist(), labels.tolist())
    np.testing.assert_allclose(fit.prior[0], pi, atol=1e-6)
    np.testing.assert_allclose(fit.confusion[0], conf, atol=1e-6)
    np.testing.assert_allclose(fit.posterior[0], post, atol=1e-6)
    # competence = sum_k pi_k conf[k, k], computed here by hand from the reference
    assert competence(fit.prior, fit.confusion)[0] == pytest.approx(
        [sum(pi[t] * conf[j][t][t] for t in range(3)) for j in range(conf.shape[0])], abs=1e-6)


@pytest.mark.parametrize("model", ["dawid-skene", "mace"])
def test_weights_equal_duplicated_queries(model):
    # A bootstrap weight of 2 on a query must act like that query's votes appearing twice (as a
    # second copy of its items); weight 0 like the query being absent.
    votes = _simulate(2, n_items=30)
    items, workers, labels, _ = _arrays(votes)
    w_q = np.random.default_rng(0).integers(0, 3, size=30)
    w_q[0] = max(w_q[0], 1)  # keep worker ids dense in the duplicated copy below
    weighted = fit_latent_class(items, workers, labels, n_classes=3, model=model, weights=w_q[items][None],
                                tol=1e-12, max_iter=5000)
    dup_i, dup_w, dup_l = [], [], []
    next_id = 0
    for q in range(30):
        for _ in range(w_q[q]):
            sel = items == q
            dup_i += [next_id] * int(sel.sum())
            dup_w += workers[sel].tolist()
            dup_l += labels[sel].tolist()
            next_id += 1
    dup = fit_latent_class(np.array(dup_i), np.array(dup_w), np.array(dup_l), n_classes=3, model=model,
                           tol=1e-12, max_iter=5000)
    np.testing.assert_allclose(weighted.confusion[0], dup.confusion[0], atol=1e-6)
    np.testing.assert_allclose(weighted.prior[0], dup.prior[0], atol=1e-6)


def test_mace_competence_is_theta_plus_spam_hits():
    # MACE's confusion: theta on the diagonal plus (1 - theta) xi; with uniform prior pi = 1/3,
    # competence = theta + (1 - theta) * sum_k xi_k / 3 = theta + (1 - theta) / 3.
    items, workers, labels, _ = _arrays(_simulate(3, n_items=50))
    fit = fit_latent_class(items, workers, labels, n_classes=3, model="mace")
    th = fit.theta[0]
    assert competence(fit.prior, fit.confusion)[0] == pytest.approx(th + (1 - th) / 3, abs=1e-9)
    assert th[-1] < 0.3 < th[:-1].min()  # the random voter ("rnd", last) copies the truth least


def test_random_voter_flagged_honest_not_and_gold_accuracy():
    votes = _simulate(4, n_items=120)
    # gold: the first 10 pairs' known answer is "first model wins"; h1's hits counted by hand below
    gold = {(str(q), "a", "b"): 1 for q in range(10)}
    res = annotator_competence(votes, n_resamples=100, seed=1, gold=gold)
    a = res.annotators
    assert a["rnd"]["flagged"] and not any(a[h]["flagged"] for h in ("h1", "h2", "h3", "h4"))
    hits = sum(v["winner"] == "model_a" for v in votes if v["judge"] == "h1" and v["question_id"] < 10)
    assert a["h1"]["gold_accuracy"] == pytest.approx(hits / 10) and a["h1"]["gold_n"] == 10
    assert a["h1"]["n"] == 120 and a["h1"]["ci"][0] <= a["h1"]["competence"] <= a["h1"]["ci"][1]
    assert abs(a["rnd"]["competence"] - a["rnd"]["chance"]) < 0.1
    frame = res.frame()
    assert list(frame["annotator"]) == ["h1", "h2", "h3", "h4", "rnd"] and frame["flagged"].tolist()[-1]


def test_chance_competence_by_hand():
    # pi = (.2, .3, .5); a worker who always answers class 2: q = (0, 0, 1), chance = .5 = competence
    conf = np.zeros((1, 1, 3, 3))
    conf[..., 2] = 1.0
    pi = np.array([[0.2, 0.3, 0.5]])
    assert chance_competence(pi, conf)[0, 0] == pytest.approx(0.5)
    assert competence(pi, conf)[0, 0] == pytest.approx(0.5)


def test_leave_one_out_labels_by_hand():
    # Pair 1 gets votes a, a, b from h1, h2, h3; on ten more pairs all three agree, so all three
    # look equally reliable. Leaving out h3's "b" vote, the two others both say "a" -> label a;
    # with every vote, two "a" against one "b" from equally reliable people -> a.
    votes = [{"question_id": 1, "model_a": "a", "model_b": "b", "winner": w, "judge": h}
             for h, w in [("h1", "model_a"), ("h2", "model_a"), ("h3", "model_b")]]
    votes += [{"question_id": q, "model_a": "a", "model_b": "b", "winner": "model_a" if q % 2 else "model_b",
               "judge": h} for q in range(2, 12) for h in ("h1", "h2", "h3")]
    loo = aggregate_labels(votes, leave_one_out=True)
    first = loo[loo["qid"] == "1"]
    assert first.loc[first["rater"] == "h3", "loo_label"].item() == 1.0
    assert aggregate_labels(votes).set_index("qid").loc["1", "label"] == 1.0


def test_cli_json_shape_and_formats(tmp_path):
    p = tmp_path / "v.jsonl"
    p.write_text("".join(json.dumps(v) + "\n" for v in _simulate(5, n_items=40)), encoding="utf-8")
    out = tmp_path / "a.json"
    assert main(["annotators", "--votes", str(p), "--bootstrap", "30", "--format", "json", "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["model"] == "dawid-skene" and set(data["annotators"]) == {"h1", "h2", "h3", "h4", "rnd"}
    assert set(data["annotators"]["h1"]) >= {"competence", "ci", "flagged", "n", "gold_accuracy"}
    assert data["annotators"]["h1"]["gold_accuracy"] is None
    for fmt in ("markdown", "csv", "html"):
        o = tmp_path / f"a.{fmt}"
        assert main(["annotators", "--votes", str(p), "--bootstrap", "30", "--model", "mace", "--format", fmt,
                     "--output", str(o)]) == 0
        assert "rnd" in o.read_text(encoding="utf-8")


def test_agreement_against_majority_and_dawid_skene_labels():
    from metaeval.stats.agreement_study import agreement_study

    # Pairs q1..q3 (models a, b); people vote q1: a a b, q2: b b b, q3: a b tie.
    # Majority labels (split -> tie): q1 a, q2 b, q3 tie. The judge says a, a, tie.
    rows = [(1, "model_a", "h1"), (1, "model_a", "h2"), (1, "model_b", "h3"), (2, "model_b", "h1"),
            (2, "model_b", "h2"), (2, "model_b", "h3"), (3, "model_a", "h1"), (3, "model_b", "h2"), (3, "tie", "h3")]
    votes = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": h} for q, w, h in rows]
    judge = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": "j"}
             for q, w in [(1, "model_a"), (2, "model_a"), (3, "tie")]]
    per_vote = agreement_study(votes, {"j": judge}, n_resamples=50)
    # per vote: q1 2 of 3 match, q2 0 of 3, q3 1 of 3 -> 3/9
    assert per_vote.rows[0]["agreement"] == pytest.approx(3 / 9)
    maj = agreement_study(votes, {"j": judge}, n_resamples=50, human_label="majority")
    # against majority labels a, b, tie: q1 and q3 match -> 2 of 3 pairs; no ties: only q1, q2 -> 1/2
    assert maj.rows[0]["agreement"] == pytest.approx(2 / 3) and maj.rows[0]["n_votes"] == 3
    assert maj.rows[0]["agreement_no_ties"] == pytest.approx(1 / 2)
    # ceiling: each vote vs majority of the other two (a 1-1 split is a tie):
    # q1: h1 vs {a,b}=tie no, h2 no, h3 vs {a,a}=a no; q2: 3 of 3; q3: h1 vs {b,tie}=tie no, h2 no,
    # h3 vs {a,b}=tie yes -> 4/9
    assert maj.human["agreement"] == pytest.approx(4 / 9)
    assert maj.human["agreement_vote_pairs"] == per_vote.human["agreement"]
    ds = agreement_study(votes, {"j": judge}, n_resamples=50, human_label="dawid-skene")
    labels = aggregate_labels(votes)["label"].to_numpy()
    expected = np.mean(labels == np.array([1.0, 1.0, 0.0]))
    assert ds.rows[0]["agreement"] == pytest.approx(expected) and ds.settings["human_label"] == "dawid-skene"


def test_a_fit_without_signal_says_so_instead_of_flagging():
    """Each person gives one fixed answer whatever the pair (h1 always A, h2 always B, h3 always a
    tie): every label is independent of the item, so for each person P(label | true class) =
    P(label) and competence = sum_k pi_k q_k = chance, whatever the fitted prior. The model found
    no signal: the result says the fit collapsed, and no one is flagged or cleared."""
    from metaeval.report.annotators import render_annotators

    v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": h}
         for q in range(30) for h, w in (("h1", "model_a"), ("h2", "model_b"), ("h3", "tie"))]
    res = annotator_competence(v, n_resamples=20)
    data = res.to_json_dict()
    assert data["fit_collapsed"] is True
    assert all(a["flagged"] is None for a in data["annotators"].values())
    assert all(abs(a["competence"] - a["chance"]) < 1e-6 for a in data["annotators"].values())
    assert "fit collapsed" in render_annotators(res, fmt="markdown")
    assert [r.split(",")[7] for r in render_annotators(res, fmt="csv").splitlines()[1:]] == ["", "", ""]


def test_a_fit_with_signal_is_not_collapsed():
    v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": "model_a" if q % 2 else "model_b", "judge": h}
         for q in range(20) for h in ("h1", "h2", "h3")]
    data = annotator_competence(v, n_resamples=20).to_json_dict()
    assert data["fit_collapsed"] is False and all(a["flagged"] is False for a in data["annotators"].values())


def _bradley_terry_study(seed: int, n_pairs: int = 300) -> list[dict]:
    """No single true label: eight models with Bradley–Terry log-strengths, Davidson ties
    (P(first) : P(tie) : P(second) = e^(d/2) : 0.5 : e^(-d/2)), five honest people and a coin
    flipper, five votes per pair (about 250 votes per person)."""
    rng = np.random.default_rng(seed)
    strengths = np.array([1.6, 1.1, 0.8, 0.4, 0.1, -0.3, -0.8, -1.4])
    people = ["h1", "h2", "h3", "h4", "h5", "coin"]
    votes = []
    for q in range(n_pairs):
        a, b = rng.choice(8, size=2, replace=False)
        d = strengths[a] - strengths[b]
        p = np.array([np.exp(d / 2), 0.5, np.exp(-d / 2)])
        for person in rng.choice(people, size=5, replace=False):
            o = int(rng.choice([1, -1])) if person == "coin" else int(rng.choice([1, 0, -1], p=p / p.sum()))
            votes.append({"question_id": q, "model_a": f"m{a}", "model_b": f"m{b}",
                          "winner": {1: "model_a", 0: "tie", -1: "model_b"}[o], "judge": person})
    return votes


def test_flags_hold_when_pairs_have_preferences_not_true_labels():
    """With Bradley–Terry preferences many pairs are close calls, and a latent-class model that
    assumes one true label rates honest people near chance. The flag must still pick out only
    the coin flipper."""
    for seed in (1, 2):
        a = annotator_competence(_bradley_terry_study(seed), n_resamples=200, seed=0).annotators
        assert a["coin"]["flagged"] is True
        assert [h for h in ("h1", "h2", "h3", "h4", "h5") if a[h]["flagged"]] == []


def test_signal_by_hand():
    """Pair 1: votes h1 +1, h2 +1, h3 -1; pair 2: h1 -1, h2 -1, h3 0. For h1 the others' means
    are (1 - 1) / 2 = 0 on pair 1 and (-1 + 0) / 2 = -0.5 on pair 2: signal = (1*0 + (-1)(-0.5)) / 2
    = 0.25. For h3: others' means 1 and -1: (-1*1 + 0*(-1)) / 2 = -0.5."""
    w = {1: "model_a", -1: "model_b", 0: "tie"}
    v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w[o], "judge": h}
         for q, row in ((1, (1, 1, -1)), (2, (-1, -1, 0))) for h, o in zip(("h1", "h2", "h3"), row, strict=True)]
    a = annotator_competence(v, n_resamples=0).annotators
    assert a["h1"]["signal"] == pytest.approx(0.25) and a["h3"]["signal"] == pytest.approx(-0.5)
