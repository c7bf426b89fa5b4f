"""Position and length bias of pairwise judgments (people or judges)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from metaeval.stats._util import undefined

__all__ = ["position_bias", "length_bias"]


def position_bias(outcomes: ArrayLike, first_lo: ArrayLike) -> float:
    """Share of decisive judgments that chose the response shown first.

    ``outcomes`` are canonical (+1 lower-named model wins), ``first_lo`` is 1.0 when the
    lower-named model was shown first, 0.0 when the other, nan when unknown. Ties and unknown
    positions are left out; 0.5 means no position bias.

    Example: outcomes [1, -1, 1, 0], first_lo [1, 1, 0, 1]: decisive with known position are the
    first three; first-shown won in #1 only -> 1/3.

    >>> round(position_bias([1, -1, 1, 0], [1, 1, 0, 1]), 4)
    0.3333
    """
    o = np.asarray(outcomes, dtype=float)
    f = np.asarray(first_lo, dtype=float)
    keep = (o != 0) & ~np.isnan(f) & ~np.isnan(o)
    if not keep.any():
        return undefined("position bias is undefined: no decisive judgment with a known position")
    return float(np.mean((o[keep] > 0) == (f[keep] == 1.0)))


def length_bias(outcomes: ArrayLike, len_lo: ArrayLike, len_hi: ArrayLike, *,
                min_relative_difference: float = 0.1) -> float:
    """Share of decisive judgments that chose the longer response, among pairs whose lengths differ
    by more than ``min_relative_difference`` of the longer one. 0.5 means no length bias.

    Example: outcomes [1, -1, 1], lengths lo [100, 100, 100], hi [50, 50, 95]: the third pair is
    within 10% and is left out; the longer (lo) won in #1, lost in #2 -> 0.5.

    >>> length_bias([1, -1, 1], [100, 100, 100], [50, 50, 95])
    0.5
    """
    o = np.asarray(outcomes, dtype=float)
    a = np.asarray(len_lo, dtype=float)
    b = np.asarray(len_hi, dtype=float)
    longest = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(a - b) / longest
    keep = (o != 0) & ~np.isnan(o) & (rel > min_relative_difference) & ~np.isnan(rel)
    if not keep.any():
        return undefined("length bias is undefined: no decisive judgment on pairs of clearly different length")
    return float(np.mean((o[keep] > 0) == (a[keep] > b[keep])))

