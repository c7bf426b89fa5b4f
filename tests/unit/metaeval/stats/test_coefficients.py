"""Known answers for the chance-corrected coefficients (values published outside this code)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from metaeval.stats._util import UndefinedStatisticWarning
from metaeval.stats.coefficients import cohen_kappa, counts_table, fleiss_kappa, krippendorff_alpha

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 observers x 12 units
# example with missing values; the paper reports these alphas.
KRIPP = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


@pytest.mark.parametrize(("level", "expected"),
                         [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_example(level, expected):
    assert round(krippendorff_alpha(KRIPP, level=level), 3) == expected


# Fleiss (1971) as worked in Wikipedia's "Fleiss' kappa" article: 10 subjects, 14 raters, 5 categories.
FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_1971_table():
    assert round(fleiss_kappa(FLEISS), 3) == 0.210


def test_fleiss_counts_table_roundtrip():
    # 2 units: unit 0 rated a, a; unit 1 rated a, b -> [[2, 0], [1, 1]] -> kappa -1/3 (by hand in the docstring)
    t = counts_table([0, 0, 1, 1], ["a", "a", "a", "b"])
    assert t.tolist() == [[2, 0], [1, 1]]
    assert fleiss_kappa(t) == pytest.approx(-1 / 3)


def test_cohen_kappa_by_hand():
    # 2x2 table [[20, 5], [10, 15]]: p_o = 35/50 = .7, p_e = .5*.6 + .5*.4 = .5 -> kappa = .4
    y1 = [1] * 25 + [0] * 25
    y2 = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(y1, y2) == pytest.approx(0.4)


def test_undefined_statistics_warn_and_return_nan():
    with pytest.warns(UndefinedStatisticWarning):
        assert math.isnan(cohen_kappa([1, 1], [1, 1]))
    with pytest.warns(UndefinedStatisticWarning):
        assert math.isnan(fleiss_kappa([[2, 0], [3, 0]]))
    with pytest.warns(UndefinedStatisticWarning):
        assert math.isnan(krippendorff_alpha([[1, NAN], [NAN, 1]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cohen_kappa([1, 0], [1, 0])
