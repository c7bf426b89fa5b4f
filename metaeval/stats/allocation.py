"""Where the next votes go: adaptive allocation with a design-based estimate of a judge difference.

The target is the difference in agreement with people between two judge rows A and B over
the study's items (pairs) ``i = 1..M``:

    theta = (1/M) * sum_i mu_i,   mu_i = E[d | item i],   d = [v_A == h] - [v_B == h]

for a vote ``h`` of a randomly chosen annotator (``v_A``, ``v_B``: the two verdicts on the
pair). With the same number of votes on every item this is the pooled per-vote difference of
``metaeval agreement``. Where the two verdicts are equal, ``d = 0`` for every vote (a
*structural zero*): votes there say nothing about ``theta``.

**Two phases.** Phase 1 is the study as it stands (``K_i`` votes on item ``i``, a design fixed
before any vote). Phase 2 adds ``N`` votes:

* ``uniform``: ``N / M`` more votes per item (capped by free annotators, whole numbers by
  systematic rounding). The counts do not depend on any vote, so the usual estimate, the mean
  over items of each item's mean vote difference, stays unbiased.
* ``adaptive``: expected counts ``e_i`` proportional to a score (Neyman allocation), capped by
  the item's free annotators, with a floor: a share ``floor`` of the budget is spread evenly,
  so that every item with a free annotator has ``e_i > 0``. The score is
  ``a_i = sqrt(s_i^2 * (1 + 1/K_i))``, the expected size of a new vote's residual from the
  item's phase-1 mean, with ``s_i^2`` a shrunken within-item variance of ``d`` (``0`` at
  structural zeros): votes go where the two judges disagree and the people split. The whole
  counts ``m_i`` are drawn by systematic sampling in random order, so ``E[m_i] = e_i`` exactly,
  ``m_i`` is ``floor(e_i)`` or ``ceil(e_i)`` and ``sum m_i = N``.

**Design-based estimator** (adaptive). The counts depend on the phase-1 votes, so the mean of
all an item's votes is biased. Instead, with ``F1`` the phase-1 data, ``ybar_i1`` item ``i``'s
phase-1 mean and ``S_i`` the sum of item ``i``'s phase-2 residuals ``d - ybar_i1``:

    R = (1/M) * sum_i S_i / e_i                (Horvitz–Thompson: E[R | F1] = theta - theta_1)
    theta_hat = theta_1 + c * R,               theta_1 = (1/M) * sum_i ybar_i1

``c = V1 / (V1 + W)`` is one number for the study computed from phase 1 only (``V1``: the
variance of ``theta_1``, ``W``: the planned variance of ``R``). ``c = 1`` is exactly unbiased;
the variance-minimising ``c`` has bias ``-Cov(c, theta_1)``, of order ``1/M`` (measured by
``bench/adaptive_allocation.py``). Variance: ``(1 - c)^2 V1 + c^2 V_R`` (the two terms are
uncorrelated because ``E[R - E[R|F1] | F1] = 0``), with ``V_R`` estimated item by item:
``m_i s_i^2 / e_i^2 + f_i (1 - f_i) rbar_i^2 / e_i^2`` for ``e_i >= 1`` (``f_i``: the fractional
part of ``e_i``) and the conservative ``S_i^2 / e_i^2`` for ``e_i < 1``. Items are the study's
items (no superpopulation of queries); annotators are exchangeable. Intervals are normal.

Example (by hand): two items; item 0 has equal verdicts (structural zero), item 1 different
verdicts and split votes. Every adaptive vote beyond the floor goes to item 1:

    >>> e = expected_counts(np.array([0.0, 1.0]), np.array([5, 5]), 4, floor=0.5)
    >>> e.tolist()
    [1.0, 3.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["STRATEGIES", "Estimate", "vote_differences", "item_variances", "allocation_scores",
           "expected_counts", "systematic_counts", "uniform_estimate", "adaptive_estimate",
           "combination_weight", "planned_widths"]

STRATEGIES = ("uniform", "adaptive")
#: Default share of the adaptive budget spread evenly (every eligible item gets e_i > 0).
DEFAULT_FLOOR = 0.1
#: Pseudo-votes of shrinkage towards the pooled within-item variance.
SHRINK = 2.0


@dataclass(frozen=True)
class Estimate:
    """A difference with its standard error and normal interval.

    Attributes:
        value: the estimate of ``theta``.
        se: its standard error.
        ci: ``(lo, hi)`` at ``level``.
        method: ``"item means"`` or ``"design-based (HT difference)"``.
        weight: ``c`` for the adaptive estimator (``None`` for item means).
    """

    value: float
    se: float
    ci: tuple[float, float]
    method: str
    weight: float | None = None


def vote_differences(votes: Sequence[float], verdict_a: float, verdict_b: float) -> np.ndarray:
    """``d = [v_A == h] - [v_B == h]`` for each vote ``h`` (outcomes -1, 0, +1; NaN verdicts count 0).

    Example (by hand): A says +1, B says 0; votes +1, 0, -1 give 1-0, 0-1, 0-0:

        >>> vote_differences([1, 0, -1], 1, 0).tolist()
        [1.0, -1.0, 0.0]
    """
    h = np.asarray(votes, dtype=float)
    return (h == verdict_a).astype(float) - (h == verdict_b).astype(float)


def _z(level: float) -> float:
    from scipy.stats import norm  # here, not at import: scipy.stats takes a second to load

    return float(norm.ppf(0.5 + level / 2))


def item_variances(d: Sequence[np.ndarray], structural_zero: np.ndarray, *, shrink: float = SHRINK) -> np.ndarray:
    """Within-item variance of ``d`` per item, shrunk towards the pooled variance.

    ``s_i^2 = (SS_i + shrink * pooled) / (K_i - 1 + shrink)`` with ``SS_i`` the item's sum of
    squared deviations and ``pooled = sum SS / sum (K - 1)`` over the items that are not
    structural zeros (0.5 when none has two votes); structural zeros get 0.

    Example (by hand): votes d = [1, -1] (SS = 2) and [1, 1, 1] (SS = 0): pooled = 2 / 3;
    item 0: (2 + 4/3) / 3 = 1.111; item 1: (0 + 4/3) / 4 = 0.333.

        >>> item_variances([np.array([1., -1.]), np.array([1., 1., 1.])], np.array([False, False])).round(3).tolist()
        [1.111, 0.333]
    """
    k = np.array([len(x) for x in d], dtype=float)
    ss = np.array([float(((x - x.mean()) ** 2).sum()) if len(x) else 0.0 for x in d])
    live = ~np.asarray(structural_zero, dtype=bool)
    dof = np.clip(k - 1, 0, None)
    pooled = ss[live].sum() / dof[live].sum() if live.any() and dof[live].sum() > 0 else 0.5
    out = (ss + shrink * pooled) / (dof + shrink)
    out[~live] = 0.0
    return out


def allocation_scores(d: Sequence[np.ndarray], structural_zero: np.ndarray) -> np.ndarray:
    """Adaptive score ``a_i = sqrt(s_i^2 (1 + 1/K_i))`` (``K_i = 0`` counts as 1).

    Example (by hand): with the variances of :func:`item_variances`' example, K = 2 and 3:
    sqrt(1.111 * 1.5) = 1.291, sqrt(0.333 * 4/3) = 0.667.

        >>> allocation_scores([np.array([1., -1.]), np.array([1., 1., 1.])], np.array([False, False])).round(3).tolist()
        [1.291, 0.667]
    """
    k = np.maximum(np.array([len(x) for x in d], dtype=float), 1.0)
    return np.sqrt(item_variances(d, structural_zero) * (1 + 1 / k))


def _water_fill(weights: np.ndarray, capacity: np.ndarray, n: float) -> np.ndarray:
    """``e`` proportional to ``weights``, ``e <= capacity``, ``sum e = n`` (items at capacity fixed)."""
    e = np.zeros(len(weights))
    free = (capacity > 0) & (weights > 0)
    left = float(n)
    while free.any() and left > 1e-12:
        share = left * weights[free] / weights[free].sum()
        over = share >= capacity[free] - 1e-12
        idx = np.flatnonzero(free)
        if not over.any():
            e[idx] += share
            break
        e[idx[over]] = capacity[idx[over]]
        left -= float(capacity[idx[over]].sum())
        free[idx[over]] = False
    return e


def expected_counts(scores: np.ndarray, capacity: np.ndarray, n: int, *, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    """Expected phase-2 votes per item: a share ``floor`` of ``n`` evenly, the rest in proportion to
    ``scores``, never above ``capacity`` (free annotators); every item with capacity gets ``e > 0``.

    ``uniform`` is ``scores = 1`` (any ``floor``). Raises ValueError when ``n`` exceeds the
    free annotators in all, is negative, or ``floor`` is not in (0, 1].

    Example (by hand): scores [0, 1, 3], capacity 10 each, n = 8, floor 0.25: weights
    0.25/3 + 0.75 * [0, 1/4, 3/4] = [0.0833, 0.2708, 0.6458]; times 8: [0.667, 2.167, 5.167].

        >>> expected_counts(np.array([0., 1., 3.]), np.array([10, 10, 10]), 8, floor=0.25).round(3).tolist()
        [0.667, 2.167, 5.167]
    """
    scores = np.asarray(scores, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    if n < 0:
        raise ValueError("the number of votes to add must not be negative")
    if not 0 < floor <= 1:
        raise ValueError(f"floor must be in (0, 1], not {floor}")
    total = float(capacity.sum())
    if n > total:
        raise ValueError(f"only {int(total)} free annotator slots for {n} votes")
    elig = capacity > 0
    if not elig.any() or n == 0:
        return np.zeros(len(scores))
    live = np.where(elig, np.clip(scores, 0, None), 0.0)
    base = elig / elig.sum()
    w = base if live.sum() <= 0 else floor * base + (1 - floor) * live / live.sum()
    e = _water_fill(w, capacity, n)
    short = n - e.sum()
    if short > 1e-9:  # scores zero where capacity is left: fill the rest evenly
        e += _water_fill(np.where(capacity - e > 1e-12, 1.0, 0.0), capacity - e, short)
    return e


def systematic_counts(e: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole counts with ``E[m_i] = e_i``, ``m_i in {floor(e_i), ceil(e_i)}`` and ``sum m = sum e``
    (rounded): systematic sampling over the items in a random order from a random start.

    Example: the counts always add up, and whole expected counts come back unchanged.

        >>> systematic_counts(np.array([2.0, 0.5, 0.5]), np.random.default_rng(0)).tolist()[0]
        2
    """
    e = np.asarray(e, dtype=float)
    n = int(round(e.sum()))
    order = rng.permutation(len(e))
    cum = np.concatenate([[0.0], np.cumsum(e[order])])
    cum *= n / cum[-1] if cum[-1] > 0 else 1.0
    points = rng.uniform() + np.arange(n)
    hits = np.searchsorted(cum, points, side="right") - 1
    m = np.zeros(len(e), dtype=np.int64)
    np.add.at(m, order[np.clip(hits, 0, len(e) - 1)], 1)
    return m


