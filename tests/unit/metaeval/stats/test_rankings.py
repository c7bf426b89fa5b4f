"""Bradley–Terry rankings: hand-derived cases, then choix, scipy.optimize and an MM algorithm as
independent fits, and a bootstrap recomputed from scratch with the documented seed rule."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.stats import kendalltau, spearmanr

from metaeval.cli import main
from metaeval.stats._util import UndefinedStatisticWarning
from metaeval.stats.bootstrap import cluster_weights
from metaeval.stats.bradley_terry import fit_bradley_terry, mle_exists, to_elo, win_matrix
from metaeval.stats.rank_agreement import kendall_tau_b, pair_order_agreement, spearman
from metaeval.stats.rankings import rankings_study, ranks_of

choix = pytest.importorskip("choix")

FIX = Path(__file__).resolve().parents[3] / "fixtures"


def _votes(rows):
    """rows: (question_id, model_a, model_b, winner letter 'a'|'b'|'t', judge)."""
    w = {"a": "model_a", "b": "model_b", "t": "tie"}
    return [{"question_id": q, "model_a": x, "model_b": y, "winner": w[r], "judge": j} for q, x, y, r, j in rows]


# ------------------------------------------------------------------ hand-derived fits

def test_two_models_with_a_tie_by_hand():
    # a beats b twice and they tie once: W[a,b] = 2 + 0.5, W[b,a] = 0.5. The MLE solves
    # sigma(d) = 2.5 / 3, so d = ln(2.5 / 0.5) = ln 5 and centred s_a = ln(5) / 2 = 0.804719.
    w = win_matrix(np.array([0, 0, 0]), np.array([1, 1, 1]), np.array([1, 1, 0]), 2)
    assert w.tolist() == [[0.0, 2.5], [0.5, 0.0]]
    s = fit_bradley_terry(w)
    assert s == pytest.approx([math.log(5) / 2, -math.log(5) / 2], abs=1e-9)


def test_chain_of_three_by_hand():
    # a-b: 2 wins to 1; b-c: 2 to 1; a and c never meet. The likelihood splits into a term in
    # s_a - s_b and one in s_b - s_c, each maximised at ln 2: s = (ln 2, 0, -ln 2) after centring.
    w = np.array([[0, 2, 0], [1, 0, 2], [0, 1, 0]], dtype=float)
    assert fit_bradley_terry(w) == pytest.approx([math.log(2), 0.0, -math.log(2)], abs=1e-9)


def test_mle_exists_is_strong_connectivity():
    cycle = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)        # a>b>c>a: connected
    top = np.array([[0, 1, 1], [0, 0, 1], [0, 1, 0]], dtype=float)          # a never loses
    groups = np.zeros((4, 4))
    groups[0, 1] = groups[1, 0] = groups[2, 3] = groups[3, 2] = 1.0
    groups[0, 2] = 1.0                                                       # {a,b} beat {c,d}, never lose to them
    assert mle_exists(np.stack([cycle, top])).tolist() == [True, False]
    assert mle_exists(groups) is False
    with pytest.raises(ValueError, match="not finite"):
        fit_bradley_terry(top)


def _scipy_fit(w, prior=0.0):
    """Direct maximisation of the (penalised) log-likelihood with scipy, written independently."""
    m = w.shape[0]

    def nll(x):
        s = x
        ll = 0.0
        for i in range(m):
            for j in range(m):
                if i != j and w[i, j]:
                    ll += w[i, j] * (s[i] - np.logaddexp(s[i], s[j]))
            # prior: half a win and half a loss against a reference of strength 0
            ll += prior * (0.5 * (s[i] - np.logaddexp(s[i], 0.0)) + 0.5 * (0.0 - np.logaddexp(s[i], 0.0)))
        return -ll

    res = minimize(nll, np.zeros(m), method="BFGS", options={"gtol": 1e-10})
    return res.x - res.x.mean()


def _mm_fit(w, iters=20000):
    """Hunter's (2004) MM iteration p_i <- W_i / sum_j N_ij / (p_i + p_j), on strengths p = exp(s)."""
    n = w + w.T
    p = np.ones(w.shape[0])
    for _ in range(iters):
        p = w.sum(axis=1) / (n / (p[:, None] + p[None, :])).sum(axis=1)
        p /= np.exp(np.log(p).mean())
    s = np.log(p)
    return s - s.mean()


