"""Agreement broken down by a grouping of the human votes (domain, subdomain, language, subset,
model pair), each group with a clustered bootstrap interval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from metaeval.stats.bootstrap import bootstrap_ratio, cluster_sums, percentile_interval

__all__ = ["breakdown"]


def breakdown(match: np.ndarray, valid: np.ndarray, cluster: np.ndarray, keys: Sequence, *,
              columns: Sequence[str], n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Agreement per group and per column (judge).

    ``match`` and ``valid`` are votes x columns 0/1 arrays, ``cluster`` the query id (0..Q-1) of
    each vote and ``keys`` its group label (None/nan = unknown, reported as "(unknown)"). Returns
    a long frame: group, column, n, agreement, lo, hi.

    Example: two groups, one judge; group "x" matches 1 of 2 votes, group "y" 2 of 2.

    >>> df = breakdown(np.array([[1], [0], [1], [1]]), np.ones((4, 1)), np.array([0, 1, 2, 3]),
    ...                ["x", "x", "y", "y"], columns=["j"], n_resamples=50)
    >>> df[["group", "agreement"]].values.tolist()
    [['x', 0.5], ['y', 1.0]]
    """
    m = np.asarray(match, dtype=float)
    v = np.asarray(valid, dtype=float)
    k = pd.Series(list(keys), dtype=object).where(pd.notna(pd.Series(list(keys), dtype=object)), "(unknown)")
    rng = np.random.default_rng(seed)
    rows = []
    for group in sorted(k.unique(), key=str):
        sel = (k == group).to_numpy()
        cl = pd.factorize(np.asarray(cluster)[sel])[0]
        num = cluster_sums(cl, m[sel])
        den = cluster_sums(cl, v[sel])
        reps = bootstrap_ratio(num, den, n_resamples=n_resamples, rng=rng)
        ci = percentile_interval(reps, level=level)
        tot_n = den.sum(axis=0)
        agr = np.divide(num.sum(axis=0), tot_n, out=np.full(tot_n.shape, np.nan), where=tot_n > 0)
        for j, col in enumerate(columns):
            rows.append({"group": str(group), "column": col, "n": int(tot_n[j]), "agreement": float(agr[j]),
                         "lo": float(ci[j, 0]), "hi": float(ci[j, 1])})
    return pd.DataFrame(rows, columns=["group", "column", "n", "agreement", "lo", "hi"])