def uniform_estimate(d: Sequence[np.ndarray], structural_zero: np.ndarray, *, level: float = 0.95) -> Estimate:
    """Mean over items of each item's mean ``d`` (for designs whose counts ignore the votes), with
    variance ``(1/M^2) sum s_i^2 / n_i`` (``s_i^2`` of :func:`item_variances`).

    Example (by hand): items [1, -1] and [0, 0] (a structural zero): mean (0 + 0) / 2 = 0;
    pooled variance 2/1 = 2, s_0^2 = (2 + 4) / 3 = 2; se = sqrt(2 / 2) / 2 = 0.5.

        >>> est = uniform_estimate([np.array([1., -1.]), np.array([0., 0.])], np.array([False, True]))
        >>> est.value, est.se
        (0.0, 0.5)
    """
    m = len(d)
    means = np.array([x.mean() if len(x) else 0.0 for x in d])
    n = np.maximum(np.array([len(x) for x in d], dtype=float), 1.0)
    var = float((item_variances(d, structural_zero) / n).sum()) / m**2
    value, se = float(means.mean()), math.sqrt(var)
    z = _z(level)
    return Estimate(value, se, (value - z * se, value + z * se), "item means")


def combination_weight(v1: float, w: float) -> float:
    """``c = V1 / (V1 + W)`` (1 when both are 0).

    >>> combination_weight(3.0, 1.0)
    0.75
    """
    return 1.0 if v1 + w <= 0 else v1 / (v1 + w)


