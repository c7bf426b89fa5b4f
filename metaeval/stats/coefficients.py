"""Chance-corrected agreement coefficients: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from metaeval.stats._util import undefined

__all__ = ["cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "counts_table"]


def cohen_kappa(y1: Sequence, y2: Sequence, *, labels: Sequence | None = None) -> float:
    """Cohen's kappa between two label sequences of equal length.

    kappa = (p_o - p_e) / (1 - p_e), p_o the observed share of equal labels and p_e the share
    expected from the two marginal distributions. Undefined (nan with a warning) when empty or
    when p_e == 1.

    Example (worked by hand): y1 = [1, 1, 0, -1], y2 = [1, 0, 0, -1]; p_o = 3/4.
    Marginals y1: {1: .5, 0: .25, -1: .25}, y2: {1: .25, 0: .5, -1: .25};
    p_e = .5*.25 + .25*.5 + .25*.25 = .3125; kappa = (.75 - .3125) / .6875 = 0.63636...

    >>> round(cohen_kappa([1, 1, 0, -1], [1, 0, 0, -1]), 4)
    0.6364
    """
    a = np.asarray(y1)
    b = np.asarray(y2)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("y1 and y2 must be 1-D and of equal length")
    if a.size == 0:
        return undefined("Cohen's kappa is undefined for no items")
    cats = np.unique(np.concatenate([a, b])) if labels is None else np.asarray(labels)
    ia = np.searchsorted(cats, a)
    ib = np.searchsorted(cats, b)
    k = len(cats)
    cm = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k).astype(float)
    n = cm.sum()
    p_o = np.trace(cm) / n
    p_e = float((cm.sum(axis=1) / n) @ (cm.sum(axis=0) / n))
    if np.isclose(p_e, 1.0):
        return undefined("Cohen's kappa is undefined when both raters use one and the same label")
    return float((p_o - p_e) / (1.0 - p_e))


def fleiss_kappa(table: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from a subjects x categories table of rating counts.

    Subjects may have different numbers of raters (each needs at least two); with equal numbers
    this is exactly Fleiss (1971): P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)), P-bar their mean,
    p_j the share of all ratings in category j, P_e = sum_j p_j^2, kappa = (P-bar - P_e) / (1 - P_e).

    Example (by hand): two subjects, 2 raters, categories (x, y): [[2, 0], [1, 1]].
    P_1 = 1, P_2 = 0, P-bar = .5; p = (.75, .25), P_e = .625; kappa = (.5 - .625) / .375 = -1/3.

    >>> round(fleiss_kappa([[2, 0], [1, 1]]), 4)
    -0.3333
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2:
        raise ValueError("table must be subjects x categories")
    n_i = t.sum(axis=1)
    t = t[n_i >= 2]
    n_i = n_i[n_i >= 2]
    if t.shape[0] == 0:
        return undefined("Fleiss' kappa is undefined without subjects rated at least twice")
    p_i = (t * (t - 1)).sum(axis=1) / (n_i * (n_i - 1))
    p_bar = p_i.mean()
    p_j = t.sum(axis=0) / t.sum()
    p_e = float((p_j**2).sum())
    if np.isclose(p_e, 1.0):
        return undefined("Fleiss' kappa is undefined when every rating falls in one category")
    return float((p_bar - p_e) / (1.0 - p_e))


def counts_table(units: ArrayLike, labels: ArrayLike, *, categories: Sequence | None = None) -> np.ndarray:
    """Turn (unit, label) observations into the subjects x categories count table for Fleiss.

    >>> counts_table([0, 0, 1], ["a", "b", "a"]).tolist()
    [[1, 1], [1, 0]]
    """
    u = np.unique(np.asarray(units), return_inverse=True)[1]
    cats = np.unique(np.asarray(labels)) if categories is None else np.asarray(categories)
    c = np.searchsorted(cats, np.asarray(labels))
    k = len(cats)
    return np.bincount(u * k + c, minlength=(u.max() + 1 if u.size else 0) * k).reshape(-1, k)


def krippendorff_alpha(reliability_data: np.ndarray | Sequence[Sequence[float]], *,
                       level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal",
                       value_domain: Sequence[float] | None = None) -> float:
    """Krippendorff's alpha over a coders x units matrix (``nan`` = missing), via ``krippendorff``.

    ``level`` is ``nominal``, ``ordinal``, ``interval`` or ``ratio``. Undefined (nan with a warning)
    when fewer than two pairable values exist or all values are equal.

    Example: two coders who agree on two units and disagree on one (values 1, 2):
    coder1 = [1, 1, 2], coder2 = [1, 1, 1]. Coincidences: o_11 = 4, o_12 = o_21 = 1, n = 6,
    n_1 = 5, n_2 = 1; D_o = 2/6, D_e = 2*5*1/(6*5) = 1/3 ... alpha = 1 - (n-1) o_12 / (n_1 n_2)
    = 1 - 5*1/5 = 0.0 (nominal).

    >>> krippendorff_alpha([[1, 1, 2], [1, 1, 1]], level="nominal")
    0.0
    """
    import krippendorff

    data = np.asarray(reliability_data, dtype=float)
    if data.ndim != 2:
        raise ValueError("reliability_data must be coders x units")
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    values = data[:, pairable]
    values = values[~np.isnan(values)]
    if values.size < 2:
        return undefined("Krippendorff's alpha is undefined with fewer than two pairable values")
    if np.unique(values).size < 2 and value_domain is None:
        return undefined("Krippendorff's alpha is undefined when all values are equal")
    kwargs = {} if value_domain is None else {"value_domain": list(value_domain)}
    try:
        a = krippendorff.alpha(reliability_data=data[:, pairable], level_of_measurement=level, **kwargs)
    except (ValueError, ZeroDivisionError) as exc:
        return undefined(f"Krippendorff's alpha is undefined: {exc}")
    a = float(a)
    if not np.isfinite(a):
        return undefined("Krippendorff's alpha is undefined (no expected disagreement)")
    return a
