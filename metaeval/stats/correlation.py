"""Correlation meta-evaluation of pointwise scores: judge vs. people at item, system and global level.

- item level: for each item, correlate the systems' human and judge scores; average over items.
  Items where either side is constant (correlation undefined) are counted in ``n_constant`` and
  left out of the average, never silently.
- system level: each system's mean score over the items both sides scored; correlate across systems.
- global level: correlate all (item, system) scores at once.

Pearson, Spearman and Kendall's tau-b (scipy's default ``variant="b"``). Intervals resample items.

Beside the judge-vs-people table:

- :func:`cohen_kappa` and :func:`rater_ceiling`: the people's agreement with each other (the
  ceiling a judge is read against): Cohen's kappa, plain and quadratic-weighted, and Pearson's r
  between every two raters over the cells both rated, averaged over rater pairs, with intervals
  that resample items.
- :func:`paired_correlation_tests`: every two judges (or criteria methods) compared on the same
  items: the difference of their correlations with the people, a paired bootstrap interval and
  p-value (items resampled once for both), Holm-adjusted within each (criterion, level).
- :func:`correlation_breakdown`: the table once per group of items (domain, language).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from metaeval.stats._util import undefined
from metaeval.stats.bootstrap import percentile_interval
from metaeval.stats.paired import holm

__all__ = ["correlate", "correlation_table", "LEVELS", "METHODS", "cohen_kappa", "rater_ceiling",
           "paired_correlation_tests", "correlation_breakdown"]

LEVELS = ("item", "system", "global")
METHODS = ("pearson", "spearman", "kendall")


def correlate(x: Sequence[float], y: Sequence[float], *, method: str = "pearson") -> float:
    """One correlation coefficient, ``nan`` with a warning when undefined (constant input or n < 2).

    Example (by hand): x = [1, 2, 3], y = [1, 3, 2]: concordant pairs (1,2),(1,3), discordant (2,3)
    -> tau-b = (2 - 1) / 3 = 0.333; Spearman = 1 - 6*2/(3*8) = 0.5.

    >>> round(correlate([1, 2, 3], [1, 3, 2], method="kendall"), 3), correlate([1, 2, 3], [1, 3, 2], method="spearman")
    (0.333, 0.5)
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.size < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return undefined(f"{method} correlation is undefined for constant input or fewer than 2 points")
    from scipy import stats  # here, not at import: scipy.stats takes a second to load (every command's start)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "pearson":
            return float(stats.pearsonr(a, b)[0])
        if method == "spearman":
            return float(stats.spearmanr(a, b)[0])
        if method == "kendall":
            return float(stats.kendalltau(a, b)[0])
    raise ValueError(f"unknown method {method!r}")


_SMALL = 400
"""Up to this many points, :func:`_quiet` computes in numpy (the same values as scipy to rounding,
without scipy's per-call overhead, which dominated the bootstrap loops)."""


def _pearson_np(a: np.ndarray, b: np.ndarray) -> float:
    da, db = a - a.mean(), b - b.mean()
    den = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return float((da * db).sum() / den) if den > 0 else float("nan")