def _planned(d1: Sequence[np.ndarray], structural_zero: np.ndarray, e: np.ndarray) -> tuple[float, float]:
    """(V1, W): the variance of theta_1 and the planned variance of R, from phase 1 only."""
    m = len(d1)
    k = np.maximum(np.array([len(x) for x in d1], dtype=float), 1.0)
    s2 = item_variances(d1, structural_zero)
    v1 = float((s2 / k).sum()) / m**2
    a2 = s2 * (1 + 1 / k)
    pos = e > 0
    w = float((a2[pos] / e[pos]).sum()) / m**2
    return v1, w


def adaptive_estimate(d1: Sequence[np.ndarray], d2: Sequence[np.ndarray], e: np.ndarray,
                      structural_zero: np.ndarray, *, level: float = 0.95, weight: float | None = None) -> Estimate:
    """The design-based estimate ``theta_1 + c * R`` of the module docstring.

    Args:
        d1: phase-1 vote differences per item (fixed design).
        d2: phase-2 vote differences per item (``len(d2[i]) = m_i`` drawn with ``E[m_i] = e[i]``).
        e: the expected phase-2 counts the draw used (from :func:`expected_counts`).
        structural_zero: items whose two verdicts are equal.
        weight: ``c`` to use instead of ``V1 / (V1 + W)`` (``1.0``: the exactly unbiased estimate).

    Example (by hand): one live item with phase-1 votes [1, -1] (mean 0), e = 2 and phase-2
    votes [1, 1]: R = (1/1) * (1 + 1) / 2 = 1; V1 = s^2/2 with s^2 = (2 + 2*2)/3 = 2 -> 1;
    W = 2 * 1.5 / 2 = 1.5; c = 1 / 2.5 = 0.4; theta = 0 + 0.4 * 1 = 0.4.

        >>> est = adaptive_estimate([np.array([1., -1.])], [np.array([1., 1.])], np.array([2.]), np.array([False]))
        >>> round(est.value, 3), round(est.weight, 3)
        (0.4, 0.4)
    """
    m = len(d1)
    e = np.asarray(e, dtype=float)
    ybar1 = np.array([x.mean() if len(x) else 0.0 for x in d1])
    theta1 = float(ybar1.mean())
    v1_plan, w_plan = _planned(d1, structural_zero, e)
    c = combination_weight(v1_plan, w_plan) if weight is None else float(weight)
    if not (e > 0).any():  # no phase 2 (yet): the phase-1 estimate alone
        c = 0.0
    both = [np.concatenate([a, b]) for a, b in zip(d1, d2, strict=True)]
    s2 = item_variances(both, structural_zero)
    k1 = np.maximum(np.array([len(x) for x in d1], dtype=float), 1.0)
    v1 = float((s2 / k1).sum()) / m**2
    r_sum, v_r = 0.0, 0.0
    for i in range(m):
        if e[i] <= 0:
            continue
        res = d2[i] - ybar1[i]
        s_i = float(res.sum())
        r_sum += s_i / e[i]
        if e[i] < 1:
            v_r += s_i**2 / e[i] ** 2
        else:
            f = e[i] - math.floor(e[i])
            rbar = float(res.mean()) if len(res) else 0.0
            v_r += (len(res) * s2[i] + f * (1 - f) * rbar**2) / e[i] ** 2
    r_hat, v_r = r_sum / m, v_r / m**2
    value = float(theta1 + c * r_hat)
    se = math.sqrt((1 - c) ** 2 * v1 + c**2 * v_r)
    z = _z(level)
    return Estimate(value, se, (value - z * se, value + z * se), "design-based (HT difference)", weight=c)


