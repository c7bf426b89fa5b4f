"""Calibrate the tie epsilon for score-based verdicts on held-out human votes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metaeval.stats._util import undefined

__all__ = ["calibrate_epsilon"]


def calibrate_epsilon(score_differences: Sequence[float], human_outcomes: Sequence[int], *,
                      grid: Sequence[float] | None = None) -> tuple[float, list[tuple[float, float]]]:
    """Pick the epsilon that maximises agreement (ties counted) with held-out human votes.

    ``score_differences[i]`` is the judge's mean-score difference (first minus second model) on the
    pair of held-out vote i, ``human_outcomes[i]`` the vote (+1, 0, -1). The verdict is +1 when the
    difference exceeds epsilon, -1 below -epsilon, else a tie. ``grid`` defaults to 0 and every
    distinct |difference| in the data (agreement only changes there). Ties between epsilons go to
    the smallest. Returns (best epsilon, [(epsilon, agreement), ...]).

    Example (by hand): differences [2, 0.5, -1], votes [1, 0, -1]: epsilon 0 gives 2/3, epsilon 0.5
    gives 3/3, epsilon 1 gives 2/3, epsilon 2 gives 1/3 -> 0.5.

    >>> calibrate_epsilon([2, 0.5, -1], [1, 0, -1])[0]
    0.5
    """
    d = np.asarray(score_differences, dtype=float)
    h = np.asarray(human_outcomes, dtype=float)
    keep = ~np.isnan(d) & ~np.isnan(h)
    d, h = d[keep], h[keep]
    eps = np.unique(np.concatenate([[0.0], np.abs(d)])) if grid is None else np.asarray(sorted(set(grid)), float)
    if d.size == 0:
        return undefined("epsilon calibration needs held-out votes"), []
    # votes x epsilons verdict matrix: vectorised
    v = np.where(d[:, None] > eps[None, :], 1.0, np.where(d[:, None] < -eps[None, :], -1.0, 0.0))
    agree = (v == h[:, None]).mean(axis=0)
    best = int(np.argmax(agree))
    return float(eps[best]), [(float(e), float(a)) for e, a in zip(eps, agree, strict=True)]