def _average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (scipy's ``rankdata(method="average")``)."""
    order = np.argsort(a, kind="mergesort")
    srt = a[order]
    first = np.r_[True, srt[1:] != srt[:-1]]
    dense = first.cumsum()
    bounds = np.r_[np.nonzero(first)[0], a.size]
    out = np.empty(a.size)
    out[order] = 0.5 * (bounds[dense] + bounds[dense - 1] + 1)
    return out


def _kendall_np(a: np.ndarray, b: np.ndarray) -> float:
    sa, sb = np.sign(a[:, None] - a[None, :]), np.sign(b[:, None] - b[None, :])
    n0 = a.size * (a.size - 1) / 2
    ties_a = ((sa == 0).sum() - a.size) / 2
    ties_b = ((sb == 0).sum() - b.size) / 2
    den = float(np.sqrt((n0 - ties_a) * (n0 - ties_b)))
    return float((sa * sb).sum() / 2 / den) if den > 0 else float("nan")


def _quiet(x, y, method):  # noqa: ANN001, ANN202 - arrays in, a float out
    """:func:`correlate` without its warning (nan when undefined), in numpy for small inputs.

    >>> a, b = [1, 2, 3, 4, 4], [2, 1, 4, 3, 5]
    >>> all(abs(_quiet(a, b, m) - correlate(a, b, method=m)) < 1e-12 for m in METHODS)
    True
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.size > _SMALL:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return correlate(a, b, method=method)
    if a.size < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return float("nan")
    if method == "pearson":
        return _pearson_np(a, b)
    if method == "spearman":
        return _pearson_np(_average_ranks(a), _average_ranks(b))
    if method == "kendall":
        return _kendall_np(a, b)
    raise ValueError(f"unknown method {method!r}")


def _item_level(m: pd.DataFrame, rng: np.random.Generator, n_resamples: int, level: float) -> dict:
    items = m["item"].unique()
    per = {meth: np.full(len(items), np.nan) for meth in METHODS}
    for i, (_, g) in enumerate(m.groupby("item", sort=True)):
        for meth in METHODS:
            per[meth][i] = _quiet(g["human"].to_numpy(), g["judge"].to_numpy(), meth)
    ok = ~np.isnan(per["pearson"])
    out: dict = {"n": int(ok.sum()), "n_groups": len(items), "n_constant": int((~ok).sum()), "ci": {}}
    w = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=n_resamples).astype(float)
    for meth in METHODS:
        v = per[meth]
        good = ~np.isnan(v)
        out[meth] = float(v[good].mean()) if good.any() else undefined("no item with a defined correlation")
        reps = np.divide(w @ np.where(good, v, 0.0), w @ good, out=np.full(n_resamples, np.nan), where=(w @ good) > 0)
        out["ci"][meth] = percentile_interval(reps[:, None], level=level)[0].tolist()
    return out


def _agg_arrays(m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(item position, human, judge, system code) of the merged frame as numpy arrays, once per
    bootstrap loop (pandas access in every replicate dominated its time)."""
    codes, _ = pd.factorize(np.asarray(m["system"], dtype=object), sort=True)
    return (m["ii"].to_numpy(dtype=int), m["human"].to_numpy(dtype=float), m["judge"].to_numpy(dtype=float),
            np.asarray(codes))


def _agg_compute(m: pd.DataFrame | tuple, lvl: str, weights: np.ndarray | None,
                 methods: Sequence[str] = METHODS) -> dict[str, float]:
    """System- or global-level correlations of the merged frame ``m`` (columns item, system, human,
    judge, ii = the item's position; or its :func:`_agg_arrays`) with per-item frequency
    ``weights`` (None: each item once)."""
    ii, h, j, codes = m if isinstance(m, tuple) else _agg_arrays(m)
    w = np.ones(ii.size) if weights is None else np.asarray(weights, dtype=float)[ii]
    if lvl == "global":
        rep = np.repeat(np.arange(ii.size), w.astype(int))
        x, y = h[rep], j[rep]
    else:
        ws = np.bincount(codes, weights=w)
        keep = ws > 0
        x = np.bincount(codes, weights=h * w)[keep] / ws[keep]
        y = np.bincount(codes, weights=j * w)[keep] / ws[keep]
    return {meth: _quiet(x, y, meth) for meth in methods}


def _with_item_index(m: pd.DataFrame, items: np.ndarray) -> pd.DataFrame:
    idx = {it: k for k, it in enumerate(items)}
    return m.assign(ii=m["item"].map(idx))


def _agg_level(m: pd.DataFrame, lvl: str, rng: np.random.Generator, n_resamples: int, level: float) -> dict:
    items = np.sort(m["item"].unique())
    m = _with_item_index(m, items)
    point = _agg_compute(m, lvl, None)
    n = len(m) if lvl == "global" else int(m["system"].nunique())
    out: dict = {"n": n, "n_groups": 1, "n_constant": int(np.isnan(point["pearson"])), "ci": {}}
    for meth in METHODS:
        out[meth] = point[meth] if not np.isnan(point[meth]) else undefined(f"{lvl}-level {meth} undefined")
    w = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=n_resamples)
    arrays = _agg_arrays(m)
    reps = np.array([[r[meth] for meth in METHODS] for r in (_agg_compute(arrays, lvl, wb) for wb in w)])
    ci = percentile_interval(reps, level=level)
    for k, meth in enumerate(METHODS):
        out["ci"][meth] = ci[k].tolist()
    return out


