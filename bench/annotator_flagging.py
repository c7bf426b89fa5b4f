"""Simulated studies: is a random voter among honest annotators flagged, and are honest ones not?

Each study: ITEMS pairs on as many queries, true labels drawn with P(first wins, tie, second wins)
= (.4, .2, .4); six annotators, every pair judged by five of them (so each has about 5/6 of the
pairs). Five are honest (accuracy drawn from [0.6, 0.85]; a wrong vote is one of the two other
labels at random), one votes at random: uniformly over the three labels in even studies, a coin
flip between "first" and "second" (never a tie) in odd ones.

World (b), ``--world bt`` (both worlds with ``--world both``, the default): no true label per pair.
Eight models with Bradley–Terry log-strengths spread like a leaderboard's (about 600 Elo points
from first to last); each pair is two models drawn at random, and an honest person's vote follows
Davidson's ties model on that pair (P(first) : P(tie) : P(second) = s_1 : nu sqrt(s_1 s_2) : s_2,
nu = 0.5), so many pairs are close to 50/50. The random voter is as in world (a).

Prints, per world, the false-flag rate (honest people flagged), the detection rate (random voters
flagged) of the flag rule of ``metaeval.stats.annotators`` (the signal: a person's vote times the
others' mean vote) and how many latent-class fits collapsed (every competence at chance), of ``metaeval.stats.annotators`` (Dawid–Skene, and MACE with --model mace), next to a
baseline rule from the same simulated studies: flag when a person's agreement with the majority
of the other votes on a pair is below 0.5.

    python bench/annotator_flagging.py --studies 60 --items 300 --resamples 200 --world both
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from metaeval.stats.agreement import one_vs_others_majority, votes_frame
from metaeval.stats.annotators import annotator_competence

log = logging.getLogger("bench.annotator_flagging")


def simulate(rng: np.random.Generator, n_items: int, coin: bool) -> tuple[list[dict], set[str]]:
    truth = rng.choice([1, 0, -1], size=n_items, p=[0.4, 0.2, 0.4])
    acc = {f"h{k}": rng.uniform(0.6, 0.85) for k in range(5)}
    people = [*acc, "random"]
    votes = []
    for i in range(n_items):
        for p in rng.choice(people, size=5, replace=False):
            if p == "random":
                o = int(rng.choice([1, -1])) if coin else int(rng.choice([1, 0, -1]))
            elif rng.random() < acc[p]:
                o = int(truth[i])
            else:
                o = int(rng.choice([x for x in (1, 0, -1) if x != truth[i]]))
            votes.append({"question_id": i, "model_a": "m1", "model_b": "m2",
                          "winner": {1: "model_a", 0: "tie", -1: "model_b"}[o], "judge": str(p)})
    return votes, {"random"}


#: World (b): Bradley–Terry log-strengths of eight models (a leaderboard-like spread).
BT_STRENGTHS = np.array([1.6, 1.1, 0.8, 0.4, 0.1, -0.3, -0.8, -1.4])
BT_TIE = 0.5


def simulate_bt(rng: np.random.Generator, n_items: int, coin: bool) -> tuple[list[dict], set[str]]:
    """World (b): honest votes follow Bradley–Terry with Davidson ties; no single true label."""
    people = [*(f"h{k}" for k in range(5)), "random"]
    names = [f"model{k}" for k in range(len(BT_STRENGTHS))]
    votes = []
    for i in range(n_items):
        a, b = rng.choice(len(names), size=2, replace=False)
        sa, sb = np.exp(BT_STRENGTHS[a] / 2), np.exp(BT_STRENGTHS[b] / 2)
        probs = np.array([sa / sb, BT_TIE, sb / sa])
        probs /= probs.sum()
        for p in rng.choice(people, size=5, replace=False):
            if p == "random":
                o = int(rng.choice([1, -1])) if coin else int(rng.choice([1, 0, -1]))
            else:
                o = int(rng.choice([1, 0, -1], p=probs))
            votes.append({"question_id": i, "model_a": names[a], "model_b": names[b],
                          "winner": {1: "model_a", 0: "tie", -1: "model_b"}[o], "judge": str(p)})
    return votes, {"random"}


def baseline_flags(votes: list[dict]) -> dict[str, bool]:
    f = votes_frame(votes)
    pair_id = f.groupby(["qid", "lo", "hi"], sort=False).ngroup().to_numpy()
    m, c = one_vs_others_majority(f["outcome"].to_numpy().astype(np.int64), pair_id)
    out = {}
    for r in f["rater"].unique():
        sel = (f["rater"] == r).to_numpy()
        out[r] = bool(m[sel].sum() / max(c[sel].sum(), 1) < 0.5)
    return out


def run_world(world: str, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    counts = {"honest": 0, "random": 0, "ff": 0, "det": 0, "b_ff": 0, "b_det": 0, "collapsed": 0}
    sim = simulate if world == "a" else simulate_bt
    t0 = time.perf_counter()
    for s in range(args.studies):
        votes, rand = sim(rng, args.items, coin=bool(s % 2))
        res = annotator_competence(votes, model=args.model, n_resamples=args.resamples, seed=s)
        counts["collapsed"] += bool(res.fit_collapsed)
        base = baseline_flags(votes)
        for name, a in res.annotators.items():
            kind = "random" if name in rand else "honest"
            counts[kind] += 1
            key, bkey = ("det", "b_det") if kind == "random" else ("ff", "b_ff")
            counts[key] += bool(a["flagged"])
            counts[bkey] += base[name]
    dt = time.perf_counter() - t0
    label = {"a": "(a) one true label per pair", "b": "(b) Bradley-Terry + ties, 8 models"}[world]
    log.info("world %s: %d studies x %d pairs x 5 votes, 6 annotators (5 honest, 1 random; about %d votes each), "
             "%s, %d resamples, %.1f s", label, args.studies, args.items, args.items * 5 // 6, args.model,
             args.resamples, dt)
    log.info("  false-flag rate (honest flagged):   flag rule %.3f (%d/%d)   baseline (vs majority < .5): %.3f",
             counts["ff"] / counts["honest"], counts["ff"], counts["honest"],
             counts["b_ff"] / counts["honest"])
    log.info("  detection rate (random flagged):    flag rule %.3f (%d/%d)   baseline (vs majority < .5): %.3f",
             counts["det"] / counts["random"], counts["det"], counts["random"],
             counts["b_det"] / counts["random"])
    log.info("  fits that collapsed (every competence at chance): %d of %d", counts["collapsed"], args.studies)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=60)
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--model", choices=["dawid-skene", "mace"], default="dawid-skene")
    ap.add_argument("--world", choices=["a", "bt", "both"], default="both")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for world in (["a", "b"] if args.world == "both" else ["a" if args.world == "a" else "b"]):
        run_world(world, args)


if __name__ == "__main__":
    main()