def _random_comparisons(rng, m=5, n=120):
    lo = rng.integers(0, m, n)
    hi = (lo + rng.integers(1, m, n)) % m
    true = np.linspace(-1, 1, m)
    p = 1 / (1 + np.exp(-(true[lo] - true[hi])))
    u = rng.random(n)
    o = np.where(u < 0.15, 0, np.where(u < 0.15 + 0.85 * p, 1, -1))
    return lo, hi, o


def test_fit_matches_choix_scipy_and_mm():
    rng = np.random.default_rng(3)
    lo, hi, o = _random_comparisons(rng)
    w = win_matrix(lo, hi, o, 5)
    assert mle_exists(w)
    ours = fit_bradley_terry(w)
    # choix takes (winner, loser) tuples; doubling the data (a win -> two tuples, a tie -> one
    # each way) encodes half wins and leaves the MLE unchanged.
    data = []
    for a, b, x in zip(lo, hi, o, strict=True):
        data += [(a, b), (a, b)] if x > 0 else [(b, a), (b, a)] if x < 0 else [(a, b), (b, a)]
    ref = choix.opt_pairwise(5, data, alpha=0.0, tol=1e-12)
    assert ours == pytest.approx(ref - ref.mean(), abs=1e-5)
    assert ours == pytest.approx(_scipy_fit(w), abs=1e-5)
    assert ours == pytest.approx(_mm_fit(w), abs=1e-6)


def test_prior_fit_matches_scipy_on_penalised_likelihood():
    top = np.array([[0, 2, 1], [0, 0, 1], [0, 1, 0]], dtype=float)  # a never loses: no finite MLE
    assert fit_bradley_terry(top, prior=1.0) == pytest.approx(_scipy_fit(top, prior=1.0), abs=1e-5)


def test_batched_fit_equals_one_by_one():
    rng = np.random.default_rng(5)
    stack = np.stack([win_matrix(*_random_comparisons(rng), 5) for _ in range(6)])
    together = fit_bradley_terry(stack, prior=np.array([0, 1, 0, 1, 0, 2.0]))
    for k in range(6):
        assert together[k] == pytest.approx(fit_bradley_terry(stack[k], prior=[0, 1, 0, 1, 0, 2.0][k]), abs=1e-9)


# ------------------------------------------------------------------ rank agreement

