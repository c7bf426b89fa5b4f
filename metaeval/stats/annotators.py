"""Competence of each annotator from a latent-class model of the votes (Dawid–Skene, or MACE),
with clustered bootstrap intervals and a flag for votes indistinguishable from random.

Labels are the canonical outcomes (-1 second model wins, 0 tie, +1 first wins) of the overall,
non-stale votes; an item is a pair (question_id, the two models).

* ``competence`` = the model's P(the person's label equals the true label)
  = sum_k pi_k * confusion[k, k].
* ``chance`` = the competence of someone with the same label shares who ignores the item
  (sum_k pi_k * q_k, q = the person's label distribution under the model).
* ``signal`` (model-free): the mean, over a person's votes, of the vote x (-1 second model wins,
  0 tie, +1 first wins, on the pair sorted by name) times the mean vote m of the OTHER people on
  the same pair. Votes drawn independently of the pair and its models have mean 0, so their
  signal is 0 whatever the others do: a coin-flipper, someone who always says "tie", or someone
  who always picks the response shown first (the app shows the two sides in random order). An
  honest person's vote follows the pair's preference as the others' do, so E[x m] = E[mu^2] > 0
  (mu = the pair's mean vote), whether each pair has one true label or only a Bradley–Terry
  preference with ties (many pairs near 50/50).
* **Flag rule**: ``flagged`` when the lower one-sided 95% bootstrap bound of ``signal`` (its 5th
  percentile) is <= 0: the votes cannot be told apart from votes drawn independently of the
  pair. People with few votes have wide intervals and are flagged too until they have enough
  votes; ``n`` says how many. The latent-class competence does not enter the rule: when people
  disagree with a single true label only because the pairs are close calls, Dawid–Skene rates
  honest people near chance. ``bench/annotator_flagging.py`` measures the false-flag and
  detection rates in both worlds.
* **Collapsed fit**: when no one's competence exceeds chance by more than the margin, the model
  found no signal in the votes (e.g. MACE when every pair is near 50/50): ``fit_collapsed`` is
  true and ``flagged`` is ``None`` for everyone (neither flagged nor cleared); reports say so.
* **After an extension** (``design``: the votes' design fields): the latent-class fit and its
  bootstrap refits weight each vote by :func:`competence_weights` (``settings["estimator"]`` =
  ``"design-based"``), and the signal pairs each vote only with the others' votes of its own and
  earlier allocation rounds (a later round's votes on a pair exist because the earlier votes,
  this one included, split). See docs/metaeval_statistics.md for what the simulation measured.
* ``gold_accuracy``: share of the person's votes on gold pairs (``gold``: pair -> known
  outcome) that equal the known answer; ``None`` without gold votes.

Intervals resample queries with ``numpy.random.default_rng(seed)`` (the seed rule of
``metaeval agreement``; queries numbered by first appearance) and refit the model on every
resample, starting EM from the full-data fit.

Example (by hand): three people agree on every one of 4 pairs; a fourth always says "tie".
The fourth's labels carry no information about the item: competence = pi_tie = chance, flagged.

    >>> v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": h}
    ...      for q in range(4) for h, w in [("h1", "model_a" if q % 2 else "model_b"),
    ...      ("h2", "model_a" if q % 2 else "model_b"), ("h3", "model_a" if q % 2 else "model_b"), ("x", "tie")]]
    >>> res = annotator_competence(v, n_resamples=50)
    >>> res.annotators["x"]["flagged"], round(res.annotators["h1"]["competence"], 2)
    (True, 0.99)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metaeval.stats.bootstrap import _CHUNK_CELLS, cluster_weights, percentile_interval
from metaeval.stats.design import ESTIMATOR_DESIGN, ESTIMATOR_POOLED, round_counts
from metaeval.stats.jsonable import json_ready
from metaeval.stats.latent_class import MODELS, chance_competence, competence, fit_latent_class

__all__ = ["AnnotatorResult", "annotator_competence", "aggregate_labels", "competence_weights", "FLAG_MARGIN"]

#: A fit "collapses" when no one's competence exceeds chance by more than this.
FLAG_MARGIN = 0.01
#: ``flagged`` when this quantile of the bootstrap distribution of ``signal`` is at most 0.
FLAG_QUANTILE = 0.05
FLAG_RULE = "5th percentile of the bootstrap signal (mean of vote x others' mean vote) <= 0"
CLASSES = (-1, 0, 1)
#: ``settings["design_weights"]`` of a design-based fit (JSON, caption).
DESIGN_WEIGHTS_NOTE = ("latent-class fit and its bootstrap refits weight each vote on a pair by 1 / (the pair's "
                       "earlier votes + the last round's expected votes on it), so every pair counts once in "
                       "expectation; the signal (and the flag) compares each vote, unweighted, with the others' "
                       "votes of its own and earlier rounds")
PAIR = ["qid", "lo", "hi"]


@dataclass
class AnnotatorResult:
    """``annotators`` (name -> statistics), ``model``, ``class_prior``, ``labels`` (one row per
    pair: qid, lo, hi, label, p_first, p_tie, p_second) and ``settings``."""

    annotators: dict
    model: str
    class_prior: dict
    labels: pd.DataFrame
    settings: dict
    fit_collapsed: bool = False

    def to_json_dict(self) -> dict:
        """The ``metaeval annotators --format json`` object."""
        return json_ready({"annotators": self.annotators, "model": self.model, "class_prior": self.class_prior,
                           "flag_rule": FLAG_RULE,
                           "fit_collapsed": self.fit_collapsed, "settings": self.settings})

    def frame(self) -> pd.DataFrame:
        """One row per annotator (for tables and app pages): annotator, n, competence, ci_lo,
        ci_hi, chance, flagged, gold_n, gold_accuracy."""
        rows = [{"annotator": k, "n": a["n"], "competence": a["competence"], "ci_lo": a["ci"][0],
                 "ci_hi": a["ci"][1], "chance": a["chance"], "flagged": a["flagged"], "gold_n": a["gold_n"],
                 "gold_accuracy": a["gold_accuracy"]} for k, a in self.annotators.items()]
        return pd.DataFrame(rows, columns=["annotator", "n", "competence", "ci_lo", "ci_hi", "chance", "flagged",
                                           "gold_n", "gold_accuracy"])


def _prepare(votes, include_stale: bool) -> pd.DataFrame:
    from metaeval.stats.agreement import votes_frame

    h = votes if isinstance(votes, pd.DataFrame) and "lo" in votes.columns else votes_frame(votes)
    keep = h["criterion"].isna().to_numpy().copy()
    if not include_stale:
        keep &= ~h["stale"].to_numpy()
    h = h[keep].reset_index(drop=True)
    if h.empty:
        raise ValueError("no votes to fit")
    return h


def _fit_frame(h: pd.DataFrame, model: str, n_resamples: int, seed: int, weight: np.ndarray | None = None):
    item, pairs = pd.MultiIndex.from_frame(h[PAIR]).factorize()
    pairs = pairs.set_names(PAIR).to_frame(index=False)
    worker, workers = pd.factorize(h["rater"])
    label = h["outcome"].to_numpy(dtype=np.int64) + 1
    point = fit_latent_class(item, worker, label, n_classes=3, model=model)
    if weight is not None:
        # weighted pseudo-likelihood (votes weighted in the E and the M step, every pair once in the
        # prior), started from the pooled fit so that the classes keep their meaning
        point = fit_latent_class(item, worker, label, n_classes=3, model=model, weights=weight[None, :],
                                 item_weights=np.ones((1, len(pairs))), e_weights=weight[None, :],
                                 init_posterior=point.posterior[0])
    reps = None
    if n_resamples > 0:
        cluster, qids = pd.factorize(h["qid"])
        item_cluster = np.zeros(len(pairs), dtype=np.int64)
        item_cluster[item] = cluster
        rng = np.random.default_rng(seed)
        chunk = max(1, _CHUNK_CELLS // max(len(qids), 1) // 50)
        comp, chance = [], []
        for start in range(0, n_resamples, chunk):
            wq = cluster_weights(len(qids), min(n_resamples, start + chunk) - start, rng=rng).astype(float)
            wv = wq[:, cluster] if weight is None else wq[:, cluster] * weight[None, :]
            fit = fit_latent_class(item, worker, label, n_classes=3, model=model, weights=wv,
                                   init_posterior=point.posterior[0], tol=1e-4, max_iter=200,
                                   item_weights=None if weight is None else wq[:, item_cluster],
                                   e_weights=None if weight is None else weight[None, :])
            comp.append(competence(fit.prior, fit.confusion))
            chance.append(chance_competence(fit.prior, fit.confusion))
        reps = (np.concatenate(comp), np.concatenate(chance))
    return item, pairs, worker, list(workers), point, reps


def competence_weights(design: pd.DataFrame) -> np.ndarray:
    """Per-vote weights of the design-based latent-class fit, in the order of ``design``
    (:func:`metaeval.stats.design.read_vote_design`'s frame): a vote on pair i weighs
    ``1 / (k_i + e_i)``, ``k_i`` the pair's votes of the rounds before the last one and ``e_i`` the
    last round's expected count on it (``design_last_expected``); after a uniform last round
    ``1 / n_i``. Every pair then counts once in expectation whatever number of votes the design drew
    on it, and no weight is negative (the Horvitz–Thompson weights of
    :func:`metaeval.stats.rankings.design_weights` can be, which a latent-class likelihood cannot
    take). Scaled to sum to the number of votes.

    Example (by hand): pair 1 has two earlier votes and one adaptive vote with ``e = 2``: each of
    its votes weighs 1 / (2 + 2) = 1/4; pair 2 has one earlier vote and ``e = 1``: 1 / (1 + 1) = 1/2.
    Sum 5/4, scaled to the 4 votes (times 16/5): 0.8, 0.8, 0.8, 1.6.

    >>> d = pd.DataFrame({"qid": ["1", "1", "1", "2"], "lo": ["a"] * 4, "hi": ["b"] * 4,
    ...                   "design_round": [0, 0, 1, 0], "design_strategy": ["fixed", "fixed", "adaptive", "fixed"],
    ...                   "design_last_expected": [2.0, 2.0, 2.0, 1.0]})
    >>> competence_weights(d).round(3).tolist()
    [0.8, 0.8, 0.8, 1.6]
    """
    c = round_counts(design)
    pair = c.pair
    if c.adaptive:
        expected = c.earlier + c.expected_last
        expected = np.where(expected > 0, expected, c.total)
    else:
        expected = c.total
    weight = 1.0 / expected[pair]
    total = weight.sum()
    return weight * (len(weight) / total) if total > 0 else weight


def _design_weight(h: pd.DataFrame, design: pd.DataFrame) -> np.ndarray:
    """:func:`competence_weights` in the order of ``h`` (the overall, current votes, as ``design``
    holds them)."""
    d = design.reset_index(drop=True)
    same = len(d) == len(h) and all(
        (h[c].astype(str).to_numpy() == d[c].astype(str).to_numpy()).all() for c in PAIR)
    if not same or not (h["outcome"].to_numpy(dtype=float) == d["outcome"].to_numpy(dtype=float)).all():
        raise ValueError("the votes' design does not match the votes (the design covers the overall, current "
                         "votes in file order; stale votes cannot be weighted)")
    return competence_weights(d)


def _signal_sums(h: pd.DataFrame, item: np.ndarray, worker: np.ndarray, cluster: np.ndarray, n_workers: int,
                 n_queries: int, rounds: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Per (query, person) sums over the person's votes that share their pair with someone else:
    x * m, x, m and the count (x = the vote, m = the mean of the others' votes on the pair; with
    ``rounds``, the allocation round of each vote, only the others' votes of the same or an
    earlier round)."""
    x = h["outcome"].to_numpy(dtype=float)
    r = np.zeros(len(x), dtype=np.int64) if rounds is None else np.asarray(rounds, dtype=np.int64)
    n_rounds = int(r.max()) + 1 if len(r) else 1
    n_items = int(item.max()) + 1 if len(item) else 0
    cell_r = item * n_rounds + r
    # cumulative over rounds: the pair's votes of this round and the earlier ones
    total = np.cumsum(np.bincount(cell_r, weights=x, minlength=n_items * n_rounds).reshape(n_items, n_rounds),
                      axis=1).ravel()[cell_r]
    count = np.cumsum(np.bincount(cell_r, minlength=n_items * n_rounds).reshape(n_items, n_rounds),
                      axis=1).ravel()[cell_r]
    others = count - 1
    ok = others > 0
    m = np.where(ok, (total - x) / np.maximum(others, 1), 0.0)
    cell = cluster * n_workers + worker
    size = n_queries * n_workers

    def sums(v: np.ndarray) -> np.ndarray:
        return np.bincount(cell[ok], weights=v[ok], minlength=size).reshape(n_queries, n_workers)

    return sums(x * m), sums(x), sums(m), sums(np.ones_like(x))


def _signal(xm: np.ndarray, x: np.ndarray, m: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return xm / n


def annotator_competence(votes, *, model: str = "dawid-skene", gold: Mapping[tuple[str, str, str], int] | None = None,
                         n_resamples: int = 1000, seed: int = 0, level: float = 0.95,
                         include_stale: bool = False, design: pd.DataFrame | None = None) -> AnnotatorResult:
    """Competence, interval, flag and gold accuracy of each annotator (see the module docstring).

    ``votes``: Vote objects, FastChat dicts or a canonical vote frame (``rater`` = annotator).
    ``gold``: (question id as text, lower model, higher model) -> known canonical outcome.
    ``design``: the votes' design after an extension (:func:`metaeval.stats.design.read_vote_design`
    of the same votes; ``None`` for a fixed design): the fit and its bootstrap refits then weight
    every vote by :func:`competence_weights` (a weighted pseudo-likelihood) and
    ``settings["estimator"]`` is ``"design-based"`` (else ``"pooled"``); ``signal`` and the flag stay
    unweighted, each vote compared with the others' votes of its own and earlier rounds only.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}")
    h = _prepare(votes, include_stale)
    weight = rounds = None
    if design is not None and len(design):
        weight = _design_weight(h, design)
        rounds = design["design_round"].to_numpy(dtype=np.int64)
    item, pairs, worker, workers, point, reps = _fit_frame(h, model, n_resamples, seed, weight)
    cluster, qids = pd.factorize(h["qid"])
    # after an extension a vote is multiplied by the others' votes of its own and earlier rounds only:
    # a later round's votes on the pair are there because of the earlier votes (this one included)
    sig_q = _signal_sums(h, item, worker, cluster, len(workers), len(qids), rounds)
    signal = _signal(*(a.sum(axis=0) for a in sig_q))
    signal_lo = np.full(len(workers), np.nan)
    signal_ci = np.full((len(workers), 2), np.nan)
    if n_resamples > 0:
        # the resamples of _fit_frame's stream come first; the signal uses its own stream of the seed
        rng = np.random.default_rng([seed, 1])
        chunk = max(1, _CHUNK_CELLS // max(len(qids), 1))
        boot = []
        for start in range(0, n_resamples, chunk):
            wq = cluster_weights(len(qids), min(n_resamples, start + chunk) - start, rng=rng).astype(float)
            boot.append(_signal(*(wq @ a for a in sig_q)))
        sig_reps = np.concatenate(boot)
        signal_lo = percentile_interval(sig_reps, level=1 - 2 * FLAG_QUANTILE)[:, 0]
        signal_ci = percentile_interval(sig_reps, level=level)
    comp = competence(point.prior, point.confusion)[0]
    chance = chance_competence(point.prior, point.confusion)[0]
    if reps is not None:
        ci = percentile_interval(reps[0], level=level)
        excess_ci = percentile_interval(reps[0] - reps[1], level=level)
    else:
        ci = excess_ci = np.full((len(workers), 2), np.nan)
    gold_hit = np.full(len(h), np.nan)
    if gold:
        keys = list(zip(h["qid"], h["lo"], h["hi"], strict=True))
        known = np.array([gold.get(k, np.nan) for k in keys], dtype=float)
        gold_hit = np.where(np.isnan(known), np.nan, (known == h["outcome"].to_numpy()).astype(float))
    out = {}
    n = np.bincount(worker, minlength=len(workers))
    collapsed = bool(np.all(comp - chance <= FLAG_MARGIN))
    for j, name in sorted(enumerate(workers), key=lambda t: str(t[1])):
        mine = gold_hit[worker == j]
        mine = mine[~np.isnan(mine)]
        flagged = None if collapsed else bool(not np.isfinite(signal_lo[j]) or signal_lo[j] <= 0.0)
        out[str(name)] = {
            "competence": float(comp[j]), "ci": [float(ci[j, 0]), float(ci[j, 1])], "flagged": flagged,
            "n": int(n[j]), "gold_accuracy": float(mine.mean()) if mine.size else None, "gold_n": int(mine.size),
            "chance": float(chance[j]), "excess": float(comp[j] - chance[j]),
            "excess_ci": [float(excess_ci[j, 0]), float(excess_ci[j, 1])],
            "signal": float(signal[j]), "signal_ci": [float(signal_ci[j, 0]), float(signal_ci[j, 1])],
            "confusion": point.confusion[0, j].tolist(),
        }
        if point.theta is not None:
            out[str(name)]["theta"] = float(point.theta[0, j])
    post = point.posterior[0]
    labels = pairs.copy()
    labels["label"] = np.array(CLASSES)[post.argmax(axis=1)].astype(float)
    labels["p_second"], labels["p_tie"], labels["p_first"] = post[:, 0], post[:, 1], post[:, 2]
    prior = dict(zip(["second", "tie", "first"], point.prior[0].tolist(), strict=True))
    settings = {"n_resamples": n_resamples, "seed": seed, "level": level, "include_stale": include_stale,
                "classes": "confusion rows/columns: second model wins, tie, first model wins (canonical pair)",
                "iterations": point.iterations,
                "estimator": ESTIMATOR_POOLED if weight is None else ESTIMATOR_DESIGN}
    if weight is not None:
        settings["design_weights"] = DESIGN_WEIGHTS_NOTE
    return AnnotatorResult(annotators=out, model=model, class_prior=prior, labels=labels, settings=settings,
                           fit_collapsed=collapsed)


def aggregate_labels(votes, *, model: str = "dawid-skene", leave_one_out: bool = False,
                     include_stale: bool = False) -> pd.DataFrame:
    """The model's label per pair (qid, lo, hi, label) or, with ``leave_one_out``, per vote: the
    label of the vote's pair from the OTHER votes on it (model parameters fitted on all votes),
    columns = the vote frame's plus ``loo_label`` (nan for a vote alone on its pair).

    Example: two pairs, three unanimous people -> each pair's label is their choice.

    >>> v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": h}
    ...      for q, w in [(1, "model_a"), (2, "model_b")] for h in ("h1", "h2", "h3")]
    >>> aggregate_labels(v)["label"].tolist()
    [1.0, -1.0]
    """
    h = _prepare(votes, include_stale)
    item, pairs = pd.MultiIndex.from_frame(h[PAIR]).factorize()
    pairs = pairs.set_names(PAIR).to_frame(index=False)
    worker, _ = pd.factorize(h["rater"])
    label = h["outcome"].to_numpy(dtype=np.int64) + 1
    fit = fit_latent_class(item, worker, label, n_classes=3, model=model)
    if not leave_one_out:
        pairs["label"] = np.array(CLASSES)[fit.posterior[0].argmax(axis=1)].astype(float)
        return pairs
    logc = np.log(fit.confusion[0])  # (J, K, K)
    lv = logc.transpose(0, 2, 1)[worker, label, :]  # (V, K): log P(label_v | true)
    per_item = np.zeros((item.max() + 1, 3))
    np.add.at(per_item, item, lv)
    others = np.log(fit.prior[0])[None, :] + per_item[item] - lv
    n_on_item = np.bincount(item)[item]
    out = h.copy()
    out["loo_label"] = np.where(n_on_item > 1, np.array(CLASSES)[others.argmax(axis=1)], np.nan).astype(float)
    return out
