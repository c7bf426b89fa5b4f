"""System rankings: Bradley–Terry strengths of the models from the people's votes and from each
judge's verdicts, with clustered bootstrap intervals, rank intervals, and how closely each judge's
ranking follows the people's (Kendall tau-b, Spearman, pair-order agreement).

Comparisons: every overall human vote (no ``criterion``; stale votes left out) is one comparison
for "human"; every verdict row of a judge is one comparison for that judge (a score file gives one
verdict per voted pair). A winner starting with "tie" is half a win to each side.

Strength = centred Bradley–Terry MLE (:mod:`metaeval.stats.bradley_terry`). When the MLE is not
finite for a data set (some model only won or only lost, or the "beat or tied" graph is not
strongly connected) that data set is fitted with ``prior`` virtual ties of every model against a
reference of strength 0, a warning names the models, and the output says so
(``finite_mle: false``, ``no_finite_mle``, ``n_resamples_with_prior`` for bootstrap resamples).

Intervals: percentile bootstrap over queries (clusters = ``question_id``) with the seed rule of
``metaeval agreement``: one ``numpy.random.default_rng(seed)``, queries numbered in order of first
appearance in the human votes (then those only the judges have), the same weights for every source
so that human-vs-judge statistics are paired. Ranks: 1 = strongest, "competition" ranking (equal
strengths share the best rank); ``rank_ci`` = the lower 2.5% and upper 97.5% order statistics of
the resampled ranks.

Example (by hand): a beats b in 3 of 4 queries -> s_a - s_b = ln 3, strengths +-0.549.

    >>> v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w}
    ...      for q, w in enumerate(["model_a", "model_a", "model_a", "model_b"])]
    >>> r = rankings_study(v, {}, n_resamples=50)
    >>> round(r.rankings["human"]["models"]["a"]["strength"], 4), r.rankings["human"]["models"]["a"]["rank"]
    (0.5493, 1)
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metaeval.stats._util import UndefinedStatisticWarning
from metaeval.stats.bootstrap import _CHUNK_CELLS, cluster_weights, percentile_interval
from metaeval.stats.bradley_terry import ELO_SCALE, fit_bradley_terry, mle_exists, to_elo, win_matrix
from metaeval.stats.design import round_counts
from metaeval.stats.jsonable import json_ready
from metaeval.stats.rank_agreement import kendall_tau_b, pair_order_agreement, spearman

log = logging.getLogger(__name__)

__all__ = ["RankingResult", "rankings_study", "comparisons_frame", "ranks_of"]

CORRELATIONS = {"kendall_tau_b": kendall_tau_b, "spearman": spearman, "pair_order_agreement": pair_order_agreement}


@dataclass
class RankingResult:
    """``rankings`` (source -> models and fit notes), ``vs_human`` (judge -> statistics),
    ``settings`` and, with a grouping, ``by`` (``{"field", "groups": {label: {rankings, vs_human}}}``)."""

    rankings: dict
    vs_human: dict
    settings: dict
    by: dict | None = field(default=None)

    def to_json_dict(self) -> dict:
        """The ``metaeval rankings --format json`` object."""
        out = {"rankings": self.rankings, "vs_human": self.vs_human, "settings": self.settings}
        if self.by is not None:
            out["by"] = self.by
        return json_ready(out)


def comparisons_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Comparisons (qid, lo, hi, outcome) from a canonical vote frame or a judge's pair verdicts
    (column ``verdict`` instead of ``outcome``).

    >>> comparisons_frame(pd.DataFrame({"qid": ["1"], "lo": ["a"], "hi": ["b"], "verdict": [1.0]}))["outcome"].tolist()
    [1.0]
    """
    col = "outcome" if "outcome" in frame.columns else "verdict"
    out = frame[["qid", "lo", "hi"]].copy()
    out["outcome"] = frame[col].astype(float).to_numpy()
    if "weight" in frame.columns:
        out["weight"] = frame["weight"].astype(float).to_numpy()
    return out[~out["outcome"].isna()].reset_index(drop=True)


def ranks_of(strengths: np.ndarray) -> np.ndarray:
    """Competition ranks per row (1 = strongest; equal strengths share the better rank).

    >>> ranks_of(np.array([[0.5, -1.0, 0.5]])).tolist()
    [[1, 3, 1]]
    """
    s = np.atleast_2d(np.asarray(strengths, dtype=float))
    return 1 + (s[:, None, :] > s[:, :, None]).sum(axis=2)


