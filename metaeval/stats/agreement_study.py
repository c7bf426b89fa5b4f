"""The agreement study (Table 4): every judge row against the human votes, the human ceiling,
and paired comparisons, all with clustered bootstrap intervals sharing one set of resamples.

(Here "study" means the statistical comparison of judges with people; the human studies that
collect the votes live in ``annotate``.)

Steps of :func:`agreement_study`, one function each: the human frame (votes, pairs, queries) and
the labels judges are compared with; the judge matrix (each judge's verdict on each comparison);
the human ceiling; one bootstrap over named column blocks; the judge rows; the paired
comparisons; the people (reliability coefficients); the breakdowns.

Example:
    >>> votes = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": h}
    ...          for q, w in [(1, "model_a"), (2, "model_b")] for h in ("h1", "h2")]
    >>> judge = [{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "j"},
    ...          {"question_id": 2, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "j"}]
    >>> res = agreement_study(votes, {"j": judge}, n_resamples=100, seed=1)
    >>> res.rows[0]["agreement"], res.human["agreement"]
    (0.5, 1.0)
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metaeval.stats.agreement import human_human_counts, one_vs_others_majority, plurality, votes_frame
from metaeval.stats.annotators import aggregate_labels
from metaeval.stats.bias import length_bias, position_bias
from metaeval.stats.bootstrap import bootstrap_stacked, cluster_sums, percentile_interval
from metaeval.stats.breakdown import breakdown
from metaeval.stats.coefficients import cohen_kappa, counts_table, fleiss_kappa, krippendorff_alpha
from metaeval.stats.jsonable import finite_or_none as _f
from metaeval.stats.jsonable import json_ready
from metaeval.stats.paired import holm, mcnemar_exact, sign_flip_test
from metaeval.stats.verdicts import combine_verdicts

log = logging.getLogger(__name__)

__all__ = ["AgreementResult", "agreement_study", "JudgeVerdicts", "HUMAN_LABELS"]

#: What a judge is compared with: each vote, or one aggregated label per pair.
HUMAN_LABELS = ("per-vote", "majority", "dawid-skene")

PAIR = ["qid", "lo", "hi"]


@dataclass(frozen=True)
class JudgeVerdicts:
    """A judge row's input: per-pair verdicts (qid, lo, hi, verdict, v_ab, v_ba) and, when known,
    its raw canonical verdict frame (for position bias)."""

    pairs: pd.DataFrame
    raw: pd.DataFrame | None = None

    @classmethod
    def from_votes(cls, verdicts) -> JudgeVerdicts:
        """From FastChat-layout verdicts (Vote objects, dicts or a DataFrame)."""
        raw = votes_frame(verdicts)
        return cls(pairs=combine_verdicts(raw), raw=raw)

    def for_agreement(self) -> JudgeVerdicts:
        """The part :func:`agreement_study` reads: the pairs, and of ``raw`` what position bias
        reads (``outcome``, ``first_lo``), only when some verdict knows its order (frees the rest)."""
        raw = self.raw
        if raw is None or "first_lo" not in raw or not raw["first_lo"].notna().any():
            return JudgeVerdicts(pairs=self.pairs)
        return JudgeVerdicts(pairs=self.pairs, raw=raw[["outcome", "first_lo"]].copy())


@dataclass
class AgreementResult:
    """Everything the reports need. ``rows``, ``human`` and ``comparisons`` follow docs/formats.md."""

    rows: list[dict]
    human: dict
    comparisons: list[dict]
    settings: dict
    confusion: dict[str, list[list[int]]] = field(default_factory=dict)
    breakdowns: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_json_dict(self) -> dict:
        """The ``metaeval agreement --format json`` object."""
        out = {"rows": self.rows, "human": self.human, "comparisons": self.comparisons,
               "settings": self.settings, "confusion": self.confusion,
               "breakdowns": {k: v.to_dict(orient="records") for k, v in self.breakdowns.items()}}
        return json_ready(out)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


# ------------------------------------------------------------------------------- human frame
@dataclass(frozen=True)
class HumanFrame:
    """The human votes kept for the study and how they group.

    ``votes``: the canonical vote frame (overall, non-stale votes); ``pair_id``/``cluster``: each
    vote's pair and query number (queries numbered by first appearance); ``pair_index``/``pairs``:
    the pairs (qid, lo, hi); ``pair_cluster``: each pair's query; ``outcome``: each vote's outcome
    as float; ``majority``: each pair's plurality label under the split policy.
    """

    votes: pd.DataFrame
    pair_id: np.ndarray
    pair_index: pd.MultiIndex
    pairs: pd.DataFrame
    cluster: np.ndarray
    n_queries: int
    pair_cluster: np.ndarray
    outcome: np.ndarray
    majority: np.ndarray

    @property
    def n_pairs(self) -> int:
        """Number of distinct pairs voted on."""
        return len(self.pairs)


def human_frame(human_votes, *, include_stale: bool = False, split: str = "tie") -> HumanFrame:
    """Keep the overall (and, unless ``include_stale``, current) human votes and index them by
    pair and query; raises ``ValueError`` when none is left."""
    h = votes_frame(human_votes)
    keep = h["criterion"].isna().to_numpy().copy()
    if not include_stale:
        keep &= ~h["stale"].to_numpy()
    if (~keep).any():
        log.info("left out %d human votes (per-criterion or stale)", int((~keep).sum()))
    if not keep.all() or not isinstance(h.index, pd.RangeIndex) or h.index.start != 0 or h.index.step != 1:
        h = h[keep].reset_index(drop=True)  # (all kept and numbered 0..n-1: no copy of a large frame)
    if h.empty:
        raise ValueError("no human votes to compare with")
    cluster, qids = pd.factorize(h["qid"])
    pair_id, pair_index = _pair_codes(cluster, qids, h["lo"], h["hi"])
    pairs = pair_index.to_frame(index=False)
    n_pairs = len(pairs)
    pair_cluster = np.zeros(n_pairs, dtype=np.int64)
    pair_cluster[pair_id] = cluster
    outcome = h["outcome"].to_numpy().astype(float)
    counts = np.bincount(pair_id * 3 + (outcome.astype(np.int64) + 1), minlength=n_pairs * 3).reshape(n_pairs, 3)
    return HumanFrame(votes=h, pair_id=pair_id, pair_index=pair_index, pairs=pairs, cluster=cluster,
                      n_queries=len(qids), pair_cluster=pair_cluster, outcome=outcome,
                      majority=plurality(counts, split=split))


@dataclass(frozen=True)
class HumanLabels:
    """What each judge verdict is compared with: one row per comparison.

    ``pair``: the comparison's pair; ``outcome``: the human label; ``cluster``: its query;
    ``rows``: its vote-frame row (for breakdown keys); ``pair_label``: the per-pair label that
    Cohen's kappa is computed against.
    """

    pair: np.ndarray
    outcome: np.ndarray
    cluster: np.ndarray
    rows: pd.DataFrame
    pair_label: np.ndarray

    def __len__(self) -> int:
        return len(self.pair)


def human_labels(hf: HumanFrame, human_label: str) -> HumanLabels:
    """Every vote (``"per-vote"``) or one aggregated label per pair (``"majority"``,
    ``"dawid-skene"``), see :func:`agreement_study`."""
    if human_label == "per-vote":
        return HumanLabels(pair=hf.pair_id, outcome=hf.outcome, cluster=hf.cluster, rows=hf.votes,
                           pair_label=hf.majority)
    if human_label == "majority":
        pair_label = hf.majority
    else:
        ds = aggregate_labels(hf.votes, model="dawid-skene", include_stale=True)
        pair_label = ds.set_index(PAIR)["label"].reindex(hf.pair_index).to_numpy(dtype=float)
    n_votes = len(hf.votes)
    first_row = np.zeros(hf.n_pairs, dtype=np.int64)
    first_row[hf.pair_id[::-1]] = np.arange(n_votes)[::-1]
    c_pair = np.flatnonzero(~np.isnan(pair_label))
    return HumanLabels(pair=c_pair, outcome=pair_label[c_pair], cluster=hf.pair_cluster[c_pair],
                       rows=hf.votes.iloc[first_row[c_pair]].reset_index(drop=True), pair_label=pair_label)


# ------------------------------------------------------------------------------- judge matrix
@dataclass(frozen=True)
class JudgeMatrix:
    """Each judge's verdicts aligned with the pairs, and 0/1 masks on the comparisons.

    ``pair_verdict``: the verdict on each pair (pairs x judges, nan = none); ``valid``, ``match``,
    ``no_tie`` (both sides decisive), ``both`` (both single-order verdicts known), ``match_both``
    (both orders equal the human label): comparisons x judges booleans. Verdicts are held per
    pair, masks per comparison: no float matrix per vote.
    """

    names: list[str]
    judges: dict[str, JudgeVerdicts]
    pair_verdict: np.ndarray
    valid: np.ndarray
    match: np.ndarray
    no_tie: np.ndarray
    both: np.ndarray
    match_both: np.ndarray


def judge_matrix(judges: Mapping[str, object], hf: HumanFrame, labels: HumanLabels) -> JudgeMatrix:
    """Align every judge's per-pair verdicts with the comparisons; logs judges that miss pairs."""
    names = list(judges)
    jv = {}
    for name in names:
        j = judges[name]
        jv[name] = j if isinstance(j, JudgeVerdicts) else JudgeVerdicts.from_votes(j)
    shape = (len(labels), len(names))
    valid, match, no_tie = np.zeros(shape, bool), np.zeros(shape, bool), np.zeros(shape, bool)
    both, match_both = np.zeros(shape, bool), np.zeros(shape, bool)
    pv_m = np.full((hf.n_pairs, len(names)), np.nan)
    decisive_label = labels.outcome != 0
    for k, name in enumerate(names):
        aligned = jv[name].pairs.set_index(PAIR).reindex(hf.pair_index)
        pv = aligned["verdict"].to_numpy(dtype=float)
        pv_m[:, k] = pv
        v = pv[labels.pair]
        valid[:, k] = ~np.isnan(v)
        match[:, k] = v == labels.outcome
        no_tie[:, k] = valid[:, k] & (v != 0) & decisive_label
        del v
        p_ab, p_ba = aligned["v_ab"].to_numpy(dtype=float), aligned["v_ba"].to_numpy(dtype=float)
        if not (np.isnan(p_ab) | np.isnan(p_ba)).all():
            both[:, k] = (~np.isnan(p_ab) & ~np.isnan(p_ba))[labels.pair]
            match_both[:, k] = both[:, k] & (p_ab[labels.pair] == labels.outcome) & (p_ba[labels.pair] == labels.outcome)
        missing = int(np.isnan(pv).sum())
        if missing:
            log.warning("judge %s has no verdict on %d of %d pairs; their votes are left out of its row",
                        name, missing, hf.n_pairs)
    return JudgeMatrix(names=names, judges=jv, pair_verdict=pv_m, valid=valid, match=match, no_tie=no_tie,
                       both=both, match_both=match_both)


