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
    return [vote_differences(OUTCOMES[rng.choice(3, size=int(c), p=probs[i])], va[i], vb[i])
            for i, c in enumerate(counts)]


def run(studies: int, items: int, annotators: int, k: int, extra: int, disagree: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    res = {s: {"width": [], "cover": [], "z": []} for s in ("uniform", "adaptive")}
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--studies", type=int, default=1000, help="simulated studies (>= 500 for the coverage check)")
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--annotators", type=int, default=20)
    ap.add_argument("--k", type=int, default=3, help="phase-1 votes per pair")
    ap.add_argument("--extra", type=int, default=600, help="votes added (the same budget for both strategies)")
    ap.add_argument("--disagree", type=float, default=0.25, help="share of pairs where the two judges differ")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
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
