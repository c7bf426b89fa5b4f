"""Simulated adaptive extensions: does `metaeval annotators` stay honest when the votes carry a design?

Each study (a world unlike the latent-class model): eight models with Bradley–Terry log-strengths
spread like a leaderboard's, Davidson ties (P(first) : P(tie) : P(second) = e^(d/2) : 0.5 : e^(-d/2)),
PAIRS pairs, six honest people and a coin flipper. Round 0 gives three votes per pair; an adaptive
round then adds EXTRA votes where the round-0 votes split (``allocation.expected_counts`` on their
spread, ``systematic_counts``: what ``annotate study extend --strategy adaptive`` does), each from a
person who has not voted on the pair. The same study is fitted twice: pooled (the votes without
their design fields) and design-based (with them, as ``annotate export votes`` writes them). A
"uniform twin" (same round 0 and seed, the extension spread evenly) gives the figure a fixed design
would give.

``--world label``: one true label per pair (P(first, tie, second) = .4, .2, .4), half the pairs
easy (honest people right with probability 0.9) and half hard (0.55); the mean over pairs of
that probability is then a true competence. The coin flipper is as above.

Prints the coin flipper's detection rate and the honest people's false-flag rate for both, the
coin flipper's mean signal (0 for votes drawn without looking at the pair), and the honest
people's mean competence (pooled, design-based, uniform twin) beside the mean over pairs of
P(modal outcome), the share of votes that equal the pair's most likely outcome.

    python bench/annotator_design.py --studies 40 --resamples 200 --world bt
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from metaeval.stats.allocation import expected_counts, systematic_counts
from metaeval.stats.annotators import annotator_competence
from metaeval.stats.design import vote_design_frame

log = logging.getLogger("bench.annotator_design")
LETTER = {1: "model_a", 0: "tie", -1: "model_b"}
STRENGTHS = np.array([1.6, 1.1, 0.8, 0.4, 0.1, -0.3, -0.8, -1.4])
PEOPLE = ["h1", "h2", "h3", "h4", "h5", "h6", "coin"]


def simulate(seed: int, n_pairs: int, extra: int, adaptive: bool = True) -> tuple[list[dict], float]:
    """Votes with their design fields, and the mean over pairs of P(modal outcome)."""
    rng = np.random.default_rng(seed)
    pairs, first, done, modal = [], [], [], []
    for q in range(n_pairs):
        a, b = rng.choice(len(STRENGTHS), size=2, replace=False)
        d = STRENGTHS[a] - STRENGTHS[b]
        p = np.array([np.exp(d / 2), 0.5, np.exp(-d / 2)])
        p /= p.sum()
        pairs.append((q, a, b, p))
        modal.append(float(p.max()))

    def vote(q: int, person: str) -> int:
        return int(rng.choice([1, -1])) if person == "coin" else int(rng.choice([1, 0, -1], p=pairs[q][3]))

    for q in range(n_pairs):
        who = [str(x) for x in rng.choice(PEOPLE, size=3, replace=False)]
        done.append(who)
        first.append([vote(q, person) for person in who])
    score = np.array([np.std(v) for v in first]) if adaptive else np.ones(n_pairs)
    e = expected_counts(score, np.full(n_pairs, len(PEOPLE) - 3), extra)
    m = systematic_counts(e, rng)
    rows = []
    for q, a, b, _ in pairs:
        base = {"question_id": q, "model_a": f"m{a}", "model_b": f"m{b}", "design_last_expected": float(e[q])}
        for person, o in zip(done[q], first[q], strict=True):
            rows.append(base | {"winner": LETTER[o], "judge": person, "design_round": 0, "design_strategy": "fixed"})
        free = [p for p in PEOPLE if p not in done[q]]
        for person in rng.choice(free, size=int(m[q]), replace=False):
            rows.append(base | {"winner": LETTER[vote(q, str(person))], "judge": str(person), "design_round": 1,
                                "design_strategy": "adaptive" if adaptive else "uniform",
                                "design_expected": float(e[q]), "design_round_votes": int(m.sum())})
    return rows, float(np.mean(modal))


def simulate_label(seed: int, n_pairs: int, extra: int, adaptive: bool = True) -> tuple[list[dict], float]:
    """World ``label``: votes with their design fields, and the honest people's true competence
    (the mean over pairs of P(vote = true label))."""
    rng = np.random.default_rng(seed)
    truth = rng.choice([1, 0, -1], size=n_pairs, p=[0.4, 0.2, 0.4])
    acc = np.where(rng.random(n_pairs) < 0.5, 0.9, 0.55)

    def vote(q: int, person: str) -> int:
        if person == "coin":
            return int(rng.choice([1, -1]))
        return int(truth[q]) if rng.random() < acc[q] else int(rng.choice([x for x in (1, 0, -1) if x != truth[q]]))

    done = [[str(x) for x in rng.choice(PEOPLE, size=3, replace=False)] for _ in range(n_pairs)]
    first = [[vote(q, p) for p in done[q]] for q in range(n_pairs)]
    score = np.array([np.std(v) for v in first]) if adaptive else np.ones(n_pairs)
    e = expected_counts(score, np.full(n_pairs, len(PEOPLE) - 3), extra)
    m = systematic_counts(e, rng)
    rows = []
    for q in range(n_pairs):
        base = {"question_id": q, "model_a": "a", "model_b": "b", "design_last_expected": float(e[q])}
        for person, o in zip(done[q], first[q], strict=True):
            rows.append(base | {"winner": LETTER[o], "judge": person, "design_round": 0, "design_strategy": "fixed"})
        for person in rng.choice([p for p in PEOPLE if p not in done[q]], size=int(m[q]), replace=False):
            rows.append(base | {"winner": LETTER[vote(q, str(person))], "judge": str(person), "design_round": 1,
                                "design_strategy": "adaptive" if adaptive else "uniform",
                                "design_expected": float(e[q]), "design_round_votes": int(m.sum())})
    return rows, float(acc.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=40)
    ap.add_argument("--pairs", type=int, default=250)
    ap.add_argument("--extra", type=int, default=450)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--world", choices=["bt", "label"], default="bt")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    flags = {"pooled": [0, 0], "design-based": [0, 0]}  # [coin flagged, honest flagged]
    coin_signal: dict[str, list[float]] = {"pooled": [], "design-based": []}
    comp: dict[str, list[float]] = {"pooled": [], "design-based": [], "uniform twin": []}
    truth = []
    t0 = time.perf_counter()
    for s in range(args.seed, args.seed + args.studies):
        sim = simulate if args.world == "bt" else simulate_label
        rows, modal = sim(s, args.pairs, args.extra)
        truth.append(modal)
        plain = [{k: v for k, v in r.items() if not k.startswith("design_")} for r in rows]
        fits = {"pooled": annotator_competence(plain, n_resamples=args.resamples, seed=s),
                "design-based": annotator_competence(rows, n_resamples=args.resamples, seed=s,
                                                     design=vote_design_frame(enumerate(rows, 1)))}
        twin = annotator_competence(sim(s, args.pairs, args.extra, adaptive=False)[0], n_resamples=0)
        for name, res in fits.items():
            a = res.annotators
            flags[name][0] += a["coin"]["flagged"] is True
            flags[name][1] += sum(a[h]["flagged"] is True for h in PEOPLE[:-1])
            coin_signal[name].append(a["coin"]["signal"])
            comp[name].append(float(np.mean([a[h]["competence"] for h in PEOPLE[:-1]])))
        comp["uniform twin"].append(float(np.mean([twin.annotators[h]["competence"] for h in PEOPLE[:-1]])))
    n = args.studies
    log.info("world %s: %d studies x %d pairs, 3 round-0 votes + %d adaptive votes, 6 honest + 1 coin flipper, "
             "%d resamples, %.1f s", args.world, n, args.pairs, args.extra, args.resamples, time.perf_counter() - t0)
    for name in flags:
        sig = np.array(coin_signal[name])
        log.info("  %-12s coin flagged %d/%d, honest flagged %d/%d, coin mean signal %+.4f (se %.4f)",
                 name, flags[name][0], n, flags[name][1], 6 * n, sig.mean(), sig.std() / np.sqrt(n))
    log.info("  honest mean competence: pooled %.3f, design-based %.3f, uniform twin %.3f; "
             "%s %.3f", *(np.mean(comp[k]) for k in comp),
             "mean P(modal outcome)" if args.world == "bt" else "true competence", np.mean(truth))


if __name__ == "__main__":
    main()