# ------------------------------------------------------------------------------- human ceiling
@dataclass(frozen=True)
class HumanCeiling:
    """Per-vote (match, comparable) arrays of the human ceiling, with ties and without.

    ``others``: each vote vs the majority of the other votes on its pair; ``ceiling``: each vote vs
    the label the judges are compared with, computed without that vote (equals ``others`` except
    for Dawid–Skene labels); ``vote_pairs``: per pair, matching and total vote pairs
    (:func:`metaeval.stats.agreement.human_human_counts`).
    """

    others: tuple[np.ndarray, np.ndarray]
    others_no_ties: tuple[np.ndarray, np.ndarray]
    ceiling: tuple[np.ndarray, np.ndarray]
    ceiling_no_ties: tuple[np.ndarray, np.ndarray]
    vote_pairs: dict[str, np.ndarray]


def human_ceiling(hf: HumanFrame, *, human_label: str, split: str) -> HumanCeiling:
    """How well one person agrees with the others (see :class:`HumanCeiling`)."""
    ho = hf.outcome.astype(np.int64)
    others = one_vs_others_majority(ho, hf.pair_id, split=split)
    others_nt = one_vs_others_majority(ho, hf.pair_id, split=split, ties=False)
    if human_label == "dawid-skene":
        loo = aggregate_labels(hf.votes, model="dawid-skene", leave_one_out=True,
                               include_stale=True)["loo_label"].to_numpy()
        comparable = ~np.isnan(loo)
        match = comparable & (hf.outcome == np.nan_to_num(loo, nan=9))
        comparable_nt = comparable & (hf.outcome != 0) & (np.nan_to_num(loo) != 0)
        ceiling = (match.astype(float), comparable.astype(float))
        ceiling_nt = ((match & comparable_nt).astype(float), comparable_nt.astype(float))
    else:
        ceiling, ceiling_nt = others, others_nt
    return HumanCeiling(others=others, others_no_ties=others_nt, ceiling=ceiling, ceiling_no_ties=ceiling_nt,
                        vote_pairs=human_human_counts(ho, hf.pair_id, n_groups=hf.n_pairs))