def _fit_notes(w: np.ndarray, models: list[str]) -> list[str]:
    wins, losses = w.sum(axis=1), w.sum(axis=0)
    return [m for m, a, b in zip(models, wins, losses, strict=True) if a == 0 or b == 0]


def _fit_source(comp: pd.DataFrame, cluster_of: Mapping[str, int], n_q: int, weights_chunks: list[np.ndarray],
                *, prior: float, level: float, name: str) -> tuple[dict, list[str], np.ndarray | None]:
    """Point fit and bootstrap replicates of one source. Returns (json part, models, replicates)."""
    models = sorted(set(comp["lo"]) | set(comp["hi"]))
    m = len(models)
    pos = {x: i for i, x in enumerate(models)}
    lo = comp["lo"].map(pos).to_numpy(dtype=np.int64)
    hi = comp["hi"].map(pos).to_numpy(dtype=np.int64)
    o = comp["outcome"].to_numpy(dtype=float)
    cl = comp["qid"].map(cluster_of).to_numpy(dtype=np.int64)
    weight = comp["weight"].to_numpy(dtype=float) if "weight" in comp.columns else None
    wq = win_matrix(lo, hi, o, m, group=cl, n_groups=n_q, weight=weight)
    if weight is not None:
        wq = np.maximum(wq, 0.0)  # a query's net design weight on a win may be negative; none counts less than 0
    w = wq.sum(axis=0)
    n = np.bincount(lo, minlength=m) + np.bincount(hi, minlength=m)
    finite = bool(mle_exists(w)) if m >= 2 else True
    no_finite = [] if finite else _fit_notes(w, models)
    if not finite:
        warnings.warn(f"{name}: the Bradley–Terry MLE is not finite (only wins or only losses: "
                      f"{', '.join(no_finite) or 'none, but the win graph is not strongly connected'}); "
                      f"fitted with {prior:g} virtual ties per model against a reference of strength 0",
                      UndefinedStatisticWarning, stacklevel=3)
        if prior <= 0:
            raise ValueError(f"{name}: the Bradley–Terry MLE is not finite and --prior is 0")
    s = fit_bradley_terry(w, prior=0.0 if finite else prior) if m >= 2 else np.zeros(m)
    reps = None
    n_prior = 0
    if weights_chunks and m >= 2:
        parts = []
        flat = wq.reshape(n_q, m * m)
        for wt in weights_chunks:
            wb = (wt @ flat).reshape(-1, m, m)
            ok = np.asarray(mle_exists(wb))  # a stack of matrices: one flag per resample
            n_prior += int((~ok).sum())
            if prior <= 0 and not ok.all():
                raise ValueError(f"{name}: a bootstrap resample has no finite Bradley–Terry MLE and --prior is 0")
            parts.append(fit_bradley_terry(wb, prior=np.where(ok, 0.0, prior)))
        reps = np.concatenate(parts, axis=0)
    ranks = ranks_of(s[None])[0]
    ci = percentile_interval(reps, level=level) if reps is not None else np.full((m, 2), np.nan)
    if reps is not None:
        rr = ranks_of(reps)
        alpha = (1.0 - level) / 2.0
        rank_ci = np.stack([np.quantile(rr, alpha, axis=0, method="lower"),
                            np.quantile(rr, 1.0 - alpha, axis=0, method="higher")], axis=1)
    else:
        rank_ci = np.full((m, 2), np.nan)
    wins = w.sum(axis=1)
    ties = np.zeros(m)
    tie_rows = o == 0
    np.add.at(ties, lo[tie_rows], 1.0)
    np.add.at(ties, hi[tie_rows], 1.0)
    order = sorted(range(m), key=lambda i: (ranks[i], models[i]))
    out_models = {}
    for i in order:
        out_models[models[i]] = {
            "strength": float(s[i]), "ci": [float(ci[i, 0]), float(ci[i, 1])],
            "rank": int(ranks[i]), "rank_ci": [_int(rank_ci[i, 0]), _int(rank_ci[i, 1])],
            "n": int(n[i]), "elo": float(to_elo(s[i])),
            "elo_ci": [float(to_elo(ci[i, 0])), float(to_elo(ci[i, 1]))],
            "wins": float(wins[i] - 0.5 * ties[i]), "losses": float(n[i] - wins[i] - 0.5 * ties[i]),
            "ties": int(ties[i]),
        }
    part = {"models": out_models, "n_comparisons": len(comp), "n_queries": int(comp["qid"].nunique()),
            "finite_mle": finite, "no_finite_mle": no_finite, "prior_virtual_ties": 0.0 if finite else prior,
            "n_resamples_with_prior": n_prior}
    return part, models, reps