def test_rank_agreement_matches_scipy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(30, 6)).astype(float)  # many ties
    y = rng.integers(0, 4, size=(30, 6)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tau = [kendalltau(a, b).statistic for a, b in zip(x, y, strict=True)]
        rho = [spearmanr(a, b).statistic for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(kendall_tau_b(x, y), tau, atol=1e-12)
    np.testing.assert_allclose(spearman(x, y), rho, atol=1e-12)
    # pair order by hand: x = [1, 2, 3], y = [1, 3, 2]: pairs (0,1) and (0,2) agree, (1,2) does not
    assert pair_order_agreement(np.array([[1.0, 2, 3]]), np.array([[1.0, 3, 2]]))[0] == pytest.approx(2 / 3)


def test_ranks_and_elo():
    assert ranks_of(np.array([[0.2, 0.9, -1.1, 0.2]])).tolist() == [[2, 1, 4, 2]]
    # 400 / ln 10 * ln 10 + 1000 = 1400
    assert float(to_elo(math.log(10))) == pytest.approx(1400.0)


# ------------------------------------------------------------------ the study

def _rich_votes():
    """Every query holds a full cycle of results among a, b, c, so every bootstrap resample has a
    finite MLE; extra votes make a the strongest."""
    rows = []
    for q in range(8):
        rows += [(q, "a", "b", "a", "h1"), (q, "a", "b", "b", "h2"), (q, "b", "c", "a", "h1"),
                 (q, "b", "c", "b", "h2"), (q, "a", "c", "a", "h1"), (q, "a", "c", "b", "h2")]
        rows += [(q, "a", "b", "a" if q % 3 else "t", "h3"), (q, "c", "b", "b" if q % 2 else "a", "h3")]
    return _votes(rows)


def _judge_votes():
    rows = []
    for q in range(8):
        rows += [(q, "a", "b", "a", "j"), (q, "b", "a", "a", "j"), (q, "b", "c", "a", "j"), (q, "c", "b", "a", "j"),
                 (q, "a", "c", "b" if q % 2 else "a", "j"), (q, "c", "a", "a", "j")]
    return _votes(rows)


def _manual_fit(rows, weights_by_q):
    """Win matrix by a loop over votes, weighted by how often each query was drawn, then scipy."""
    models = ["a", "b", "c"]
    w = np.zeros((3, 3))
    for v in rows:
        i, j = models.index(v["model_a"]), models.index(v["model_b"])
        c = weights_by_q[v["question_id"]]
        if v["winner"] == "model_a":
            w[i, j] += c
        elif v["winner"] == "model_b":
            w[j, i] += c
        else:
            w[i, j] += c / 2
            w[j, i] += c / 2
    return _scipy_fit(w)


def test_study_point_interval_and_seed_rule_recomputed_from_scratch():
    human, judge = _rich_votes(), _judge_votes()
    b, seed = 40, 7
    res = rankings_study(human, {"j": judge}, n_resamples=b, seed=seed)
    # seed rule of metaeval agreement: default_rng(seed); queries numbered by first appearance
    qids = list(dict.fromkeys(v["question_id"] for v in human))
    wts = cluster_weights(len(qids), b, rng=np.random.default_rng(seed))
    h_reps = np.array([_manual_fit(human, dict(zip(qids, wt, strict=True))) for wt in wts])
    j_reps = np.array([_manual_fit(judge, dict(zip(qids, wt, strict=True))) for wt in wts])
    h_point = _manual_fit(human, dict.fromkeys(qids, 1.0))
    models = res.rankings["human"]["models"]
    for k, m in enumerate(["a", "b", "c"]):
        assert models[m]["strength"] == pytest.approx(h_point[k], abs=1e-5)
        assert models[m]["ci"] == pytest.approx(np.quantile(h_reps[:, k], [0.025, 0.975]).tolist(), abs=1e-5)
        assert models[m]["elo"] == pytest.approx(400 / math.log(10) * h_point[k] + 1000, abs=1e-3)
    assert list(models) == [m for _, m in sorted(zip(-h_point, ["a", "b", "c"], strict=True))]
    assert models["a"]["rank"] == 1 and models["a"]["n"] == 8 * 5  # a in 2+2+1 votes per query
    ranks = 1 + (h_reps[:, None, :] > h_reps[:, :, None]).sum(axis=2)
    for k, m in enumerate(["a", "b", "c"]):
        lo, hi = np.quantile(ranks[:, k], 0.025, method="lower"), np.quantile(ranks[:, k], 0.975, method="higher")
        assert models[m]["rank_ci"] == [int(lo), int(hi)]
    # human vs judge: scipy's kendalltau / spearmanr on each resample's strengths
    vs = res.vs_human["j"]
    j_point = _manual_fit(judge, dict.fromkeys(qids, 1.0))
    assert vs["kendall_tau_b"]["value"] == pytest.approx(kendalltau(h_point, j_point).statistic)
    assert vs["spearman"]["value"] == pytest.approx(spearmanr(h_point, j_point).statistic)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        taus = np.array([kendalltau(a, c).statistic for a, c in zip(h_reps, j_reps, strict=True)])
    taus = taus[~np.isnan(taus)]
    assert vs["kendall_tau_b"]["ci"] == pytest.approx(np.quantile(taus, [0.025, 0.975]).tolist(), abs=1e-9)
    pairs = [(0, 1), (0, 2), (1, 2)]
    po = [np.mean([np.sign(h[i] - h[j]) == np.sign(c[i] - c[j]) for i, j in pairs])
          for h, c in zip(h_reps, j_reps, strict=True)]
    assert vs["pair_order_agreement"]["ci"] == pytest.approx(np.quantile(po, [0.025, 0.975]).tolist(), abs=1e-9)


def test_model_with_only_wins_warns_and_uses_the_prior():
    rows = [(1, "a", "b", "a", "h1"), (1, "a", "c", "a", "h1"), (2, "b", "c", "a", "h1"), (2, "c", "b", "a", "h2")]
    with pytest.warns(UndefinedStatisticWarning, match="only wins or only losses: a"):
        res = rankings_study(_votes(rows), {}, n_resamples=20, prior=1.0)
    part = res.rankings["human"]
    assert part["finite_mle"] is False and part["no_finite_mle"] == ["a"] and part["prior_virtual_ties"] == 1.0
    w = np.array([[0, 1, 1], [0, 0, 1], [0, 1, 0]], dtype=float)
    expected = _scipy_fit(w, prior=1.0)
    assert [part["models"][m]["strength"] for m in "abc"] == pytest.approx(expected.tolist(), abs=1e-5)
    with pytest.raises(ValueError, match="not finite"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rankings_study(_votes(rows), {}, n_resamples=0, prior=0.0)


def test_by_group_ranks_within_each_group():
    rows = [(q, "a", "b", "a" if q < 4 else "b", "h1") for q in range(8)]
    # h2: q0 b, q1-q3 a, q4-q6 b, q7 a
    rows += [(q, "a", "b", "b" if q == 0 else "a" if q < 4 or q == 7 else "b", "h2") for q in range(8)]
    votes = _votes(rows)
    keys = {str(q): ("x" if q < 4 else "y") for q in range(8)}
    res = rankings_study(votes, {}, n_resamples=30, by="domain", by_keys=keys)
    gx = res.by["groups"]["x"]["rankings"]["human"]["models"]
    # group x (q0-q3): a wins 4 + 3 = 7 of 8 votes -> s_a - s_b = ln 7; group y: b wins 4 + 3 of 8
    assert gx["a"]["strength"] == pytest.approx(math.log(7) / 2, abs=1e-9)
    gy = res.by["groups"]["y"]["rankings"]["human"]["models"]
    assert gy["b"]["strength"] == pytest.approx(math.log(7) / 2, abs=1e-9)


# ------------------------------------------------------------------ CLI and reports

def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_cli_json_shape_formats_and_figures(tmp_path):
    hv = _rich_votes()
    for v in hv:
        v["domain1"] = "D1" if v["question_id"] < 4 else "D2"
    h = _write(tmp_path / "h.jsonl", hv)
    j = _write(tmp_path / "j.jsonl", _judge_votes())
    out = tmp_path / "r.json"
    figs = tmp_path / "figs"
    args = ["rankings", "--votes", str(h), "--judge", f"dyn/j={j}", "--bootstrap", "50", "--seed", "3"]
    assert main([*args, "--by", "domain", "--format", "json", "--output", str(out), "--figures", str(figs)]) == 0
    data = json.loads(out.read_text())
    assert set(data) >= {"rankings", "vs_human", "settings", "by"}
    assert set(data["rankings"]) == {"human", "dyn/j"}
    model = data["rankings"]["human"]["models"]["a"]
    assert set(model) >= {"strength", "ci", "rank", "rank_ci", "n", "elo"}
    assert set(data["vs_human"]["dyn/j"]) >= {"kendall_tau_b", "spearman", "pair_order_agreement"}
    assert set(data["vs_human"]["dyn/j"]["spearman"]) == {"value", "ci"}
    assert set(data["by"]["groups"]) == {"D1", "D2"}
    assert sum(data["rankings"]["human"]["models"][m]["strength"] for m in "abc") == pytest.approx(0.0, abs=1e-9)
    assert (figs / "rankings.html").exists() and (figs / "plotly.min.js").exists()
    assert (figs / "rankings.html").stat().st_size < 100_000  # plotly.js is the shared file, not inlined
    texts = {}
    for fmt in ("markdown", "latex", "html", "csv"):
        o = tmp_path / f"r.{fmt}"
        assert main([*args, "--format", fmt, "--output", str(o)]) == 0
        texts[fmt] = o.read_text(encoding="utf-8")
    elo_a = f"{model['elo']:.0f}"
    assert f"| a | {model['strength']:.2f} [" in texts["markdown"] and elo_a in texts["markdown"]
    assert "Kendall tau-b" in texts["latex"] and "<table>" in texts["html"]
    csv = pd.read_csv(tmp_path / "r.csv", keep_default_na=False)
    row = csv[(csv.source == "human") & (csv.model == "a") & (csv.statistic == "strength") & (csv.group == "")]
    assert float(row.value.iloc[0]) == pytest.approx(model["strength"])
    assert set(csv[csv.source == "dyn/j"].statistic) >= {"kendall_tau_b", "spearman", "pair_order_agreement"}


def test_cli_same_seed_byte_identical(tmp_path):
    args = ["rankings", "--votes", str(FIX / "stats_votes_human.jsonl"), "--judge", f"j1={FIX / 'stats_votes_judge1.jsonl'}",
            "--bootstrap", "40", "--seed", "5", "--format", "json"]
    outs = []
    for k in range(2):
        o = tmp_path / f"{k}.json"
        assert main([*args, "--output", str(o)]) == 0
        outs.append(o.read_bytes())
    assert outs[0] == outs[1]
