"""Clustered (by query) bootstrap of ratio statistics, vectorised over resamples.

A ratio statistic here is ``sum(numerator) / sum(denominator)`` over votes, e.g. agreement =
matches / votes. Resampling queries with replacement moves all votes of a query together: each
resample is a vector of integer weights (how often each query was drawn), and every statistic of
every row is a matrix product ``weights @ per_query_sums``. No Python loop per resample.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from metaeval.stats._util import safe_ratio

__all__ = ["cluster_weights", "cluster_sums", "bootstrap_ratio", "bootstrap_stacked", "cluster_kinds", "percentile_interval", "unique_columns"]

_CHUNK_CELLS = 20_000_000  # bound on resamples x clusters held at once
_RATIO_CHUNK_CELLS = 2_000_000  # bootstrap_ratio's bound (the random stream does not depend on it)


def cluster_weights(n_clusters: int, n_resamples: int, *, rng: np.random.Generator,
                    dtype: type = np.int64) -> np.ndarray:
    """Draw ``n_resamples`` bootstrap weight vectors over ``n_clusters`` clusters.

    Row b counts how often each cluster was drawn in resample b (each row sums to n_clusters),
    as ``dtype`` (float: ready for a matrix product).

    >>> w = cluster_weights(4, 3, rng=np.random.default_rng(0))
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 4), [4, 4, 4])
    """
    idx = _draws(n_clusters, n_resamples, rng)
    out: np.ndarray = np.empty((n_resamples, n_clusters), dtype=dtype)
    for b in range(n_resamples):  # one resample at a time: its counts stay in cache (one bincount of all is ~6x slower)
        out[b] = np.bincount(idx[b], minlength=n_clusters)
    return out


def _draws(n_clusters: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The clusters drawn by each resample (resamples x clusters), the stream every bootstrap here uses."""
    # 32-bit draws give the same values as 64-bit ones for ranges below 2**32 (numpy draws 32 bits
    # per value either way) at half the memory
    small = n_resamples * n_clusters < 2**31
    return rng.integers(0, n_clusters, size=(n_resamples, n_clusters), dtype=np.int32 if small else np.int64)


def cluster_sums(cluster: np.ndarray, values: np.ndarray, *, n_clusters: int | None = None) -> np.ndarray:
    """Sum ``values`` (votes x columns, or votes) within each cluster id (0..n_clusters-1).

    >>> cluster_sums(np.array([0, 1, 0]), np.array([1.0, 2.0, 3.0])).tolist()
    [4.0, 2.0]
    """
    cluster = np.asarray(cluster)
    k = int(cluster.max()) + 1 if n_clusters is None else n_clusters
    v = np.asarray(values)  # converted one column at a time (no float copy of a large matrix)
    if v.ndim == 1:
        return np.bincount(cluster, weights=v.astype(float, copy=False), minlength=k)
    out = np.zeros((k, v.shape[1]))
    for j in range(v.shape[1]):
        out[:, j] = np.bincount(cluster, weights=v[:, j].astype(float), minlength=k)
    return out


