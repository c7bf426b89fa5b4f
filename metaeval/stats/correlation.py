"""Correlation meta-evaluation of pointwise scores: judge vs. people at item, system and global level.

- item level: for each item, correlate the systems' human and judge scores; average over items.
  Items where either side is constant (correlation undefined) are counted in ``n_constant`` and
  left out of the average, never silently.
- system level: each system's mean score over the items both sides scored; correlate across systems.
- global level: correlate all (item, system) scores at once.

Pearson, Spearman and Kendall's tau-b (scipy's default ``variant="b"``). Intervals resample items.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from metaeval.stats._util import undefined
from metaeval.stats.bootstrap import percentile_interval

__all__ = ["correlate", "correlation_table", "LEVELS", "METHODS"]

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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "pearson":
            return float(stats.pearsonr(a, b)[0])
        if method == "spearman":
            return float(stats.spearmanr(a, b)[0])
        if method == "kendall":
            return float(stats.kendalltau(a, b)[0])
    raise ValueError(f"unknown method {method!r}")


def _quiet(x, y, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return correlate(x, y, method=method)


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


def _agg_level(m: pd.DataFrame, lvl: str, rng: np.random.Generator, n_resamples: int, level: float) -> dict:
    items = np.sort(m["item"].unique())
    idx = {it: k for k, it in enumerate(items)}
    m = m.assign(ii=m["item"].map(idx))

    def compute(weights: np.ndarray | None) -> dict[str, float]:
        if lvl == "global":
            w = np.ones(len(m)) if weights is None else weights[m["ii"].to_numpy()]
            rep = np.repeat(np.arange(len(m)), w.astype(int))
            x, y = m["human"].to_numpy()[rep], m["judge"].to_numpy()[rep]
        else:
            w = np.ones(len(m)) if weights is None else weights[m["ii"].to_numpy()]
            g = pd.DataFrame({"s": m["system"], "h": m["human"] * w, "j": m["judge"] * w, "w": w}).groupby("s").sum()
            g = g[g["w"] > 0]
            x, y = (g["h"] / g["w"]).to_numpy(), (g["j"] / g["w"]).to_numpy()
        return {meth: _quiet(x, y, meth) for meth in METHODS}

    point = compute(None)
    n = len(m) if lvl == "global" else int(m["system"].nunique())
    out: dict = {"n": n, "n_groups": 1, "n_constant": int(np.isnan(point["pearson"])), "ci": {}}
    for meth in METHODS:
        out[meth] = point[meth] if not np.isnan(point[meth]) else undefined(f"{lvl}-level {meth} undefined")
    w = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=n_resamples)
    reps = np.array([[r[meth] for meth in METHODS] for r in (compute(wb) for wb in w)])
    ci = percentile_interval(reps, level=level)
    for k, meth in enumerate(METHODS):
        out["ci"][meth] = ci[k].tolist()
    return out


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

    def prep(df: pd.DataFrame) -> dict[str, pd.Series]:
        d = df.assign(item=df["item_id"].astype(str))
        crit = d.groupby(["criterion", "item", "system"])["score"].mean()
        per = {c: crit.loc[c] for c in crit.index.get_level_values(0).unique()}
        if "overall" not in per:
            per["overall"] = crit.groupby(level=["item", "system"]).mean()
        return per

    hp = prep(human)
    rows = []
    for name, jdf in judges.items():
        jp = prep(jdf)
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