def planned_widths(d1: Sequence[np.ndarray], structural_zero: np.ndarray, capacity: np.ndarray, n: int, *,
                   floor: float = DEFAULT_FLOOR, level: float = 0.95) -> dict[str, float]:
    """Expected interval widths now, after ``n`` uniform votes and after ``n`` adaptive votes.

    ``now = 2 z sqrt(V1)``; ``uniform = 2 z sqrt((1/M^2) sum s_i^2 / (K_i + e_i))``;
    ``adaptive = 2 z sqrt(V1 W / (V1 + W))`` (the variance at the optimal ``c``), all from
    phase-1 variances.

    Example (by hand): one live item, votes [1, -1] (s^2 = 2 as in :func:`adaptive_estimate`),
    4 free slots, n = 2: now 2z*sqrt(1) = 3.92; uniform 2z*sqrt(2/4) = 2.772;
    adaptive: W = 3/2, sqrt(1*1.5/2.5) = 0.775 -> 3.036.

        >>> w = planned_widths([np.array([1., -1.])], np.array([False]), np.array([4]), 2)
        >>> {k: round(v, 3) for k, v in w.items()}
        {'now': 3.92, 'uniform': 2.772, 'adaptive': 3.036}
    """
    m = len(d1)
    z2 = 2 * _z(level)
    k = np.maximum(np.array([len(x) for x in d1], dtype=float), 1.0)
    s2 = item_variances(d1, structural_zero)
    capacity = np.asarray(capacity, dtype=float)
    e_u = expected_counts(np.ones(m), capacity, n, floor=1.0)
    e_a = expected_counts(allocation_scores(d1, structural_zero), capacity, n, floor=floor)
    v1, w = _planned(d1, structural_zero, e_a)
    v_u = float((s2 / (k + e_u)).sum()) / m**2
    v_a = v1 * w / (v1 + w) if v1 + w > 0 else 0.0
    return {"now": z2 * math.sqrt(v1), "uniform": z2 * math.sqrt(v_u), "adaptive": z2 * math.sqrt(v_a)}