def bootstrap_ratio(num: np.ndarray, den: np.ndarray, *, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of ``sum(num) / sum(den)`` for each column, resampling clusters.

    ``num`` and ``den`` are clusters x columns arrays of per-cluster sums. Returns resamples x
    columns (``nan`` where a resample has an empty denominator). The same weights serve every
    column, so differences between columns are paired.

    When the per-cluster sums are integers (counts of votes) and the clusters fall into few kinds
    (equal rows), a resample is drawn as how often each kind is drawn: multinomial counts with the
    kinds' shares, which is how the counts of q clusters drawn with replacement are distributed. No
    resample of clusters (let alone of votes) is materialised. Otherwise (e.g. design weights) each
    resample draws the clusters (:func:`cluster_weights`).

    Example: two clusters with 1/1 and 0/1 matches; every resample mean is 0, .5 or 1.

    >>> r = bootstrap_ratio(np.array([[1.0], [0.0]]), np.array([[1.0], [1.0]]), n_resamples=200,
    ...                     rng=np.random.default_rng(1))
    >>> sorted(set(r[:, 0].tolist()))
    [0.0, 0.5, 1.0]
    """
    num = np.atleast_2d(np.asarray(num, dtype=float).T).T
    den = np.atleast_2d(np.asarray(den, dtype=float).T).T
    return bootstrap_stacked(np.concatenate([num, den], axis=1), num.shape[1], n_resamples=n_resamples, rng=rng)


def bootstrap_stacked(stacked: np.ndarray, k: int, *, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`bootstrap_ratio` of ``stacked[:, :k] / stacked[:, k:]`` (numerators, then as many
    denominators), for callers that hold the two side by side already (no further copy of them)."""
    q = stacked.shape[0]
    kinds = cluster_kinds(stacked)
    if kinds is None:
        # equal columns (e.g. the same denominator for every judge) are resampled once
        distinct, inverse = unique_columns(stacked)
        out = np.empty((n_resamples, distinct.shape[1]))
        chunk = max(1, _RATIO_CHUNK_CELLS // max(q, 1))
        for start in range(0, n_resamples, chunk):
            stop = min(n_resamples, start + chunk)
            out[start:stop] = cluster_weights(q, stop - start, rng=rng, dtype=np.float64) @ distinct
    else:  # how often each kind is drawn: exact integer sums (below 2**53), in any order
        rows, kind = kinds
        share = np.bincount(kind, minlength=len(rows)) / q
        distinct, inverse = unique_columns(rows)  # (columns equal over the kinds are equal over the clusters)
        out = np.empty((n_resamples, distinct.shape[1]))
        chunk = max(1, _RATIO_CHUNK_CELLS // max(len(rows), 1))
        for start in range(0, n_resamples, chunk):
            stop = min(n_resamples, start + chunk)
            out[start:stop] = rng.multinomial(q, share, size=stop - start).astype(float) @ distinct
    out = out[:, inverse.ravel()]
    return safe_ratio(out[:, :k], out[:, k:])


def cluster_kinds(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct rows, each cluster's row number) when every per-cluster sum is an integer and the
    clusters fall into at most a quarter as many kinds (counts of votes); ``None`` otherwise. Built
    one column at a time (one integer key per cluster), so no copy of ``stacked`` is made.

    >>> rows, kind = cluster_kinds(np.array([[1.0, 2.0]] * 4 + [[0.0, 1.0]] * 4))
    >>> rows.tolist(), kind.tolist()
    ([[0.0, 1.0], [1.0, 2.0]], [1, 1, 1, 1, 0, 0, 0, 0])
    """
    q = stacked.shape[0]
    if q < 8:
        return None
    key = np.zeros(q, dtype=np.int64)
    span = 1.0
    for j in range(stacked.shape[1]):
        col = stacked[:, j]
        ints = np.rint(col)
        # integer sums below 2**53 add exactly in float64 (a resample's counts sum to q)
        if not np.array_equal(ints, col) or float(np.abs(ints).max(initial=0.0)) * q >= 2.0**52:
            return None  # also nan and infinities
        low, high = float(ints.min()), float(ints.max())
        radix = int(high - low) + 1
        if span * radix >= 2.0**62:  # renumber the rows seen so far 0..K-1 before going on
            key = np.unique(key, return_inverse=True)[1].ravel().astype(np.int64)
            span = float(key.max()) + 1
            if span * 4 > q or span * radix >= 2.0**62:
                return None
        span *= radix
        # one integer per row (mixed radix): numbering 1-D keys is far cheaper than np.unique(axis=0)
        key *= radix
        key += (ints - low).astype(np.int64)
    values, first, kind = np.unique(key, return_index=True, return_inverse=True)
    if len(values) * 4 > q:
        return None
    return stacked[first], kind.ravel().astype(np.int16 if len(values) < 2**15 else np.int32)


def unique_columns(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, axis=1, return_inverse=True)`` for a 2-D float array without nan: the
    distinct columns in lexicographic order and each column's position among them; columns
    grouped by a digest of their bytes (after turning -0.0 into 0.0; equal digests are compared in
    full) and only the distinct ones sorted, not the whole array viewed as one record per column.

    >>> u, inv = unique_columns(np.array([[2.0, 1.0, 2.0], [0.0, 5.0, 0.0]]))
    >>> u.tolist(), inv.tolist()
    ([[1.0, 2.0], [5.0, 0.0]], [1, 0, 1])
    """
    a = np.asarray(a, dtype=float)
    first: dict[bytes, list[int]] = {}  # digest of a column -> its distinct columns' first positions
    group = np.empty(a.shape[1], dtype=np.int64)
    reps_list: list[int] = []
    for j in range(a.shape[1]):
        column = a[:, j] + 0.0
        same = first.setdefault(hashlib.blake2b(np.ascontiguousarray(column).tobytes(), digest_size=16).digest(), [])
        match = next((g for g in same if np.array_equal(a[:, reps_list[g]] + 0.0, column)), None)
        if match is None:
            match = len(reps_list)
            reps_list.append(j)
            same.append(match)
        group[j] = match
    reps = np.array(reps_list, dtype=np.int64)

    def compare(i: int, k: int) -> int:
        differ = np.flatnonzero(a[:, i] != a[:, k])
        if not differ.size:
            return 0
        r = differ[0]
        return -1 if a[r, i] < a[r, k] else 1

    order = sorted(reps.tolist(), key=functools.cmp_to_key(compare))
    rank = np.empty(len(reps_list), dtype=np.int64)
    rank[group[np.array(order, dtype=np.int64)]] = np.arange(len(order))
    return a[:, order] + 0.0, rank[group]


def percentile_interval(replicates: np.ndarray, *, level: float = 0.95) -> np.ndarray:
    """Percentile interval per column, ignoring ``nan`` replicates; returns columns x 2.

    >>> percentile_interval(np.arange(101.0)[:, None]).round(6).tolist()
    [[2.5, 97.5]]
    """
    r = np.atleast_2d(np.asarray(replicates, dtype=float).T).T
    alpha = (1.0 - level) / 2.0
    out = np.full((r.shape[1], 2), np.nan)
    for j in range(r.shape[1]):
        col = r[:, j]
        col = col[~np.isnan(col)]
        if col.size:
            out[j] = np.quantile(col, [alpha, 1.0 - alpha])
    return out
