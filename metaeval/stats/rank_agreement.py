"""How alike two rankings of the same models are, row-wise over many strength vectors at once
(one row per bootstrap resample): Kendall's tau-b, Spearman's rho and the pair-order agreement.

Definitions follow scipy (``scipy.stats.kendalltau`` variant "b", ``scipy.stats.spearmanr`` with
average ranks for ties); rows where a side is constant give ``nan``.

Example (by hand): x = [3, 2, 1], y = [3, 1, 2]. Of the 3 model pairs, (0,1) and (0,2) are ordered
the same way and (1,2) the opposite way: tau-b = (2 - 1) / 3 = 1/3, pair order = 2/3; ranks
[3, 2, 1] vs [3, 1, 2] give rho = 1 - 6 * (0 + 1 + 1) / (3 * 8) = 0.5.

    >>> x, y = np.array([[3.0, 2, 1]]), np.array([[3.0, 1, 2]])
    >>> round(float(kendall_tau_b(x, y)[0]), 6), float(spearman(x, y)[0]), round(float(pair_order_agreement(x, y)[0]), 6)
    (0.333333, 0.5, 0.666667)
"""

from __future__ import annotations

import numpy as np

__all__ = ["kendall_tau_b", "spearman", "pair_order_agreement"]


def _pair_signs(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x, dtype=float))
    i, j = np.triu_indices(x.shape[1], k=1)
    return np.sign(x[:, i] - x[:, j])


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b per row: sum(sx * sy) / sqrt(sum(sx^2) * sum(sy^2)) over model pairs, where
    sx = sign(x_i - x_j) (this is (concordant - discordant) / sqrt((n0 - ties_x)(n0 - ties_y)))."""
    sx, sy = _pair_signs(x), _pair_signs(y)
    num = (sx * sy).sum(axis=1)
    den = np.sqrt((sx * sx).sum(axis=1) * (sy * sy).sum(axis=1))
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho per row: Pearson correlation of the average ranks."""
    from scipy.stats import rankdata  # here, not at import: scipy.stats takes a second to load

    rx = rankdata(np.atleast_2d(np.asarray(x, dtype=float)), axis=1)
    ry = rankdata(np.atleast_2d(np.asarray(y, dtype=float)), axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    num = (rx * ry).sum(axis=1)
    den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def pair_order_agreement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Share of model pairs that both sides order the same way (sign(x_i - x_j) == sign(y_i - y_j);
    two exactly equal strengths count as "same order" only when equal on both sides)."""
    sx, sy = _pair_signs(x), _pair_signs(y)
    if sx.shape[1] == 0:
        return np.full(sx.shape[0], np.nan)
    return (sx == sy).mean(axis=1)
