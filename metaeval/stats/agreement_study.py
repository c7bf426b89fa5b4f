"""Assemble the Table 4 statistics: every judge row against the human votes, the human ceiling,
and paired comparisons, all with clustered bootstrap intervals sharing one set of resamples.

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
from metaeval.stats.bias import length_bias, position_bias
from metaeval.stats.bootstrap import bootstrap_ratio, cluster_sums, percentile_interval
from metaeval.stats.breakdown import breakdown
from metaeval.stats.coefficients import cohen_kappa, counts_table, fleiss_kappa, krippendorff_alpha
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


@dataclass
class AgreementResult:
    """Everything the reports need. ``rows``, ``human`` and ``comparisons`` follow DESIGN section 4."""

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
        return _clean(out)


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return None if not np.isfinite(obj) else float(obj)
    return obj


def _f(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


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
    """
    if human_label not in HUMAN_LABELS:
        raise ValueError(f"human_label must be one of {', '.join(HUMAN_LABELS)}")
    if test not in ("signflip", "mcnemar"):
        raise ValueError("test must be 'signflip' or 'mcnemar'")
    rng = np.random.default_rng(seed)
    h = votes_frame(human_votes)
    keep = h["criterion"].isna().to_numpy().copy()
    if not include_stale:
        keep &= ~h["stale"].to_numpy()
    if (~keep).any():
        log.info("left out %d human votes (per-criterion or stale)", int((~keep).sum()))
    h = h[keep].reset_index(drop=True)
    if h.empty:
        raise ValueError("no human votes to compare with")
    n_votes = len(h)
    pair_id, pair_index = pd.MultiIndex.from_frame(h[PAIR]).factorize()
    pair_index = pair_index.set_names(PAIR)  # factorize drops level names (pandas 3)
    pairs = pair_index.to_frame(index=False)
    n_pairs = len(pairs)
    cluster, qids = pd.factorize(h["qid"])
    n_q = len(qids)
    pair_cluster = np.zeros(n_pairs, dtype=np.int64)
    pair_cluster[pair_id] = cluster
    ho = h["outcome"].to_numpy().astype(float)
    counts = np.bincount(pair_id * 3 + (ho.astype(np.int64) + 1), minlength=n_pairs * 3).reshape(n_pairs, 3)
    majority = plurality(counts, split=split)
    # comparison rows for the judges: every vote, or one aggregated label per pair
    if human_label == "per-vote":
        c_pair, c_o, c_cluster, c_rows = pair_id, ho, cluster, h
    else:
        if human_label == "majority":
            pair_label = majority
        else:
            from metaeval.stats.annotators import aggregate_labels

            ds = aggregate_labels(h, model="dawid-skene", include_stale=True)
            pair_label = ds.set_index(PAIR)["label"].reindex(pair_index).to_numpy(dtype=float)
            majority = pair_label  # kappa is computed against the aggregated label too
        first_row = np.zeros(n_pairs, dtype=np.int64)
        first_row[pair_id[::-1]] = np.arange(n_votes)[::-1]
        c_pair = np.flatnonzero(~np.isnan(pair_label))
        c_o = pair_label[c_pair]
        c_cluster = pair_cluster[c_pair]
        c_rows = h.iloc[first_row[c_pair]].reset_index(drop=True)
    n_comp = len(c_pair)

    # ---------------------------------------------------------- judge verdicts aligned to votes
    names = list(judges)
    jv = {}
    for name in names:
        j = judges[name]
        if not isinstance(j, JudgeVerdicts):
            j = JudgeVerdicts.from_votes(j)
        jv[name] = j
    r = len(names)
    v_m = np.full((n_comp, r), np.nan)
    vab_m = np.full((n_comp, r), np.nan)
    vba_m = np.full((n_comp, r), np.nan)
    pv_m = np.full((n_pairs, r), np.nan)
    for k, name in enumerate(names):
        jp = jv[name].pairs.set_index(PAIR)
        aligned = jp.reindex(pair_index)
        pv = aligned["verdict"].to_numpy(dtype=float)
        pv_m[:, k] = pv
        v_m[:, k] = pv[c_pair]
        vab_m[:, k] = aligned["v_ab"].to_numpy(dtype=float)[c_pair]
        vba_m[:, k] = aligned["v_ba"].to_numpy(dtype=float)[c_pair]
        missing = int(np.isnan(pv).sum())
        if missing:
            log.warning("judge %s has no verdict on %d of %d pairs; their votes are left out of its row",
                        name, missing, n_pairs)

    valid = ~np.isnan(v_m)
    match = valid & (v_m == c_o[:, None])
    nt = valid & (v_m != 0) & (c_o[:, None] != 0)
    match_nt = nt & match
    both = ~np.isnan(vab_m) & ~np.isnan(vba_m)
    match_both = both & (vab_m == c_o[:, None]) & (vba_m == c_o[:, None])

    # ---------------------------------------------------------- human ceiling
    hh = human_human_counts(ho.astype(np.int64), pair_id, n_groups=n_pairs)
    ovo_m, ovo_c = one_vs_others_majority(ho.astype(np.int64), pair_id, split=split)
    ovo_m_nt, ovo_c_nt = one_vs_others_majority(ho.astype(np.int64), pair_id, split=split, ties=False)
    if human_label == "dawid-skene":
        from metaeval.stats.annotators import aggregate_labels

        loo = aggregate_labels(h, model="dawid-skene", leave_one_out=True, include_stale=True)["loo_label"].to_numpy()
        ceil_c = ~np.isnan(loo)
        ceil_m = ceil_c & (ho == np.nan_to_num(loo, nan=9))
        ceil_c_nt = ceil_c & (ho != 0) & (np.nan_to_num(loo) != 0)
        ceil = (ceil_m.astype(float), ceil_c.astype(float), (ceil_m & ceil_c_nt).astype(float), ceil_c_nt.astype(float))
    else:
        ceil = (ovo_m, ovo_c, ovo_m_nt, ovo_c_nt)

    # ---------------------------------------------------------- comparisons (paired)
    combos = list(itertools.combinations(range(r), 2))
    common = np.stack([valid[:, a] & valid[:, b] for a, b in combos], axis=1) if combos else np.zeros((n_comp, 0), bool)
    diff = np.stack([(match[:, a].astype(float) - match[:, b]) * common[:, c] for c, (a, b) in enumerate(combos)],
                    axis=1) if combos else np.zeros((n_comp, 0))

    # ---------------------------------------------------------- one bootstrap for everything
    per_comp_num = np.concatenate([match, match_nt, diff], axis=1)
    per_comp_den = np.concatenate([valid, nt, common], axis=1)
    per_vote_num = np.stack([ovo_m, ovo_m_nt, ceil[0], ceil[2]], axis=1)
    per_vote_den = np.stack([ovo_c, ovo_c_nt, ceil[1], ceil[3]], axis=1)
    num = np.concatenate([cluster_sums(c_cluster, per_comp_num, n_clusters=n_q),
                          cluster_sums(cluster, per_vote_num, n_clusters=n_q)], axis=1)
    den = np.concatenate([cluster_sums(c_cluster, per_comp_den, n_clusters=n_q),
                          cluster_sums(cluster, per_vote_den, n_clusters=n_q)], axis=1)
    hh_num = np.stack([np.bincount(pair_cluster, weights=hh[k], minlength=n_q) for k in ("match", "match_nt")], axis=1)
    hh_den = np.stack([np.bincount(pair_cluster, weights=hh[k], minlength=n_q) for k in ("total", "total_nt")], axis=1)
    num = np.concatenate([num, hh_num], axis=1)
    den = np.concatenate([den, hh_den], axis=1)
    reps = bootstrap_ratio(num, den, n_resamples=n_resamples, rng=rng)
    ci = percentile_interval(reps, level=level)
    point = np.divide(num.sum(axis=0), den.sum(axis=0), out=np.full(num.shape[1], np.nan), where=den.sum(axis=0) > 0)
    c = len(combos)
    sl_agree, sl_nt = slice(0, r), slice(r, 2 * r)
    sl_diff = slice(2 * r, 2 * r + c)
    i_ovo, i_ovo_nt, i_ceil, i_ceil_nt = 2 * r + c, 2 * r + c + 1, 2 * r + c + 2, 2 * r + c + 3
    i_hh, i_hh_nt = 2 * r + c + 4, 2 * r + c + 5

    # ---------------------------------------------------------- majority & kappa

    rows = []
    confusion = {}
    for k, name in enumerate(names):
        ok = ~np.isnan(pv_m[:, k]) & ~np.isnan(majority)
        kappa = cohen_kappa(majority[ok], pv_m[ok, k], labels=[-1.0, 0.0, 1.0]) if ok.any() else float("nan")
        has_both = ~np.isnan(jv[name].pairs["v_ab"]) & ~np.isnan(jv[name].pairs["v_ba"])
        pc = float(np.mean(jv[name].pairs.loc[has_both, "v_ab"] == jv[name].pairs.loc[has_both, "v_ba"])) \
            if has_both.any() else None
        ab = _ratio(match_both[:, k].sum(), both[:, k].sum()) if both[:, k].any() else None
        raw = jv[name].raw
        pos = position_bias(raw["outcome"], raw["first_lo"]) if raw is not None and raw["first_lo"].notna().any() else None
        lb = None
        if lengths is not None:
            sel = ~np.isnan(pv_m[:, k])
            lb = _f(length_bias(pv_m[sel, k], _lengths(pairs["qid"][sel], pairs["lo"][sel], lengths),
                                _lengths(pairs["qid"][sel], pairs["hi"][sel], lengths),
                                min_relative_difference=min_length_difference))
        vk = valid[:, k]
        cm = np.bincount(((c_o[vk] + 1) * 3 + (v_m[vk, k] + 1)).astype(np.int64), minlength=9).reshape(3, 3)
        confusion[name] = cm[::-1, ::-1].tolist()  # rows human a/tie/b, columns judge a/tie/b
        method, _, judge_name = name.rpartition("/") if "/" in name else ("", "", name)
        rows.append({
            "judge": name, "method": method, "judge_model": judge_name,
            "n_votes": int(valid[:, k].sum()), "agreement": _f(point[sl_agree][k]),
            "ci": [_f(ci[sl_agree][k, 0]), _f(ci[sl_agree][k, 1])],
            "n_votes_no_ties": int(nt[:, k].sum()), "agreement_no_ties": _f(point[sl_nt][k]),
            "ci_no_ties": [_f(ci[sl_nt][k, 0]), _f(ci[sl_nt][k, 1])],
            "kappa": _f(kappa), "n_pairs": int((~np.isnan(pv_m[:, k])).sum()),
            "position_consistency": pc, "agreement_both_orders": ab,
            "position_bias": _f(pos) if pos is not None else None, "length_bias": lb,
        })

    # ---------------------------------------------------------- paired tests
    comparisons = []
    if combos:
        d_q = cluster_sums(c_cluster, diff, n_clusters=n_q)
        p_sf = sign_flip_test(d_q, n_permutations=max(n_resamples, 1), rng=rng)
        p_mc = np.array([mcnemar_exact(match[common[:, i], a], match[common[:, i], b])
                         for i, (a, b) in enumerate(combos)])
        p_sel = p_sf if test == "signflip" else p_mc
        p_adj = holm(p_sel)
        for i, (a, b) in enumerate(combos):
            comparisons.append({
                "a": names[a], "b": names[b], "n_votes": int(common[:, i].sum()),
                "difference": _f(point[sl_diff][i]), "ci": [_f(ci[sl_diff][i, 0]), _f(ci[sl_diff][i, 1])],
                "test": test, "p_value": _f(p_sel[i]), "p_holm": _f(p_adj[i]),
                "p_signflip": _f(p_sf[i]), "p_mcnemar": _f(p_mc[i]),
            })

    # ---------------------------------------------------------- people
    raters, rater_idx = np.unique(h["rater"].to_numpy(), return_inverse=True)
    rel = np.full((len(raters), n_pairs), np.nan)
    rel[rater_idx, pair_id] = ho  # a rater's last vote on a pair wins
    multi = (~np.isnan(rel)).sum(axis=0) >= 2
    alpha_nom = krippendorff_alpha(rel[:, multi], level="nominal") if multi.any() else float("nan")
    alpha_ord = krippendorff_alpha(rel[:, multi], level="ordinal", value_domain=[-1.0, 0.0, 1.0]) if multi.any() else float("nan")
    fk = fleiss_kappa(counts_table(pair_id, ho, categories=[-1.0, 0.0, 1.0]))
    hl = None
    if lengths is not None:
        hl = _f(length_bias(ho, _lengths(h["qid"], h["lo"], lengths), _lengths(h["qid"], h["hi"], lengths),
                            min_relative_difference=min_length_difference))
    if human_label == "per-vote":
        i_a, i_a_nt, n_cmp = i_hh, i_hh_nt, int(hh["total"].sum())
    else:
        i_a, i_a_nt, n_cmp = i_ceil, i_ceil_nt, int(ceil[1].sum())
    human: dict[str, Any] = {
        "n_votes": n_votes, "n_pairs": n_pairs, "n_queries": n_q, "n_annotators": len(raters),
        "n_vote_pairs": n_cmp,
        "agreement": _f(point[i_a]), "ci": [_f(ci[i_a, 0]), _f(ci[i_a, 1])],
        "agreement_no_ties": _f(point[i_a_nt]), "ci_no_ties": [_f(ci[i_a_nt, 0]), _f(ci[i_a_nt, 1])],
        "vs_majority_of_others": _f(point[i_ovo]), "vs_majority_of_others_ci": [_f(ci[i_ovo, 0]), _f(ci[i_ovo, 1])],
        "vs_majority_of_others_no_ties": _f(point[i_ovo_nt]),
        "alpha": {"nominal": _f(alpha_nom), "ordinal": _f(alpha_ord)}, "fleiss_kappa": _f(fk),
        "position_bias": _f(position_bias(ho, h["first_lo"])) if h["first_lo"].notna().any() else None,
        "length_bias": hl,
    }
    if human_label != "per-vote":
        human["label"] = {"majority": "vote vs majority of others",
                          "dawid-skene": "vote vs Dawid–Skene of others"}[human_label]
        human["agreement_vote_pairs"] = _f(point[i_hh])
        human["agreement_vote_pairs_ci"] = [_f(ci[i_hh, 0]), _f(ci[i_hh, 1])]

    # ---------------------------------------------------------- breakdowns
    bds: dict[str, pd.DataFrame] = {}
    for key in breakdown_by:
        if breakdown_keys and key in breakdown_keys:
            labels = [breakdown_keys[key].get(q) for q in c_rows["qid"]]
        elif key == "model_pair":
            labels = (c_rows["lo"] + " vs " + c_rows["hi"]).tolist()
        elif key in ("domain1", "domain2", "lang"):
            labels = c_rows[key].tolist()
        else:
            raise ValueError(f"unknown breakdown {key!r}")
        bds[key] = breakdown(match, valid, c_cluster, labels, columns=names, n_resamples=n_resamples,
                             seed=seed, level=level)

    settings = {"n_resamples": n_resamples, "seed": seed, "level": level, "split": split, "test": test,
                "include_stale": include_stale}
    if human_label != "per-vote":
        settings["human_label"] = human_label
    return AgreementResult(rows=rows, human=human, comparisons=comparisons, settings=settings,
                           confusion=confusion, breakdowns=bds)


def _lengths(qids, models, lengths: Mapping[tuple[str, str], int]) -> np.ndarray:
    return np.array([lengths.get((str(q), m), np.nan) for q, m in zip(qids, models, strict=True)], dtype=float)