def _prep(df: pd.DataFrame) -> dict[str, pd.Series]:
    """criterion -> (item, system) -> mean score over raters; "overall" added as the mean over
    criteria when the frame has no explicit "overall" criterion."""
    d = df.assign(item=df["item_id"].astype(str))
    crit = d.groupby(["criterion", "item", "system"])["score"].mean()
    per = {c: crit.loc[c] for c in crit.index.get_level_values(0).unique()}
    if "overall" not in per:
        per["overall"] = crit.groupby(level=["item", "system"]).mean()
    return per


def correlation_table(human: pd.DataFrame, judges: dict[str, pd.DataFrame], *, levels: Sequence[str] = LEVELS,
                      n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> list[dict]:
    """Rows {judge, criterion, level, pearson, spearman, kendall, n, n_groups, n_constant, ci}.

    ``human`` and each judge frame have columns item_id, system, criterion, score (raters are
    averaged). Criteria present on both sides get their own rows; "overall" (the explicit
    "overall" criterion when present, else the mean over criteria) is always reported.

    Example: two items x three systems where the judge equals the people's scores -> all 1.0.

    >>> h = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2], "system": list("abcabc"), "criterion": "overall",
    ...                   "score": [1, 2, 3, 2, 3, 5]})
    >>> rows = correlation_table(h, {"j": h}, levels=["item"], n_resamples=20)
    >>> round(rows[0]["pearson"], 9), rows[0]["kendall"], rows[0]["n_constant"]
    (1.0, 1.0, 0)
    """
    rng = np.random.default_rng(seed)
    hp = _prep(human)
    rows = []
    for name, jdf in judges.items():
        jp = _prep(jdf)
        crits = ["overall"] + sorted(c for c in hp if c in jp and c != "overall")
        for crit in crits:
            m = pd.concat([hp[crit].rename("human"), jp[crit].rename("judge")], axis=1, join="inner").reset_index()
            for lvl in levels:
                if lvl not in LEVELS:
                    raise ValueError(f"unknown level {lvl!r}")
                if m.empty:
                    res = {"n": 0, "n_groups": 0, "n_constant": 0, "ci": {k: [None, None] for k in METHODS},
                           **{k: undefined(f"no common items for {name}/{crit}") for k in METHODS}}
                elif lvl == "item":
                    res = _item_level(m, rng, n_resamples, level)
                else:
                    res = _agg_level(m, lvl, rng, n_resamples, level)
                rows.append({"judge": name, "criterion": crit, "level": lvl, **res})
    return rows


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Pearson's r with frequency weights (the same as repeating each point ``w`` times); nan when
    either side is constant."""
    tot = w.sum()
    if tot <= 0:
        return float("nan")
    mx, my = (w * x).sum() / tot, (w * y).sum() / tot
    sxy = (w * (x - mx) * (y - my)).sum()
    sxx, syy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum()
    if sxx <= 1e-12 * max(1.0, tot) or syy <= 1e-12 * max(1.0, tot):
        return float("nan")
    return float(sxy / np.sqrt(sxx * syy))


def _weighted_kappa(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, quadratic: bool) -> float:
    cats = np.union1d(x, y)
    if cats.size < 2 or w.sum() <= 0:
        return float("nan")
    ix, iy = np.searchsorted(cats, x), np.searchsorted(cats, y)
    table = np.zeros((cats.size, cats.size))
    np.add.at(table, (ix, iy), w)
    table /= table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    dist = (cats[:, None] - cats[None, :]) ** 2 if quadratic else 1.0 - np.eye(cats.size)
    disagree_expected = float((dist * expected).sum())
    if disagree_expected <= 0:
        return float("nan")
    return 1.0 - float((dist * table).sum()) / disagree_expected


def cohen_kappa(x: Sequence[float], y: Sequence[float], *, weights: str | None = None) -> float:
    """Cohen's kappa between two raters' scores on the same cells.

    ``weights=None``: plain kappa, every two different scores count as a full disagreement.
    ``weights="quadratic"``: disagreements weighted by the squared distance of the two scores
    (on a 1-10 scale, a 7 against an 8 costs 1/81 of a 1 against a 10), so the statistic
    suits ordered scores. Both read the categories from the scores seen. ``nan`` with a warning
    when undefined (one category only).

    Example (by hand, a 3x3 table; rows rater A, columns rater B; counts):

    ====  ==  ==  ==
    A\\B   1   2   3
    ====  ==  ==  ==
    1      4   1   0
    2      1   3   1
    3      0   1   4
    ====  ==  ==  ==

    n = 15, agreement p_o = 11/15; both margins 5/15 each, so p_e = 3 * 1/9 = 1/3;
    kappa = (11/15 - 1/3) / (1 - 1/3) = 0.6. Quadratic: observed disagreement = 4 cells at
    distance 1 -> 4/15; expected = sum over cells of (1/9) * (i - j)^2 = 12/9; kappa_w =
    1 - (4/15) / (12/9) = 0.8.

    >>> a = [1] * 5 + [2] * 5 + [3] * 5
    >>> b = [1, 1, 1, 1, 2] + [1, 2, 2, 2, 3] + [2, 3, 3, 3, 3]
    >>> round(cohen_kappa(a, b), 6), round(cohen_kappa(a, b, weights="quadratic"), 6)
    (0.6, 0.8)
    """
    if weights not in (None, "quadratic"):
        raise ValueError(f"weights must be None or 'quadratic', not {weights!r}")
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ValueError("x and y must have the same length")
    k = _weighted_kappa(xa, ya, np.ones(xa.size), quadratic=weights == "quadratic")
    return k if not np.isnan(k) else undefined("Cohen's kappa is undefined when every score is the same")


CEILING_STATS = ("cohen_kappa", "cohen_kappa_quadratic", "pearson")


def rater_ceiling(ratings: pd.DataFrame, *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """People against each other: Cohen's kappa (plain and quadratic-weighted) and Pearson's r.

    ``ratings`` has columns item_id, system, criterion, rater, score. For every two raters, the
    statistics are computed over the (item, system, criterion) cells both rated (a rater's
    repeated scores on a cell are averaged); each statistic is then the mean over rater pairs
    with at least two shared cells (pairs where it is undefined are left out of that mean).
    Intervals resample items (every cell of a drawn item comes along), the same draw for every
    rater pair.

    Returns ``{"n_raters", "n_rater_pairs", "n_shared", "cohen_kappa", "cohen_kappa_quadratic",
    "pearson", "ci": {stat: [lo, hi]}, "n_resamples", "level"}`` (statistics None when undefined).

    Example: r1 rates 1 2 3 4 and r2 rates 1 2 4 4 on four cells: plain kappa = (3/4 - 1/4) / (3/4);
    Pearson = 5.5 / sqrt(5 * 6.75).

    >>> f = pd.DataFrame({"item_id": [1, 2, 3, 4] * 2, "system": "s", "criterion": "c",
    ...                   "rater": ["r1"] * 4 + ["r2"] * 4, "score": [1, 2, 3, 4, 1, 2, 4, 4]})
    >>> c = rater_ceiling(f, n_resamples=50)
    >>> round(c["cohen_kappa"], 4), round(c["pearson"], 4), c["n_rater_pairs"]
    (0.6667, 0.9467, 1)
    """
    frame = ratings.assign(item=ratings["item_id"].astype(str))
    wide = frame.pivot_table(index=["item", "system", "criterion"], columns="rater", values="score", aggfunc="mean")
    items = np.sort(frame["item"].unique())
    pos = {it: k for k, it in enumerate(items)}
    pairs = []
    for a, b in itertools.combinations(wide.columns, 2):
        both = wide[[a, b]].dropna()
        if len(both) < 2:
            continue
        ii = np.array([pos[t[0]] for t in both.index])
        pairs.append((both[a].to_numpy(dtype=float), both[b].to_numpy(dtype=float), ii))

    def stats_for(weights: np.ndarray | None) -> np.ndarray:
        vals = np.full((len(pairs), 3), np.nan)
        for p, (x, y, ii) in enumerate(pairs):
            w = np.ones(x.size) if weights is None else weights[ii].astype(float)
            if w.sum() < 2:
                continue
            vals[p] = (_weighted_kappa(x, y, w, quadratic=False), _weighted_kappa(x, y, w, quadratic=True),
                       _weighted_pearson(x, y, w))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(vals, axis=0) if len(pairs) else np.full(3, np.nan)

    point = stats_for(None)
    out: dict = {"n_raters": int(len(wide.columns)), "n_rater_pairs": len(pairs),
                 "n_shared": int(sum(x.size for x, _, _ in pairs)), "n_resamples": n_resamples, "level": level}
    for k, name in enumerate(CEILING_STATS):
        out[name] = None if np.isnan(point[k]) else float(point[k])
    ci: dict[str, list] = {name: [None, None] for name in CEILING_STATS}
    if pairs and n_resamples > 0:
        rng = np.random.default_rng(seed)
        w = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=n_resamples)
        reps = np.array([stats_for(wb) for wb in w])
        bounds = percentile_interval(reps, level=level)
        ci = {name: [None if np.isnan(v) else float(v) for v in bounds[k]] for k, name in enumerate(CEILING_STATS)}
    out["ci"] = ci
    return out


def _level_values(m: pd.DataFrame | tuple, lvl: str, method: str, weights: np.ndarray | None,
                  per_item: np.ndarray | None) -> float:
    """One source's correlation at ``lvl`` under item ``weights`` (item level: the weighted mean of
    the precomputed ``per_item`` correlations over the items where it is defined)."""
    if lvl == "item":
        assert per_item is not None
        w = np.ones(per_item.size) if weights is None else weights.astype(float)
        good = ~np.isnan(per_item)
        den = (w * good).sum()
        return float((w * np.where(good, per_item, 0.0)).sum() / den) if den > 0 else float("nan")
    return _agg_compute(m, lvl, weights, (method,))[method]


def paired_correlation_tests(human: pd.DataFrame, judges: Mapping[str, pd.DataFrame], *,
                             levels: Sequence[str] = LEVELS, method: str = "pearson", n_resamples: int = 1000,
                             seed: int = 0, level: float = 0.95) -> list[dict]:
    """Every two judges (or criteria methods) compared on their correlation with the people.

    For each criterion both sources score and each level, the items all three (people, a, b)
    share are resampled with replacement, the same draw for ``a`` and ``b`` (paired), and
    ``difference = corr(a) - corr(b)`` recomputed. The interval is the percentile interval of
    the replicates; the two-sided p-value is that of the replicates centred on the observed
    difference, ``p = (1 + #{|d* - d| >= |d|}) / (1 + B)`` (so never 0). ``p_holm`` is Holm's
    adjustment over the comparisons of one (criterion, level) — the family a reader compares.
    At item level the items where either source's correlation is undefined are left out.

    Returns rows ``{"criterion", "level", "method", "a", "b", "a_value", "b_value", "difference",
    "ci", "p_value", "p_holm", "n_items"}``.

    Example: judge "good" equals the people, judge "flat" reverses one item's order.

    >>> h = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2], "system": list("abcabc"), "criterion": "overall",
    ...                   "score": [1, 2, 3, 3, 2, 1]})
    >>> bad = h.assign(score=[1, 2, 3, 1, 2, 3])
    >>> (row,) = paired_correlation_tests(h, {"good": h, "flat": bad}, levels=["item"], n_resamples=20)
    >>> row["a"], row["b"], round(row["difference"], 9)
    ('good', 'flat', 1.0)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    for lvl in levels:
        if lvl not in LEVELS:
            raise ValueError(f"unknown level {lvl!r}")
    rng = np.random.default_rng(seed)
    hp = _prep(human)
    preps = {name: _prep(df) for name, df in judges.items()}
    rows: list[dict] = []
    names = list(judges)
    crits = ["overall"] + sorted({c for p in preps.values() for c in p if c in hp and c != "overall"})
    for crit in crits:
        for lvl in levels:
            family: list[dict] = []
            for a, b in itertools.combinations(names, 2):
                if crit not in preps[a] or crit not in preps[b]:
                    continue
                m = pd.concat([hp[crit].rename("human"), preps[a][crit].rename("ja"), preps[b][crit].rename("jb")],
                              axis=1, join="inner").reset_index()
                items = np.sort(m["item"].unique())
                if len(items) < 2:
                    continue
                m = _with_item_index(m, items)
                ma, mb = m.rename(columns={"ja": "judge"}), m.rename(columns={"jb": "judge"})
                per_a = per_b = None
                if lvl == "item":
                    per_a, per_b = np.full(len(items), np.nan), np.full(len(items), np.nan)
                    for k, (_, g) in enumerate(m.groupby("ii", sort=True)):
                        per_a[k] = _quiet(g["human"].to_numpy(), g["ja"].to_numpy(), method)
                        per_b[k] = _quiet(g["human"].to_numpy(), g["jb"].to_numpy(), method)
                    both = ~np.isnan(per_a) & ~np.isnan(per_b)
                    per_a, per_b = np.where(both, per_a, np.nan), np.where(both, per_b, np.nan)
                if lvl != "item":
                    ma, mb = _agg_arrays(ma), _agg_arrays(mb)
                va = _level_values(ma, lvl, method, None, per_a)
                vb = _level_values(mb, lvl, method, None, per_b)
                d = va - vb
                w = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=n_resamples)
                reps = np.array([_level_values(ma, lvl, method, wb, per_a) - _level_values(mb, lvl, method, wb, per_b)
                                 for wb in w])
                reps = reps[~np.isnan(reps)]
                if np.isnan(d) or reps.size == 0:
                    ci, p = [None, None], float("nan")
                else:
                    ci = percentile_interval(reps[:, None], level=level)[0].tolist()
                    p = float((1 + np.sum(np.abs(reps - d) >= abs(d) - 1e-12)) / (1 + reps.size))
                family.append({"criterion": crit, "level": lvl, "method": method, "a": a, "b": b,
                               "a_value": None if np.isnan(va) else va, "b_value": None if np.isnan(vb) else vb,
                               "difference": None if np.isnan(d) else float(d), "ci": ci, "p_value": p,
                               "n_items": len(items)})
            adj = holm([r["p_value"] for r in family])
            for r, q in zip(family, adj, strict=True):
                r["p_holm"] = None if np.isnan(q) else float(q)
                r["p_value"] = None if np.isnan(r["p_value"]) else r["p_value"]
            rows.extend(family)
    return rows