def _int(x: float) -> int | None:
    return int(x) if np.isfinite(x) else None


def _vs_human(h_models: list[str], h_point: dict, h_reps: np.ndarray | None, j_models: list[str], j_point: dict,
              j_reps: np.ndarray | None, level: float) -> dict:
    common = [m for m in h_models if m in set(j_models)]
    out: dict = {"n_models": len(common)}
    hp = np.array([[h_point[m]["strength"] for m in common]])
    jp = np.array([[j_point[m]["strength"] for m in common]])
    hi = [h_models.index(m) for m in common]
    ji = [j_models.index(m) for m in common]
    for key, fn in CORRELATIONS.items():
        if len(common) < 2:
            out[key] = {"value": None, "ci": [None, None]}
            continue
        with np.errstate(invalid="ignore"):
            value = float(fn(hp, jp)[0])
        ci = [None, None]
        if h_reps is not None and j_reps is not None:
            ci = percentile_interval(fn(h_reps[:, hi], j_reps[:, ji])[:, None], level=level)[0].tolist()
        out[key] = {"value": value, "ci": ci}
    return out


def _weights(n_q: int, n_resamples: int, rng: np.random.Generator) -> list[np.ndarray]:
    chunk = max(1, _CHUNK_CELLS // max(n_q, 1))
    return [cluster_weights(n_q, min(n_resamples, start + chunk) - start, rng=rng).astype(float)
            for start in range(0, n_resamples, chunk)]


def _study(sources: dict[str, pd.DataFrame], qids: list[str], *, n_resamples: int, rng: np.random.Generator,
           prior: float, level: float) -> tuple[dict, dict]:
    cluster_of = {q: i for i, q in enumerate(qids)}
    weights = _weights(len(qids), n_resamples, rng) if n_resamples > 0 else []
    rankings, fits = {}, {}
    for name, comp in sources.items():
        if comp.empty:
            log.warning("%s has no comparisons here; left out", name)
            continue
        part, models, reps = _fit_source(comp, cluster_of, len(qids), weights, prior=prior, level=level, name=name)
        rankings[name] = part
        fits[name] = (models, reps)
    vs = {}
    if "human" in fits:
        hm, hr = fits["human"]
        for name in rankings:
            if name != "human":
                jm, jr = fits[name]
                vs[name] = _vs_human(hm, rankings["human"]["models"], hr, jm, rankings[name]["models"], jr, level)
    return rankings, vs


def design_weights(design: pd.DataFrame) -> pd.DataFrame:
    """Per-vote design weights of the people's votes after an extension (``design``:
    :func:`metaeval.stats.design.read_vote_design`'s frame), so that each pair's weighted share of
    each outcome is the design-based estimate of :mod:`metaeval.stats.design` with ``c = 1``
    (:func:`metaeval.stats.allocation.adaptive_estimate`, the exactly unbiased form): a vote of the
    last, adaptive round weighs ``1 / e_i``; a vote of an earlier round ``(1 - m_i / e_i) / k_i``
    (``k_i`` earlier votes, ``m_i`` last-round votes on the pair; ``1 / k_i`` when ``e_i = 0``).
    After a uniform round every vote weighs ``1 / n_i`` (the mean over pairs of each pair's
    mean). Weights are scaled so that they sum to the number of votes. Returns ``design`` with a
    ``weight`` column.

    Example (by hand): one pair, two earlier votes and one adaptive vote with ``e = 2``: earlier
    votes (1 - 1/2) / 2 = 1/4 each, the adaptive vote 1/2; total 1, scaled to 3 votes: 3/4, 3/4, 3/2.

    >>> d = pd.DataFrame({"qid": ["1"] * 3, "lo": ["a"] * 3, "hi": ["b"] * 3, "outcome": [1, -1, 1],
    ...                   "design_round": [0, 0, 1], "design_strategy": ["fixed", "fixed", "adaptive"],
    ...                   "design_expected": [None, None, 2.0], "design_last_expected": [2.0] * 3})
    >>> design_weights(d)["weight"].tolist()
    [0.75, 0.75, 1.5]
    """
    out = design.reset_index(drop=True).copy()
    c = round_counts(out)
    pair = c.pair
    if c.adaptive:
        m = c.total - c.earlier  # the last round's votes on each pair
        safe_e = np.where(c.expected_last > 0, c.expected_last, 1.0)
        early = np.where(c.expected_last > 0, 1.0 - m / safe_e, 1.0) / np.maximum(c.earlier, 1.0)
        weight = np.where(c.is_last, 1.0 / safe_e[pair], early[pair])
    else:
        weight = 1.0 / c.total[pair]
    total = weight.sum()
    out["weight"] = weight * (len(out) / total) if total > 0 else weight
    return out


def rankings_study(human_votes, judges: Mapping[str, object], *, n_resamples: int = 1000, seed: int = 0,
                   level: float = 0.95, prior: float = 1.0, include_stale: bool = False, by: str | None = None,
                   by_keys: Mapping[str, str] | None = None, design: pd.DataFrame | None = None) -> RankingResult:
    """Rankings of the models by the people and by each judge.

    Parameters:
        human_votes: Vote objects, FastChat dicts or a DataFrame (overall, non-stale votes used).
        judges: name -> FastChat-layout verdicts, a canonical vote frame, or a
            :class:`metaeval.stats.agreement_study.JudgeVerdicts` (its raw rows when known, else its pairs).
        prior: virtual ties per model used only where the MLE is not finite (0: raise instead).
        design: the people's overall, current votes with their design
            (:func:`metaeval.stats.design.read_vote_design`; None for a fixed design): the people's
            ranking is then fitted to design-weighted votes (:func:`design_weights`) and
            ``settings["estimator"]`` says ``"design-based"`` (else ``"pooled"``).
        by: a grouping name; ``by_keys`` maps question id (text) -> group label. Without
            ``by_keys`` the votes' own ``domain1``/``domain2``/``lang`` field named ``by`` is used.
    """
    from metaeval.stats.agreement import votes_frame
    from metaeval.stats.agreement_study import JudgeVerdicts

    if n_resamples < 0:
        raise ValueError("n_resamples must be >= 0")
    h = votes_frame(human_votes)
    keep = h["criterion"].isna().to_numpy().copy()
    if not include_stale:
        keep &= ~h["stale"].to_numpy()
    h = h[keep].reset_index(drop=True)
    if h.empty:
        raise ValueError("no human votes to rank with")
    estimator, h_votes = "pooled", h
    if design is not None and len(design):
        h = design_weights(design)  # the design frame holds the overall, current votes
        estimator = "design-based"
    sources: dict[str, pd.DataFrame] = {"human": comparisons_frame(h)}
    for name, j in judges.items():
        if name == "human":
            raise ValueError("a judge may not be called 'human'")
        if isinstance(j, JudgeVerdicts):
            sources[name] = comparisons_frame(j.raw if j.raw is not None else j.pairs)
        elif isinstance(j, pd.DataFrame) and "lo" in j.columns:
            sources[name] = comparisons_frame(j)
        else:
            sources[name] = comparisons_frame(votes_frame(j))
    qids = list(pd.unique(h["qid"]))
    seen = set(qids)
    for comp in sources.values():
        for q in pd.unique(comp["qid"]):
            if q not in seen:
                seen.add(q)
                qids.append(q)
    rng = np.random.default_rng(seed)
    rankings, vs = _study(sources, qids, n_resamples=n_resamples, rng=rng, prior=prior, level=level)
    settings = {"n_resamples": n_resamples, "seed": seed, "level": level, "prior_virtual_ties": prior,
                "include_stale": include_stale, "by": by, "elo": {"scale": ELO_SCALE, "offset": 1000.0},
                "strength": "Bradley–Terry log-strength (natural log), mean 0 over the models",
                "estimator": estimator}
    by_part = None
    if by is not None:
        if by_keys is None:
            if by not in ("domain1", "domain2", "lang"):
                raise ValueError(f"unknown grouping {by!r}")
            by_keys = {str(q): v for q, v in zip(h_votes["qid"], h_votes[by], strict=True) if isinstance(v, str)}
        labels = {q: by_keys.get(q) or "(unknown)" for q in qids}
        groups = {}
        group_rng = np.random.default_rng(seed)  # groups in sorted order, one stream (as breakdowns)
        for g in sorted(set(labels.values()), key=str):
            gq = [q for q in qids if labels[q] == g]
            gs = {name: c[c["qid"].map(labels) == g].reset_index(drop=True) for name, c in sources.items()}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UndefinedStatisticWarning)
                r, v = _study(gs, gq, n_resamples=n_resamples, rng=group_rng, prior=prior, level=level)
            if caught:
                log.info("group %s: %d fits used the prior (MLE not finite)", g, len(caught))
            groups[str(g)] = {"rankings": r, "vs_human": v}
        by_part = {"field": by, "groups": groups}
    return RankingResult(rankings=rankings, vs_human=vs, settings=settings, by=by_part)
