"""Paired tests, Holm, power, bias and epsilon calibration with hand-derived answers."""

from __future__ import annotations

import numpy as np
import pytest

from metaeval.stats.bias import length_bias, position_bias
from metaeval.stats.epsilon import calibrate_epsilon
from metaeval.stats.paired import holm, mcnemar_exact, sign_flip_test
from metaeval.stats.power import queries_needed, queries_needed_mcnemar


def test_mcnemar_exact_by_hand():
    # b = 1 (only A right), c = 6 (only B right): P(X <= 1 | n=7, 1/2) = 8/128; two-sided 16/128 = 0.125
    a = [1] + [0] * 6 + [1] * 10
    b = [0] + [1] * 6 + [1] * 10
    assert mcnemar_exact(a, b) == pytest.approx(0.125)
    assert mcnemar_exact([1, 0], [1, 0]) == 1.0


@pytest.mark.parametrize(("b", "c"), [(0, 1), (1, 0), (3, 4), (7, 2), (10, 10), (100, 130), (5000, 5200), (0, 60),
                                    (49683, 50317)])
def test_mcnemar_exact_equals_scipy_binomtest(b, c):
    from scipy.stats import binomtest  # the reference: scipy's two-sided exact binomial test at 1/2

    a = [1] * b + [0] * c + [1] * 5
    other = [0] * b + [1] * c + [1] * 5
    assert mcnemar_exact(a, other) == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-9, abs=1e-300)


def test_sign_flip_exact_small_case():
    # differences [2, 1, 1, 1]: |T| = 5; of 16 sign patterns |T*| >= 5 only for all-plus and all-minus -> 2/16
    p = sign_flip_test(np.array([2.0, 1, 1, 1]), n_permutations=20000, rng=np.random.default_rng(3))
    assert p[0] == pytest.approx(0.125, abs=0.01)


def test_holm_by_hand():
    # p = [0.04, 0.001, 0.02, 0.5]: sorted 0.001*4=.004, .02*3=.06, .04*2=.08, .5*1=.5
    assert holm([0.04, 0.001, 0.02, 0.5]).tolist() == pytest.approx([0.08, 0.004, 0.06, 0.5])


def test_power_by_hand():
    # z_.975 + z_.8 = 2.80159; d = .1, sd = .5: (2.80159 * 5)^2 = 196.22 -> 197
    assert queries_needed(0.1, sd_per_query=0.5) == 197
    # Connor: d=.05, pd=.2: (1.95996*.44721 + .84162*.44441)^2/.0025 = (.87652 + .37402)^2/.0025 = 625.5 -> 626 votes,
    # 5 votes per query -> 125.1 -> 126 queries
    assert queries_needed_mcnemar(0.05, discordant=0.2, votes_per_query=5) == 126


def test_position_and_length_bias_by_hand():
    # shown-first wins in 3 of 4 decisive judgments
    assert position_bias([1, 1, -1, -1, 0], [1, 1, 0, 1, 0]) == 0.75
    # longer wins in 2 of 3 pairs differing by > 10%
    assert length_bias([1, -1, -1, 1], [200, 200, 50, 100], [100, 100, 100, 99]) == pytest.approx(2 / 3)


def test_calibrate_epsilon_by_hand():
    # diffs [3, 1, 0.2, -0.2, -2], votes [1, 1, 0, 0, -1]: eps 0 -> 3/5; eps .2 -> 5/5; eps 1 -> 4/5
    best, table = calibrate_epsilon([3, 1, 0.2, -0.2, -2], [1, 1, 0, 0, -1])
    assert best == 0.2
    assert dict(table)[1.0] == 0.8
