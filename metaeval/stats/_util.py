"""Internal helpers shared by the statistics modules (not public API)."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike


class UndefinedStatisticWarning(RuntimeWarning):
    """A statistic is undefined for the given data and ``nan`` was returned (scikit-learn style)."""


def undefined(reason: str, *, stacklevel: int = 3) -> float:
    """Warn that a statistic is undefined and return ``nan``."""
    warnings.warn(reason, UndefinedStatisticWarning, stacklevel=stacklevel)
    return float("nan")


def safe_ratio(num: ArrayLike, den: ArrayLike) -> np.ndarray:
    """Elementwise ``num / den`` with ``nan`` where ``den == 0`` and no numpy warning."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out
