"""Simulated studies: interval width and coverage of a judge difference, uniform vs adaptive votes.

Each study: ITEMS pairs, ANNOTATORS people (exchangeable), K votes per pair already (phase 1),
then EXTRA more votes (phase 2) added either uniformly (EXTRA / ITEMS per pair, item-means
estimate) or adaptively (``metaeval.stats.allocation``: Neyman scores with a 10% even floor,
design-based Horvitz–Thompson difference estimate). Both strategies start from the same
phase-1 votes and spend the same vote budget.

Per pair, the people's outcome shares are Dirichlet draws: half the pairs are clear
(weights 6, 1, 1 on a random winner), half split (2, 1, 2). Judge A's verdict is the people's
favourite with probability 0.75 (otherwise another outcome); judge B gives A's verdict on
1 - DISAGREE of the pairs and another outcome on the rest. The true difference of a study is
``mean_i (P_i(v_A) - P_i(v_B))`` over its pairs (the estimand of the module
``metaeval.stats.allocation``).

Prints, for both strategies, the mean 95% interval width, the coverage of the true difference
(goal: 93-97%), the mean error in standard errors, and how much narrower adaptive is.

    python bench/adaptive_allocation.py --studies 1000 --seed 1

``--world bt`` instead simulates whole studies end to end through :mod:`metaeval.stats.design`
(the estimator ``metaeval agreement`` uses on exported votes): people's votes follow a
Bradley–Terry model with ties (Davidson) over 7 models with leaderboard-like strengths and a
per-pair query effect; three judges give verdicts with their own noise. After the fixed phase
(K votes per pair) come one or two adaptive rounds targeting the first two judges; the bench
prints the coverage of the true value for every row and every difference after each round:

    python bench/adaptive_allocation.py --world bt --studies 400 --seed 1
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from metaeval.stats.allocation import (
    adaptive_estimate,
    allocation_scores,
    expected_counts,
    systematic_counts,
    uniform_estimate,
    vote_differences,
)

log = logging.getLogger("bench.adaptive_allocation")
OUTCOMES = np.array([1.0, 0.0, -1.0])


def simulate_study(rng: np.random.Generator, items: int, disagree: float):
    """(outcome shares per pair [items, 3], verdict A, verdict B, true difference)."""
    probs = np.empty((items, 3))
    for i in range(items):
        alpha = np.array([6.0, 1.0, 1.0]) if rng.random() < 0.5 else np.array([2.0, 1.0, 2.0])
        probs[i] = rng.dirichlet(rng.permutation(alpha) if alpha[0] == 6 else alpha)
    fav = probs.argmax(axis=1)
    va = np.where(rng.random(items) < 0.75, fav, (fav + rng.integers(1, 3, items)) % 3)
    vb = np.where(rng.random(items) < disagree, (va + rng.integers(1, 3, items)) % 3, va)
    truth = float(np.mean(probs[np.arange(items), va] - probs[np.arange(items), vb]))
    return probs, OUTCOMES[va], OUTCOMES[vb], truth


def draw(rng: np.random.Generator, probs: np.ndarray, counts: np.ndarray, va, vb) -> list[np.ndarray]:
    """Vote differences of ``counts[i]`` fresh votes on each pair."""
    return [vote_differences(OUTCOMES[rng.choice(3, size=int(c), p=probs[i])].tolist(), va[i], vb[i])
            for i, c in enumerate(counts)]


def run(studies: int, items: int, annotators: int, k: int, extra: int, disagree: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    res: dict[str, dict[str, list[float]]] = {s: {"width": [], "cover": [], "z": []} for s in ("uniform", "adaptive")}
    for _ in range(studies):
        probs, va, vb, truth = simulate_study(rng, items, disagree)
        zero = va == vb
        capacity = np.full(items, annotators - k)
        d1 = draw(rng, probs, np.full(items, k), va, vb)
        # uniform: EXTRA / ITEMS more per pair, item-means estimate
        m_u = systematic_counts(expected_counts(np.ones(items), capacity, extra, floor=1.0), rng)
        d2u = draw(rng, probs, m_u, va, vb)
        est_u = uniform_estimate([np.concatenate([a, b]) for a, b in zip(d1, d2u, strict=True)], zero)
        # adaptive: scores from phase 1, known expected counts, design-based estimate
        e = expected_counts(allocation_scores(d1, zero), capacity, extra)
        m_a = systematic_counts(e, rng)
        assert m_a.sum() == extra and m_u.sum() == extra
        est_a = adaptive_estimate(d1, draw(rng, probs, m_a, va, vb), e, zero)
        for name, est in (("uniform", est_u), ("adaptive", est_a)):
            res[name]["width"].append(est.ci[1] - est.ci[0])
            res[name]["cover"].append(est.ci[0] <= truth <= est.ci[1])
            res[name]["z"].append((est.value - truth) / est.se if est.se > 0 else 0.0)
    return {name: {"width": float(np.mean(r["width"])), "coverage": float(np.mean(r["cover"])),
                   "bias_se": float(np.mean(r["z"]))} for name, r in res.items()}


MODELS = 7
JUDGES = ("m/j1", "m/j2", "m/j3")


def bt_world(rng: np.random.Generator, items: int):
    """(outcome shares per pair [items, 3] for (lo wins, tie, hi wins), verdicts [judges, items])."""
    strength = np.sort(rng.normal(0.0, 0.8, MODELS))[::-1]  # log-strengths spread like a leaderboard
    lo = rng.integers(0, MODELS, items)
    hi = (lo + rng.integers(1, MODELS, items)) % MODELS
    gap = strength[lo] - strength[hi] + rng.normal(0.0, 0.5, items)  # the query moves each pair
    a, b, tie = np.exp(gap / 2), np.exp(-gap / 2), 0.8  # Davidson: tie weight nu * sqrt(s_lo s_hi)
    probs = np.stack([a, np.full(items, tie), b], axis=1)
    probs /= probs.sum(axis=1, keepdims=True)
    verdicts = []
    for noise in (0.3, 0.8, 1.5):  # judge quality: the judge sees the gap with its own noise
        g = gap + rng.normal(0.0, noise, items)
        verdicts.append(np.where(g > 0.4, 1.0, np.where(g < -0.4, -1.0, 0.0)))
    return probs, np.array(verdicts)


def run_bt(studies: int, items: int, annotators: int, k: int, extra: int, seed: int) -> dict:
    """Coverage per row and per difference after one and after two adaptive rounds (``extra`` each)."""
    import pandas as pd

    from metaeval.stats.design import design_estimates

    rng = np.random.default_rng(seed)
    names = [*JUDGES, *(f"{a} - {b}" for i, a in enumerate(JUDGES) for b in JUDGES[i + 1:])]
    cover: dict[int, dict[str, list[bool]]] = {r: {n: [] for n in names} for r in (1, 2)}
    for _ in range(studies):
        probs, verdicts = bt_world(rng, items)
        p_of = probs[np.arange(items)[None, :], (1 - verdicts).astype(int)]  # P_i(h == v_J)
        truth = {j: float(p_of[x].mean()) for x, j in enumerate(JUDGES)}
        truth |= {f"{a} - {b}": truth[a] - truth[b] for i, a in enumerate(JUDGES) for b in JUDGES[i + 1:]}
        vframes = {j: pd.DataFrame({"qid": [str(i) for i in range(items)], "lo": "a", "hi": "b",
                                    "verdict": verdicts[x]}) for x, j in enumerate(JUDGES)}
        votes = [OUTCOMES[rng.choice(3, size=k, p=probs[i])] for i in range(items)]
        rounds = [np.zeros(k, dtype=int) for _ in range(items)]
        rec: dict[int, np.ndarray] = {}
        for r in (1, 2):
            d = [vote_differences(v.tolist(), verdicts[0][i], verdicts[1][i]) for i, v in enumerate(votes)]
            capacity = np.array([annotators - len(v) for v in votes])
            e = expected_counts(allocation_scores(d, verdicts[0] == verdicts[1]), capacity, extra)
            m = systematic_counts(e, rng)
            rec[r] = e
            for i in range(items):
                new = OUTCOMES[rng.choice(3, size=int(m[i]), p=probs[i])]
                votes[i] = np.concatenate([votes[i], new])
                rounds[i] = np.concatenate([rounds[i], np.full(int(m[i]), r)])
            frame = pd.DataFrame({
                "qid": [str(i) for i in range(items) for _ in votes[i]], "lo": "a", "hi": "b",
                "outcome": np.concatenate(votes), "design_round": np.concatenate(rounds)})
            item = np.repeat(np.arange(items), [len(v) for v in votes])
            rnd = frame["design_round"].to_numpy()
            frame["design_strategy"] = np.where(rnd > 0, "adaptive", "fixed")
            frame["design_expected"] = [rec[int(x)][i] if x > 0 else None for x, i in zip(rnd, item, strict=True)]
            frame["design_round_votes"] = np.where(rnd > 0, extra, 0)
            frame["design_last_expected"] = rec[r][item]
            est = design_estimates(frame, vframes)
            got = {**est["rows"], **{f"{a} - {b}": v for (a, b), v in est["differences"].items()}}
            for n in names:
                e_n = got[n]
                cover[r][n].append(e_n.ci[0] <= truth[n] <= e_n.ci[1])
    return {r: {n: float(np.mean(v)) for n, v in c.items()} for r, c in cover.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--studies", type=int, default=1000, help="simulated studies (>= 500 for the coverage check)")
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--annotators", type=int, default=20)
    ap.add_argument("--k", type=int, default=3, help="phase-1 votes per pair")
    ap.add_argument("--extra", type=int, default=600, help="votes added (the same budget for both strategies)")
    ap.add_argument("--disagree", type=float, default=0.25, help="share of pairs where the two judges differ")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--world", choices=("dirichlet", "bt"), default="dirichlet",
                    help="bt: Bradley-Terry world, end to end through metaeval.stats.design, one and two rounds")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.world == "bt":
        t0 = time.perf_counter()
        cov = run_bt(args.studies, args.items, args.annotators, args.k, args.extra // 2, args.seed)
        log.info("Bradley-Terry world: %d studies, %d pairs, %d votes per pair + two adaptive rounds of %d "
                 "(%.1f s)", args.studies, args.items, args.k, args.extra // 2, time.perf_counter() - t0)
        log.info("%-14s %18s %18s", "row/difference", "coverage round 1", "coverage round 2")
        for n in cov[1]:
            log.info("%-14s %17.1f%% %17.1f%%", n, 100 * cov[1][n], 100 * cov[2][n])
        log.info("Monte Carlo standard error of a 95%% coverage: %.1f pp", 100 * (0.95 * 0.05 / args.studies) ** 0.5)
        ok = all(0.93 <= c <= 0.97 for r in cov.values() for c in r.values())
        log.info("coverage within 93-97%% for every row and difference after both rounds: %s", "yes" if ok else "NO")
        return
    t0 = time.perf_counter()
    out = run(args.studies, args.items, args.annotators, args.k, args.extra, args.disagree, args.seed)
    log.info("%d studies, %d pairs, %d annotators, %d votes per pair + %d added, judges differ on %.0f%% of pairs "
             "(%.1f s)", args.studies, args.items, args.annotators, args.k, args.extra, 100 * args.disagree,
             time.perf_counter() - t0)
    log.info("%-9s %12s %10s %14s", "strategy", "mean width", "coverage", "mean error/se")
    for name, r in out.items():
        log.info("%-9s %12.4f %9.1f%% %14.3f", name, r["width"], 100 * r["coverage"], r["bias_se"])
    gain = 1 - out["adaptive"]["width"] / out["uniform"]["width"]
    log.info("adaptive interval %.1f%% narrower than uniform at the same budget (goal >= 25%%)", 100 * gain)
    ok = all(0.93 <= r["coverage"] <= 0.97 for r in out.values())
    log.info("coverage within 93-97%% for both: %s", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
