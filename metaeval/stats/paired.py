"""Paired comparisons of two judges (or methods) on the same human votes.

- :func:`mcnemar_exact`: exact McNemar test on per-vote correctness (binomial test on the
  discordant votes; ignores clustering by query).
- :func:`sign_flip_test`: sign-flip permutation test on per-query differences (respects
  clustering; Monte Carlo p-value with the +1 correction, so it never returns 0).
- :func:`holm`: Holm's step-down adjustment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from metaeval.stats.bootstrap import cluster_kinds

__all__ = ["mcnemar_exact", "sign_flip_test", "holm"]

_CHUNK_CELLS = 20_000_000
_BLOCK_CELLS = 2_000_000
_EXACT_N = 2000  # binomial_half_cdf sums exact integers up to this many trials


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> float:
    """Two-sided exact McNemar p-value for paired correctness indicators.

    With b = votes only A gets right and c = votes only B gets right, the p-value is the two-sided
    binomial test of b successes in b + c trials at 1/2 (1.0 when b + c = 0).

    Example (by hand): b = 5, c = 0: p = 2 * 0.5**5 = 0.0625.

    >>> mcnemar_exact([1] * 5 + [1] * 3, [0] * 5 + [1] * 3)
    0.0625
    """
    a = np.asarray(correct_a, dtype=bool)
    b_ = np.asarray(correct_b, dtype=bool)
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    if 2 * min(b, c) >= b + c:  # b == c (or no discordant vote): every outcome is as likely or less
        return 1.0
    # Binomial(b + c, 1/2) is symmetric: the outcomes no more likely than min(b, c) are the two tails
    return min(1.0, 2.0 * binomial_half_cdf(min(b, c), b + c))


def binomial_half_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), k < n / 2: the regularised incomplete beta function
    I_{1/2}(n - k, k + 1), by its continued fraction (modified Lentz; Numerical Recipes' betacf),
    which converges at x = 1/2 < (a + 1) / (a + b + 2) for a = n - k > b = k + 1. The standard
    library's ``math.lgamma`` gives the prefactor, so no scipy import (a quarter second) is needed
    (relative error below 1e-8 up to n = 10**6). Up to :data:`_EXACT_N` trials the sum of
    binomial coefficients is exact.

    Example (by hand): n = 7, k = 1: (1 + 7) / 128 = 0.0625.

    >>> round(binomial_half_cdf(1, 7), 12)
    0.0625
    """
    if n <= _EXACT_N:  # exact: integer binomial coefficients, one correctly rounded division
        return sum(math.comb(n, j) for j in range(k + 1)) / 2**n
    a, b, x = float(n - k), float(k + 1), 0.5
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + (a + b) * math.log(x)
    tiny, eps = 1e-300, 1e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000 + 20 * int(math.sqrt(n))):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return math.exp(log_front) * h / a


def sign_flip_test(differences: np.ndarray, *, n_permutations: int = 10_000,
                   rng: np.random.Generator) -> np.ndarray:
    """Two-sided sign-flip permutation p-values for per-cluster differences (clusters x tests).

    The statistic is |sum of differences|; under the null each cluster's difference is as likely
    negated. p = (1 + #{|T*| >= |T|}) / (1 + n_permutations).

    Integer differences (counts of votes) in few kinds of clusters are drawn per kind (how many
    clusters of a kind keep their sign is Binomial(n, 1/2)), never one sign per cluster.

    Example: differences [1, 1, 1]; of the 8 sign patterns 2 reach |T| = 3, so p is near 2/8.

    >>> p = sign_flip_test(np.array([1.0, 1.0, 1.0]), n_permutations=4000, rng=np.random.default_rng(0))
    >>> bool(abs(p[0] - 0.25) < 0.03)
    True
    """
    d = np.asarray(differences, dtype=float)
    if d.ndim == 1:
        d = d[:, None]
    q = d.shape[0]
    t_obs = np.abs(d.sum(axis=0))
    hits = np.zeros(d.shape[1])
    total = d.sum(axis=0)
    kinds = cluster_kinds(d)
    if kinds is not None:
        # integer differences (counts of votes) in few kinds: how many clusters of each kind keep
        # their sign is Binomial(n_kind, 1/2), and T* = 2 * (kept counts @ kinds' rows) - sum(d),
        # exact integers; clusters whose differences are all 0 never move T*
        rows, kind = kinds
        n_kind = np.bincount(kind, minlength=len(rows))
        moving = np.flatnonzero(np.any(rows != 0, axis=1))
        rows, n_kind = rows[moving], n_kind[moving]
        chunk = max(1, _CHUNK_CELLS // max(len(rows), 1))
        for start in range(0, n_permutations, chunk):
            m = min(chunk, n_permutations - start)
            t = 2.0 * (rng.binomial(n_kind, 0.5, size=(m, len(rows))).astype(float) @ rows) - total
            hits += (np.abs(t) >= t_obs - 1e-9).sum(axis=0)
        return (1.0 + hits) / (1.0 + n_permutations)
    chunk = max(1, _CHUNK_CELLS // max(q, 1))
    block = max(1, _BLOCK_CELLS // max(q, 1))
    for start in range(0, n_permutations, chunk):
        m = min(chunk, n_permutations - start)
        # the draw keeps its chunk size (8-bit draws depend on it); the product runs in smaller blocks
        bits = rng.integers(0, 2, size=(m, q), dtype=np.int8)
        for b in range(0, m, block):
            t = (bits[b:b + block].astype(float) * 2.0 - 1.0) @ d
            hits += (np.abs(t) >= t_obs - 1e-9).sum(axis=0)
    return (1.0 + hits) / (1.0 + n_permutations)


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm-adjusted p-values (step-down, monotone, capped at 1; nan stays nan).

    Example (by hand): p = [0.01, 0.04, 0.03] -> sorted 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> 0.06
    (monotone), so adjusted = [0.03, 0.06, 0.06].

    >>> [round(float(x), 3) for x in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    pv = p[ok]
    m = pv.size
    if m == 0:
        return out
    order = np.argsort(pv, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate(pv[order] * (m - np.arange(m))))
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out