# ------------------------------------------------------------------------------- one bootstrap
class RatioColumns:
    """Named blocks of ratio statistics (per-query numerator and denominator sums) bootstrapped
    together with one set of query resamples, so that any two of them are paired.

    Example: one block of two columns; point estimates are total numerator / total denominator.

    >>> cols = RatioColumns(n_queries=2)
    >>> cols.add("agree", np.array([[1.0, 0.0], [1.0, 1.0]]), np.ones((2, 2)))
    >>> est = cols.bootstrap(n_resamples=20, rng=np.random.default_rng(0), level=0.95)
    >>> est.point("agree").tolist()
    [1.0, 0.5]
    """

    def __init__(self, *, n_queries: int) -> None:
        self.n_queries = n_queries
        self._num: list[np.ndarray] = []
        self._den: list[np.ndarray] = []
        self._blocks: dict[str, slice] = {}
        self._width = 0

    def add(self, name: str, num: np.ndarray, den: np.ndarray) -> None:
        """Add a block: ``num``/``den`` are queries x columns (or one column) of per-query sums."""
        num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
        if num.ndim == 1:
            num, den = num[:, None], den[:, None]
        self._num.append(num)
        self._den.append(den)
        self._blocks[name] = slice(self._width, self._width + num.shape[1])
        self._width += num.shape[1]

    def add_votes(self, name: str, cluster: np.ndarray, num: np.ndarray, den: np.ndarray) -> None:
        """Add a block from per-vote values (votes x columns) summed within each vote's query."""
        self.add(name, cluster_sums(cluster, num, n_clusters=self.n_queries),
                 cluster_sums(cluster, den, n_clusters=self.n_queries))

    def bootstrap(self, *, n_resamples: int, rng: np.random.Generator, level: float) -> RatioEstimates:
        """Point estimates and percentile intervals of every column (once: the blocks are released)."""
        k = self._width
        stacked = np.empty((self.n_queries, 2 * k))  # numerators, then denominators
        at = 0
        for blocks in (self._num, self._den):
            while blocks:  # each block is released once copied (not held twice)
                block = blocks.pop(0)
                stacked[:, at:at + block.shape[1]] = block
                at += block.shape[1]
                del block
        reps = bootstrap_stacked(stacked, k, n_resamples=n_resamples, rng=rng)
        total = stacked.sum(axis=0)
        total_num, total_den = total[:k], total[k:]
        point = np.divide(total_num, total_den, out=np.full(k, np.nan), where=total_den > 0)
        return RatioEstimates(dict(self._blocks), point, percentile_interval(reps, level=level))