def correlation_breakdown(human: pd.DataFrame, judges: Mapping[str, pd.DataFrame], *, by: str,
                          levels: Sequence[str] = LEVELS, n_resamples: int = 1000, seed: int = 0,
                          level: float = 0.95) -> list[dict]:
    """:func:`correlation_table` once per group of items, grouped by the people's ``by`` column
    (``domain1``, ``domain2`` or ``lang``; an item without it is in "(unknown)"). Rows carry
    ``by`` and ``group``; judges' scores are matched to the group through the item.

    Example: two languages, the judge agrees on the "en" items and reverses the "zh" ones.

    >>> h = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2], "system": list("abcabc"), "criterion": "overall",
    ...                   "score": [1, 2, 3, 1, 2, 3], "lang": ["en"] * 3 + ["zh"] * 3})
    >>> j = h.assign(score=[1, 2, 3, 3, 2, 1]).drop(columns="lang")
    >>> rows = correlation_breakdown(h, {"j": j}, by="lang", levels=["item"], n_resamples=10)
    >>> [(r["group"], round(r["pearson"], 9)) for r in rows]
    [('en', 1.0), ('zh', -1.0)]
    """
    if by not in human.columns:
        raise ValueError(f"the ratings carry no {by!r} field")
    keys = human[by].astype(object).where(human[by].notna(), "(unknown)").astype(str)
    item_group = pd.Series(keys.to_numpy(), index=human["item_id"].astype(str)).groupby(level=0).first()
    rows: list[dict] = []
    for group in sorted(item_group.unique()):
        ids = set(item_group.index[item_group == group])
        sub_h = human[human["item_id"].astype(str).isin(ids)]
        sub_j = {n: df[df["item_id"].astype(str).isin(ids)] for n, df in judges.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part = correlation_table(sub_h, sub_j, levels=levels, n_resamples=n_resamples, seed=seed, level=level)
        rows.extend({"by": by, "group": group, **r} for r in part)
    return rows
