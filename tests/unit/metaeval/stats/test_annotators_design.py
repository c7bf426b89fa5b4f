"""Annotator competence after an adaptive extension: the design-weighted latent-class fit.

Expected values come from a hand-worked study and from a weighted Dawid–Skene EM written
independently below (loops over votes, its own design weights 1 / (k_i + e_i)), never from the
code under test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from metaeval.cli import main
from metaeval.stats.allocation import expected_counts, systematic_counts
from metaeval.stats.annotators import annotator_competence
from metaeval.stats.design import vote_design_frame

LETTER = {1: "model_a", 0: "tie", -1: "model_b"}


def _row(q, winner, person, rnd, e, *, strategy="adaptive"):
    return {"question_id": q, "model_a": "a", "model_b": "b", "winner": winner, "judge": person,
            "design_round": rnd, "design_strategy": strategy if rnd else "fixed",
            "design_expected": e if rnd else None, "design_round_votes": 1 if rnd else None,
            "design_last_expected": e}


# q1: round 0 h1, h2, h3 and x all say "a wins"; the adaptive round drew no vote there (e = 2).
# q2: round 0 h1, h2, h3 say "a wins"; the adaptive round (e = 0.5) drew x, who says "b wins".
HAND = [_row(1, "model_a", p, 0, 2.0) for p in ("h1", "h2", "h3", "x")] + \
       [_row(2, "model_a", p, 0, 0.5) for p in ("h1", "h2", "h3")] + [_row(2, "model_b", "x", 1, 0.5)]


def test_design_weights_lower_the_competence_of_a_person_seen_mostly_on_a_chosen_pair():
    """By hand. The three anchors agree on both pairs, so each pair's true class is "a wins"
    with posterior ~1 and the class prior is ~(0, 0, 1) (0.99 after the 0.01 pseudo-counts).
    x agrees on q1 and disagrees on q2, so x's competence ~ x's weighted share of agreeing votes.
    Pooled: 1 of 2 -> 1/2. Design weights 1 / (k_i + e_i): q1 1 / (4 + 2) = 1/6, q2
    1 / (3 + 0.5) = 2/7, so the share is (1/6) / (1/6 + 2/7) = 7/19 = 0.368: lower, because the
    extension chose q2 and so x's disagreement there stands for fewer pairs.
    (Pseudo-counts move both by < 0.002: 0.99 * 1.01/2.03 + 0.01/3 = 0.496 pooled.)"""
    pooled = annotator_competence(HAND, n_resamples=0)
    design = annotator_competence(HAND, n_resamples=0, design=vote_design_frame(enumerate(HAND, 1)))
    assert pooled.annotators["x"]["competence"] == pytest.approx(0.5, abs=0.005)
    assert design.annotators["x"]["competence"] == pytest.approx(7 / 19, abs=0.005)
    assert pooled.settings["estimator"] == "pooled"
    assert design.settings["estimator"] == "design-based"
    # the signal (mean of x's vote times the others' mean) stays pooled: (1 * 1 + (-1) * 1) / 2 = 0
    assert design.annotators["x"]["signal"] == pytest.approx(0.0)


def test_after_an_extension_the_signal_pairs_a_vote_with_its_own_and_earlier_rounds_only():
    """By hand. q1: round 0 x and h1 both say "a" (no split: the adaptive round, e = 0.2, drew no
    vote). q2: round 0 x says "a", h1 "b" (a split: the round drew h2 and h3, both "a").
    Pooled, x's signal = mean of vote x others' mean = (1 * 1 + 1 * (-1 + 1 + 1) / 3) / 2 = 2/3:
    x looks informative only because x's own disagreement brought the extra votes that agree with
    x. Per round: x's round-0 vote on q2 meets h1 alone: (1 * 1 + 1 * (-1)) / 2 = 0. h2's round-1
    vote meets every vote of rounds 0-1: others x, h1, h3 -> 1 * (1 - 1 + 1) / 3 = 1/3 both ways."""
    rows = [_row(1, "model_a", "x", 0, 0.2), _row(1, "model_a", "h1", 0, 0.2),
            _row(2, "model_a", "x", 0, 2.0), _row(2, "model_b", "h1", 0, 2.0),
            _row(2, "model_a", "h2", 1, 2.0), _row(2, "model_a", "h3", 1, 2.0)]
    pooled = annotator_competence(rows, n_resamples=0).annotators
    design = annotator_competence(rows, n_resamples=0, design=vote_design_frame(enumerate(rows, 1))).annotators
    assert pooled["x"]["signal"] == pytest.approx(2 / 3)
    assert design["x"]["signal"] == pytest.approx(0.0)
    assert pooled["h2"]["signal"] == pytest.approx(1 / 3)
    assert design["h2"]["signal"] == pytest.approx(1 / 3)


def _reference_weighted_ds(items, workers, labels, w, init, alpha=0.01, iters=4000):
    """Weighted Dawid–Skene pseudo-likelihood EM with loops over votes: M step pi_t = sum_i
    post_it (+ alpha), conf[j, t, l] = sum of w_v post_{i_v t} over j's votes labelled l
    (+ alpha); E step log post_it = log pi_t + sum_v w_v log conf[j_v, t, l_v]."""
    n_i, n_j = max(items) + 1, max(workers) + 1
    post = np.array(init, dtype=float)
    for _ in range(iters):
        pi = post.sum(axis=0) + alpha
        pi /= pi.sum()
        conf = np.full((n_j, 3, 3), alpha)
        for i, j, lab, wv in zip(items, workers, labels, w, strict=True):
            conf[j, :, lab] += wv * post[i]
        conf /= conf.sum(axis=2, keepdims=True)
        lp = np.tile(np.log(pi), (n_i, 1))
        for i, j, lab, wv in zip(items, workers, labels, w, strict=True):
            lp[i] += wv * np.log(conf[j, :, lab])
        new = np.exp(lp - lp.max(axis=1, keepdims=True))
        new /= new.sum(axis=1, keepdims=True)
        done = np.abs(new - post).max() < 1e-13
        post = new
        if done:
            break
    return (pi[None, :] * np.diagonal(conf, axis1=1, axis2=2)).sum(axis=1), post


def _label_study(seed: int, n_items: int = 40) -> list[dict]:
    """One true label per pair, four people of known accuracy, an adaptive round (to the pairs
    whose round-0 votes split) with its design fields."""
    rng = np.random.default_rng(seed)
    acc = {"h1": 0.9, "h2": 0.8, "h3": 0.7, "h4": 0.75}
    truth = rng.choice([1, 0, -1], size=n_items, p=[0.4, 0.2, 0.4])

    def vote(i, p):
        return int(truth[i]) if rng.random() < acc[p] else int(rng.choice([x for x in (1, 0, -1) if x != truth[i]]))

    first = {i: {p: vote(i, p) for p in ("h1", "h2")} for i in range(n_items)}
    split = np.array([float(len(set(v.values())) > 1) for v in first.values()])
    e = expected_counts(split, np.full(n_items, 2), 30)
    m = systematic_counts(e, rng)
    rows = [_row(i, LETTER[o], p, 0, float(e[i])) | {"question_id": i} for i in range(n_items)
            for p, o in first[i].items()]
    for i in range(n_items):
        for p in rng.choice(["h3", "h4"], size=int(m[i]), replace=False):
            rows.append(_row(i, LETTER[vote(i, p)], str(p), 1, float(e[i])) | {"question_id": i})
    return rows


def test_design_fit_matches_an_independent_weighted_em():
    rows = _label_study(3)
    qs = sorted({r["question_id"] for r in rows})
    ws = sorted({r["judge"] for r in rows})
    items = [qs.index(r["question_id"]) for r in rows]
    workers = [ws.index(r["judge"]) for r in rows]
    labels = [{"model_b": 0, "tie": 1, "model_a": 2}[r["winner"]] for r in rows]
    # design weights by hand: k_i round-0 votes (2 here) plus the recorded e_i, inverted, scaled to the vote count
    k = {i: sum(1 for r in rows if r["question_id"] == i and r["design_round"] == 0) for i in qs}
    raw = np.array([1.0 / (k[r["question_id"]] + r["design_last_expected"]) for r in rows])
    w = raw * len(rows) / raw.sum()
    # the fit starts from the pooled fit (vote shares, then unweighted EM), as documented
    shares = np.full((len(qs), 3), 1e-9)
    for i, lab in zip(items, labels, strict=True):
        shares[i, lab] += 1
    _, pooled_post = _reference_weighted_ds(items, workers, labels, np.ones(len(rows)),
                                            shares / shares.sum(axis=1, keepdims=True))
    ref, _ = _reference_weighted_ds(items, workers, labels, w, pooled_post)
    res = annotator_competence(rows, n_resamples=0, design=vote_design_frame(enumerate(rows, 1)))
    got = [res.annotators[name]["competence"] for name in ws]
    assert got == pytest.approx(ref.tolist(), abs=1e-4)
    pooled = annotator_competence(rows, n_resamples=0)
    assert [pooled.annotators[name]["competence"] for name in ws] != pytest.approx(ref.tolist(), abs=1e-3)


def test_bootstrap_refits_use_the_design_weights():
    """Every resample refits with (resample count x design weight): the intervals differ from the
    pooled ones on the same seed, and each contains its own point estimate."""
    rows = _label_study(5)
    design = vote_design_frame(enumerate(rows, 1))
    a = annotator_competence(rows, n_resamples=60, seed=1, design=design).annotators
    b = annotator_competence(rows, n_resamples=60, seed=1).annotators
    assert any(a[p]["ci"] != b[p]["ci"] for p in a)
    for p in a:
        assert a[p]["ci"][0] <= a[p]["competence"] + 1e-9 and a[p]["competence"] <= a[p]["ci"][1] + 1e-9


def _hard_easy_study(seed: int, adaptive: bool) -> list[dict]:
    """One true label per pair, but half the pairs easy (honest people right with probability 0.9)
    and half hard (0.55), unlike the model's one confusion matrix per person; seven people, three
    round-0 votes per pair, then 450 votes: adaptive (to the pairs whose round-0 votes split, so
    mostly hard ones) or, for the twin, spread evenly (a fixed design, same round 0)."""
    rng = np.random.default_rng(seed)
    n, people = 250, [f"h{i}" for i in range(7)]
    truth = rng.choice([1, 0, -1], size=n, p=[0.4, 0.2, 0.4])
    acc = np.where(rng.random(n) < 0.5, 0.9, 0.55)

    def vote(q):
        return int(truth[q]) if rng.random() < acc[q] else int(rng.choice([x for x in (1, 0, -1) if x != truth[q]]))

    done = [[str(x) for x in rng.choice(people, 3, replace=False)] for _ in range(n)]
    first = [[vote(q) for _ in done[q]] for q in range(n)]
    score = np.array([np.std(v) for v in first]) if adaptive else np.ones(n)
    e = expected_counts(score, np.full(n, 4), 450)
    m = systematic_counts(e, rng)
    rows = []
    for q in range(n):
        rows += [_row(q, LETTER[o], p, 0, float(e[q])) for p, o in zip(done[q], first[q], strict=True)]
        for p in rng.choice([p for p in people if p not in done[q]], int(m[q]), replace=False):
            rows.append(_row(q, LETTER[vote(q)], str(p), 1, float(e[q]), strategy="adaptive" if adaptive else "uniform"))
    return rows


def test_design_weights_undo_much_of_the_pull_of_an_adaptive_round():
    """The reference is the twin study whose extension did not look at the votes (its pooled fit is
    the fixed-design figure). The adaptive round puts most votes on hard pairs, so the pooled fit
    pulls honest people's competence down from the twin's; the design-weighted fit lands closer to
    the twin's (it overshoots a little: the weights are not exactly unbiased). Honest people only:
    with a coin flipper among them the weighted fit overshoots more (bench/annotator_design.py
    --world label), so this checks the direction in this world, not a general guarantee."""
    pooled, design, twin = [], [], []
    for seed in range(10):
        rows = _hard_easy_study(seed, adaptive=True)
        plain = [{k: v for k, v in r.items() if not k.startswith("design_")} for r in rows]
        pooled.append(np.mean([a["competence"] for a in annotator_competence(plain, n_resamples=0).annotators.values()]))
        fit = annotator_competence(rows, n_resamples=0, design=vote_design_frame(enumerate(rows, 1)))
        design.append(np.mean([a["competence"] for a in fit.annotators.values()]))
        fixed = annotator_competence(_hard_easy_study(seed, adaptive=False), n_resamples=0)
        twin.append(np.mean([a["competence"] for a in fixed.annotators.values()]))
    pull, left = np.mean(pooled) - np.mean(twin), np.mean(design) - np.mean(twin)
    assert pull < -0.02
    assert abs(left) < abs(pull)


def test_a_design_that_does_not_match_the_votes_is_refused():
    design = vote_design_frame(enumerate(HAND, 1))
    with pytest.raises(ValueError, match="design does not match"):
        annotator_competence(HAND[:-1], n_resamples=0, design=design)


def _bt_adaptive_study(seed: int, path) -> tuple[list[dict], list[dict]]:
    """A world unlike the model: no true label, Bradley–Terry preferences with Davidson ties over
    eight models spread like a leaderboard, six honest people and a coin flipper; round 0 gives
    three votes per pair, then an adaptive round puts 450 more votes mostly on the pairs whose
    round-0 votes split (allocation.expected_counts + systematic_counts, as `study extend` does).
    Writes the votes with their design fields (as `annotate export votes`) and without them."""
    rng = np.random.default_rng(seed)
    strengths = np.array([1.6, 1.1, 0.8, 0.4, 0.1, -0.3, -0.8, -1.4])
    people = ["h1", "h2", "h3", "h4", "h5", "h6", "coin"]
    n_pairs = 250
    pairs, first = [], []
    for q in range(n_pairs):
        a, b = rng.choice(8, size=2, replace=False)
        d = strengths[a] - strengths[b]
        p = np.array([np.exp(d / 2), 0.5, np.exp(-d / 2)])
        pairs.append((q, a, b, p / p.sum()))

    def vote(q, person):
        _, _, _, p = pairs[q]
        return int(rng.choice([1, -1])) if person == "coin" else int(rng.choice([1, 0, -1], p=p))

    done = {}
    for q in range(n_pairs):
        done[q] = list(rng.choice(people, size=3, replace=False))
        first.append([vote(q, person) for person in done[q]])
    spread = np.array([np.std(v) for v in first])
    e = expected_counts(spread, np.full(n_pairs, len(people) - 3), 450)
    m = systematic_counts(e, rng)
    rows = []
    for q, a, b, _ in pairs:
        base = {"question_id": q, "model_a": f"m{a}", "model_b": f"m{b}", "design_last_expected": float(e[q])}
        for person, o in zip(done[q], first[q], strict=True):
            rows.append(base | {"winner": LETTER[o], "judge": str(person), "design_round": 0,
                                "design_strategy": "fixed"})
        free = [p for p in people if p not in done[q]]
        for person in rng.choice(free, size=int(m[q]), replace=False):
            rows.append(base | {"winner": LETTER[vote(q, person)], "judge": str(person), "design_round": 1,
                                "design_strategy": "adaptive", "design_expected": float(e[q]),
                                "design_round_votes": int(m.sum())})
    plain = [{k: v for k, v in r.items() if not k.startswith("design_")} for r in rows]
    return rows, plain


def _cli(rows, path) -> dict:
    with path.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    out = path.with_suffix(".json")
    assert main(["annotators", "--votes", str(path), "--bootstrap", "100", "--format", "json",
                 "--output", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_cli_on_a_simulated_adaptive_study_uses_the_design(tmp_path):
    # One study; over 40 such studies (bench figures in docs/metaeval_statistics.md) the flag
    # with the per-round signal caught the coin flipper far more often than the pooled one.
    rows, plain = _bt_adaptive_study(1, tmp_path)
    design = _cli(rows, tmp_path / "design.jsonl")
    pooled = _cli(plain, tmp_path / "plain.jsonl")
    assert design["settings"]["estimator"] == "design-based"
    assert pooled["settings"]["estimator"] == "pooled"
    assert "design_note" not in design["settings"]
    honest = ["h1", "h2", "h3", "h4", "h5", "h6"]
    # the extension's votes went to split pairs, so the fits differ for every honest person
    assert all(abs(design["annotators"][h]["competence"] - pooled["annotators"][h]["competence"]) > 1e-4
               for h in honest)
    # the weighted fit keeps the classes' meaning: honest people above chance, the coin flipper flagged
    assert all(design["annotators"][h]["excess"] > 0 for h in honest)
    assert design["annotators"]["coin"]["flagged"] is True
    assert [h for h in honest if design["annotators"][h]["flagged"]] == []
    frame = pd.DataFrame(design["annotators"]).T
    assert (frame["n"].astype(int) >= 100).all()