@dataclass(frozen=True)
class RatioEstimates:
    """Point estimates and intervals of the blocks of a :class:`RatioColumns`."""

    blocks: dict[str, slice]
    points: np.ndarray
    intervals: np.ndarray

    def point(self, name: str) -> np.ndarray:
        """The block's point estimates (one per column)."""
        return self.points[self.blocks[name]]

    def ci(self, name: str) -> np.ndarray:
        """The block's intervals (columns x 2)."""
        return self.intervals[self.blocks[name]]

    def one(self, name: str) -> tuple[float | None, list[float | None]]:
        """(point, [lo, hi]) of a one-column block, JSON-ready."""
        p, c = self.point(name), self.ci(name)
        return _f(p[0]), [_f(c[0, 0]), _f(c[0, 1])]


def _combos(jm: JudgeMatrix) -> list[tuple[int, int]]:
    return list(itertools.combinations(range(len(jm.names)), 2))


def paired_differences(jm: JudgeMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(common, difference): per comparison and judge pair (a, b), whether both judges have a
    verdict, and match_a - match_b where both do (0 elsewhere)."""
    combos = _combos(jm)
    n = jm.valid.shape[0]
    if not combos:
        return np.zeros((n, 0), bool), np.zeros((n, 0))
    common = np.stack([jm.valid[:, a] & jm.valid[:, b] for a, b in combos], axis=1)
    diff = np.zeros(common.shape, dtype=np.int8)  # -1, 0, +1: a byte per vote and comparison
    for c, (a, b) in enumerate(combos):
        diff[:, c] = (jm.match[:, a].view(np.int8) - jm.match[:, b].view(np.int8)) * common[:, c]
    return common, diff


def bootstrap_all(hf: HumanFrame, labels: HumanLabels, jm: JudgeMatrix, ceiling: HumanCeiling,
                  common: np.ndarray, diff: np.ndarray, *, n_resamples: int, rng: np.random.Generator,
                  level: float) -> RatioEstimates:
    """One bootstrap of queries for every judge row, every paired difference and the ceiling."""
    cols = RatioColumns(n_queries=hf.n_queries)
    cols.add_votes("agreement", labels.cluster, jm.match, jm.valid)
    cols.add_votes("agreement_no_ties", labels.cluster, jm.no_tie & jm.match, jm.no_tie)
    cols.add_votes("difference", labels.cluster, diff, common)
    for name, (m, c) in (("others", ceiling.others), ("others_no_ties", ceiling.others_no_ties),
                         ("ceiling", ceiling.ceiling), ("ceiling_no_ties", ceiling.ceiling_no_ties)):
        cols.add_votes(name, hf.cluster, m, c)
    vp = ceiling.vote_pairs
    for name, (num_key, den_key) in (("vote_pairs", ("match", "total")),
                                     ("vote_pairs_no_ties", ("match_nt", "total_nt"))):
        cols.add(name, np.bincount(hf.pair_cluster, weights=vp[num_key], minlength=hf.n_queries),
                 np.bincount(hf.pair_cluster, weights=vp[den_key], minlength=hf.n_queries))
    return cols.bootstrap(n_resamples=n_resamples, rng=rng, level=level)


# ------------------------------------------------------------------------------- rows
def judge_rows(hf: HumanFrame, labels: HumanLabels, jm: JudgeMatrix, est: RatioEstimates, *,
               lengths: Mapping[tuple[str, str], int] | None, min_length_difference: float,
               n_unit: str = "votes") -> tuple[list[dict], dict[str, list[list[int]]]]:
    """One Table 4 row per judge, and each judge's confusion matrix (rows human a/tie/b, columns
    judge a/tie/b). ``n_unit`` names what ``n_votes`` counts ("votes", or "pairs" when judges
    meet one aggregated label per pair)."""
    rows, confusion = [], {}
    agree, agree_ci = est.point("agreement"), est.ci("agreement")
    agree_nt, agree_nt_ci = est.point("agreement_no_ties"), est.ci("agreement_no_ties")
    for k, name in enumerate(jm.names):
        pv = jm.pair_verdict[:, k]
        ok = ~np.isnan(pv) & ~np.isnan(labels.pair_label)
        kappa = cohen_kappa(labels.pair_label[ok], pv[ok], labels=[-1.0, 0.0, 1.0]) if ok.any() else float("nan")
        jp = jm.judges[name].pairs
        has_both = ~np.isnan(jp["v_ab"]) & ~np.isnan(jp["v_ba"])
        pc = float(np.mean(jp.loc[has_both, "v_ab"] == jp.loc[has_both, "v_ba"])) if has_both.any() else None
        ab = _ratio(jm.match_both[:, k].sum(), jm.both[:, k].sum()) if jm.both[:, k].any() else None
        raw = jm.judges[name].raw
        pos = position_bias(raw["outcome"], raw["first_lo"]) if raw is not None and raw["first_lo"].notna().any() else None
        lb = None
        if lengths is not None:
            sel = ~np.isnan(pv)
            lb = _f(length_bias(pv[sel], _lengths(hf.pairs["qid"][sel], hf.pairs["lo"][sel], lengths),
                                _lengths(hf.pairs["qid"][sel], hf.pairs["hi"][sel], lengths),
                                min_relative_difference=min_length_difference))
        vk = jm.valid[:, k]
        cm = np.bincount(((labels.outcome[vk] + 1) * 3 + (pv[labels.pair[vk]] + 1)).astype(np.int64),
                         minlength=9).reshape(3, 3)
        confusion[name] = cm[::-1, ::-1].tolist()  # rows human a/tie/b, columns judge a/tie/b
        method, _, judge_name = name.rpartition("/") if "/" in name else ("", "", name)
        rows.append({
            "judge": name, "method": method, "judge_model": judge_name,
            "n_votes": int(vk.sum()), "n_unit": n_unit, "agreement": _f(agree[k]),
            "ci": [_f(agree_ci[k, 0]), _f(agree_ci[k, 1])],
            "n_votes_no_ties": int(jm.no_tie[:, k].sum()), "agreement_no_ties": _f(agree_nt[k]),
            "ci_no_ties": [_f(agree_nt_ci[k, 0]), _f(agree_nt_ci[k, 1])],
            "kappa": _f(kappa), "n_pairs": int((~np.isnan(pv)).sum()),
            "position_consistency": pc, "agreement_both_orders": ab,
            "position_bias": _f(pos) if pos is not None else None, "length_bias": lb,
        })
    return rows, confusion


# ------------------------------------------------------------------------------- paired comparisons
def paired_comparisons(hf: HumanFrame, labels: HumanLabels, jm: JudgeMatrix, common: np.ndarray, diff: np.ndarray,
                       est: RatioEstimates, *, test: str, n_resamples: int, rng: np.random.Generator) -> list[dict]:
    """Every two judges: difference in agreement with interval, sign-flip and McNemar p-values,
    Holm-adjusted across comparisons."""
    combos = _combos(jm)
    if not combos:
        return []
    d_q = cluster_sums(labels.cluster, diff, n_clusters=hf.n_queries)
    p_sf = sign_flip_test(d_q, n_permutations=max(n_resamples, 1), rng=rng)
    p_mc = np.array([mcnemar_exact(jm.match[common[:, i], a], jm.match[common[:, i], b])
                     for i, (a, b) in enumerate(combos)])
    p_sel = p_sf if test == "signflip" else p_mc
    p_adj = holm(p_sel)
    point, ci = est.point("difference"), est.ci("difference")
    return [{"a": jm.names[a], "b": jm.names[b], "n_votes": int(common[:, i].sum()),
             "difference": _f(point[i]), "ci": [_f(ci[i, 0]), _f(ci[i, 1])],
             "test": test, "p_value": _f(p_sel[i]), "p_holm": _f(p_adj[i]),
             "p_signflip": _f(p_sf[i]), "p_mcnemar": _f(p_mc[i])}
            for i, (a, b) in enumerate(combos)]


# ------------------------------------------------------------------------------- people
def people(hf: HumanFrame, ceiling: HumanCeiling, est: RatioEstimates, *, human_label: str,
           lengths: Mapping[tuple[str, str], int] | None, min_length_difference: float) -> dict[str, Any]:
    """The human row: the ceiling with its interval, agreement with the majority of the others,
    Krippendorff's alpha, Fleiss' kappa and the people's position and length bias."""
    h, ho = hf.votes, hf.outcome
    raters, rater_idx = _sorted_codes(h["rater"])
    rel = np.full((len(raters), hf.n_pairs), np.nan)
    rel[rater_idx, hf.pair_id] = ho  # a rater's last vote on a pair wins
    multi = (~np.isnan(rel)).sum(axis=0) >= 2
    alpha_nom = krippendorff_alpha(rel[:, multi], level="nominal") if multi.any() else float("nan")
    alpha_ord = (krippendorff_alpha(rel[:, multi], level="ordinal", value_domain=[-1.0, 0.0, 1.0])
                 if multi.any() else float("nan"))
    fk = fleiss_kappa(counts_table(hf.pair_id, ho, categories=[-1.0, 0.0, 1.0]))
    hl = None
    if lengths is not None:
        hl = _f(length_bias(ho, _lengths(h["qid"], h["lo"], lengths), _lengths(h["qid"], h["hi"], lengths),
                            min_relative_difference=min_length_difference))
    if human_label == "per-vote":
        block, n_cmp = "vote_pairs", int(ceiling.vote_pairs["total"].sum())
    else:
        block, n_cmp = "ceiling", int(ceiling.ceiling[1].sum())
    agreement, ci = est.one(block)
    agreement_nt, ci_nt = est.one(block + "_no_ties")
    others, others_ci = est.one("others")
    human: dict[str, Any] = {
        "n_votes": len(h), "n_pairs": hf.n_pairs, "n_queries": hf.n_queries, "n_annotators": len(raters),
        "n_vote_pairs": n_cmp, "n_unit": "vote pairs" if human_label == "per-vote" else "votes",
        "agreement": agreement, "ci": ci,
        "agreement_no_ties": agreement_nt, "ci_no_ties": ci_nt,
        "vs_majority_of_others": others, "vs_majority_of_others_ci": others_ci,
        "vs_majority_of_others_no_ties": est.one("others_no_ties")[0],
        "alpha": {"nominal": _f(alpha_nom), "ordinal": _f(alpha_ord)}, "fleiss_kappa": _f(fk),
        "position_bias": _f(position_bias(ho, h["first_lo"])) if h["first_lo"].notna().any() else None,
        "length_bias": hl,
    }
    if human_label != "per-vote":
        human["label"] = {"majority": "vote vs majority of others",
                          "dawid-skene": "vote vs Dawid–Skene of others"}[human_label]
        human["agreement_vote_pairs"], human["agreement_vote_pairs_ci"] = est.one("vote_pairs")
    return human


# ------------------------------------------------------------------------------- breakdowns
def breakdowns(labels: HumanLabels, jm: JudgeMatrix, *, breakdown_by: Sequence[str],
               breakdown_keys: Mapping[str, Mapping[str, str]] | None, n_resamples: int, seed: int,
               level: float) -> dict[str, pd.DataFrame]:
    """Agreement per group of each requested grouping (see :func:`metaeval.stats.breakdown.breakdown`)."""
    out: dict[str, pd.DataFrame] = {}
    rows = labels.rows
    for key in breakdown_by:
        if breakdown_keys and key in breakdown_keys:
            group = [breakdown_keys[key].get(q) for q in rows["qid"]]
        elif key == "model_pair":
            group = (rows["lo"] + " vs " + rows["hi"]).tolist()
        elif key in ("domain1", "domain2", "lang"):
            group = rows[key].tolist()
        else:
            raise ValueError(f"unknown breakdown {key!r}")
        out[key] = breakdown(jm.match, jm.valid, labels.cluster, group, columns=jm.names, n_resamples=n_resamples,
                             seed=seed, level=level)
    return out


# ------------------------------------------------------------------------------- the study
def agreement_study(human_votes, judges: Mapping[str, object], *, n_resamples: int = 1000, seed: int = 0,
                    level: float = 0.95, split: str = "tie", test: str = "signflip", include_stale: bool = False,
                    lengths: Mapping[tuple[str, str], int] | None = None, min_length_difference: float = 0.1,
                    breakdown_keys: Mapping[str, Mapping[str, str]] | None = None,
                    breakdown_by: Sequence[str] = (), human_label: str = "per-vote") -> AgreementResult:
    """Agreement of each judge with the human votes, with intervals and paired tests.

    Parameters (keyword-only after ``judges``):
        human_votes: Vote objects, FastChat dicts or a DataFrame (overall judgments are used:
            votes with a ``criterion`` are ignored; stale votes too unless ``include_stale``).
        judges: name -> :class:`JudgeVerdicts` or FastChat-layout verdicts.
        n_resamples: bootstrap resamples of queries (and sign-flip permutations).
        split: majority split-vote policy, "tie" or "drop" (see :mod:`metaeval.stats.agreement`).
        test: "signflip" (per-query sign-flip permutation) or "mcnemar" (exact, per vote) for
            ``p_value``; both are always reported.
        lengths: (question id, model) -> response length, for length bias.
        breakdown_by: names among "domain1", "domain2", "lang", "model_pair" (from the votes), or
            keys of ``breakdown_keys`` (name -> {question id as text: label}).
        human_label: "per-vote" (every vote is compared with the judge), "majority" (one label per
            pair: the plurality under ``split``) or "dawid-skene" (the Dawid–Skene label of the
            pair). With an aggregated label a judge row counts pairs (``n_votes`` = pairs compared),
            and the human ceiling compares each vote with the label of its pair computed from the
            OTHER votes (majority of the others / Dawid–Skene posterior without that vote, model
            fitted on all votes); the pooled vote-pair agreement stays in ``agreement_vote_pairs``.

    Every row and the human row say what their count is in ``n_unit``: a judge row counts votes
    (pairs with an aggregated label); the human row's ``n_vote_pairs`` counts pairs of votes by
    two people on the same pair (votes compared with the others' label, with an aggregated label).
    """
    if human_label not in HUMAN_LABELS:
        raise ValueError(f"human_label must be one of {', '.join(HUMAN_LABELS)}")
    if test not in ("signflip", "mcnemar"):
        raise ValueError("test must be 'signflip' or 'mcnemar'")
    rng = np.random.default_rng(seed)
    hf = human_frame(human_votes, include_stale=include_stale, split=split)
    labels = human_labels(hf, human_label)
    jm = judge_matrix(judges, hf, labels)
    ceiling = human_ceiling(hf, human_label=human_label, split=split)
    common, diff = paired_differences(jm)
    est = bootstrap_all(hf, labels, jm, ceiling, common, diff, n_resamples=n_resamples, rng=rng, level=level)
    rows, confusion = judge_rows(hf, labels, jm, est, lengths=lengths, min_length_difference=min_length_difference,
                                 n_unit="votes" if human_label == "per-vote" else "pairs")
    comparisons = paired_comparisons(hf, labels, jm, common, diff, est, test=test, n_resamples=n_resamples, rng=rng)
    human = people(hf, ceiling, est, human_label=human_label, lengths=lengths,
                   min_length_difference=min_length_difference)
    bds = breakdowns(labels, jm, breakdown_by=breakdown_by, breakdown_keys=breakdown_keys, n_resamples=n_resamples,
                     seed=seed, level=level)
    settings = {"n_resamples": n_resamples, "seed": seed, "level": level, "split": split, "test": test,
                "include_stale": include_stale}
    if human_label != "per-vote":
        settings["human_label"] = human_label
    return AgreementResult(rows=rows, human=human, comparisons=comparisons, settings=settings,
                           confusion=confusion, breakdowns=bds)


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each value's position among them), like ``np.unique(...,
    return_inverse=True)`` but sorting only the distinct values."""
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    order = np.array(sorted(range(len(uniques)), key=lambda k: uniques[k]), dtype=np.int64)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[order] = np.arange(len(uniques))
    return uniques[order], rank[codes]


def _pair_codes(cluster: np.ndarray, qids, lo: pd.Series, hi: pd.Series) -> tuple[np.ndarray, pd.MultiIndex]:
    """Each vote's pair number (pairs numbered by first appearance, as
    ``pd.MultiIndex.from_frame(...).factorize()`` does) and the pairs as a (qid, lo, hi) index,
    computed on integer codes."""
    lo_code, lo_names = pd.factorize(lo)
    hi_code, hi_names = pd.factorize(hi)
    key = (cluster.astype(np.int64) * len(lo_names) + lo_code) * len(hi_names) + hi_code
    pair_id, first = pd.factorize(key)
    q, rest = np.divmod(first, len(lo_names) * len(hi_names))
    lo_k, hi_k = np.divmod(rest, len(hi_names))
    index = pd.MultiIndex.from_arrays([np.asarray(qids, dtype=object)[q], np.asarray(lo_names, dtype=object)[lo_k],
                                       np.asarray(hi_names, dtype=object)[hi_k]], names=PAIR)
    return pair_id, index


def _lengths(qids, models, lengths: Mapping[tuple[str, str], int]) -> np.ndarray:
    return np.array([lengths.get((str(q), m), np.nan) for q, m in zip(qids, models, strict=True)], dtype=float)
