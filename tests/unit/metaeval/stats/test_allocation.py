"""metaeval.stats.allocation: hand-derived small cases for the scores, the expected counts, the
systematic draw and both estimators, plus the exact unbiasedness of the design-based estimate
on a two-item study whose every outcome is enumerated."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from metaeval.stats import allocation as al


def test_vote_differences_by_hand():
    # A says tie (0), B says second (-1): vote +1 -> 0-0, vote 0 -> 1-0, vote -1 -> 0-1
    assert al.vote_differences([1, 0, -1], 0, -1).tolist() == [0.0, 1.0, -1.0]
    assert al.vote_differences([1, 1], 1, 1).tolist() == [0.0, 0.0]  # equal verdicts: structural zero


def test_item_variances_shrink_towards_pooled():
    # live items: [1, 0] SS = 0.5, [1, -1, 1] SS = (1/3)^2*2 + (4/3)^2 = 8/3; pooled = (0.5 + 8/3) / (1 + 2) = 19/18
    d = [np.array([1.0, 0.0]), np.array([1.0, -1.0, 1.0]), np.array([0.0, 0.0])]
    s2 = al.item_variances(d, np.array([False, False, True]))
    pooled = 19 / 18
    assert s2[0] == pytest.approx((0.5 + 2 * pooled) / 3)
    assert s2[1] == pytest.approx((8 / 3 + 2 * pooled) / 4)
    assert s2[2] == 0.0


def test_expected_counts_capacity_and_floor():
    # scores [0, 1, 3], capacity [10, 10, 2], n = 8, floor 0.25: weights [1/12, 13/48, 31/48] -> item 2 wants
    # 5.17 > 2: fixed at 2; the 6 left go to items 0 and 1 in proportion 4/48 : 13/48 -> 24/17, 78/17
    e = al.expected_counts(np.array([0.0, 1.0, 3.0]), np.array([10, 10, 2]), 8, floor=0.25)
    assert e.tolist() == pytest.approx([24 / 17, 78 / 17, 2.0])
    assert e.sum() == pytest.approx(8)
    # an item without free annotators gets nothing; every other one gets a positive share
    e = al.expected_counts(np.array([0.0, 0.0, 5.0]), np.array([0, 3, 3]), 3)
    assert e[0] == 0 and (e[1:] > 0).all()
    with pytest.raises(ValueError, match="only 6 free"):
        al.expected_counts(np.ones(3), np.array([0, 3, 3]), 7)


def test_uniform_counts_are_even():
    e = al.expected_counts(np.ones(4), np.array([5, 5, 5, 5]), 10, floor=1.0)
    assert e.tolist() == [2.5] * 4


def test_systematic_counts_add_up_and_have_the_expected_mean():
    e = np.array([0.3, 1.5, 2.2, 0.0, 1.0])
    rng = np.random.default_rng(3)
    draws = np.array([al.systematic_counts(e, rng) for _ in range(20000)])
    assert (draws.sum(axis=1) == 5).all()
    assert (draws >= np.floor(e)).all() and (draws <= np.ceil(e)).all()
    # mean within 4 standard errors of e (se <= 0.5 / sqrt(20000) = 0.0035)
    assert np.abs(draws.mean(axis=0) - e).max() < 0.015
    assert al.systematic_counts(e, np.random.default_rng(9)).tolist() == \
        al.systematic_counts(e, np.random.default_rng(9)).tolist()


def test_uniform_estimate_by_hand():
    # item means 0.5 and 1/3 -> 5/12; pooled SS = 0.5 + 2/3 over dof 1 + 2 = 7/18;
    # s0 = (0.5 + 7/9) / 3 = 23/54, s1 = (2/3 + 7/9) / 4 = 13/36; var = (23/108 + 13/108) / 4 = 1/12
    d = [np.array([1.0, 0.0]), np.array([1.0, 0.0, 0.0])]
    est = al.uniform_estimate(d, np.array([False, False]))
    assert est.value == pytest.approx(5 / 12)
    assert est.se == pytest.approx(math.sqrt((23 / 54 / 2 + 13 / 36 / 3) / 4))
    assert est.ci[0] == pytest.approx(est.value - 1.959964 * est.se, abs=1e-6)


def test_adaptive_estimate_by_hand():
    # two live items; phase 1: [1, -1] (mean 0) and [1, 1] (mean 1); pooled = 2 / 2 = 1;
    # s2 = [(2 + 2)/3, (0 + 2)/3] = [4/3, 2/3]; V1 = (4/3/2 + 2/3/2) / 4 = 1/4;
    # e = [1.5, 0.5]: W = (4/3*1.5/1.5 + 2/3*1.5/0.5) / 4 = (4/3 + 2) / 4 = 5/6; c = (1/4) / (1/4 + 5/6) = 3/13
    # phase 2: item 0 gets [1, 1] (residuals 1, 1 -> S = 2), item 1 gets [] -> R = (2/1.5 + 0) / 2 = 2/3
    # theta = theta_1 + c R = 0.5 + (3/13)(2/3) = 0.5 + 2/13
    d1 = [np.array([1.0, -1.0]), np.array([1.0, 1.0])]
    d2 = [np.array([1.0, 1.0]), np.zeros(0)]
    est = al.adaptive_estimate(d1, d2, np.array([1.5, 0.5]), np.array([False, False]))
    assert est.weight == pytest.approx(3 / 13)
    assert est.value == pytest.approx(0.5 + 2 / 13)


def test_adaptive_estimate_is_exactly_unbiased_with_c_one():
    """Enumerate every outcome of a two-item study: one phase-1 vote per item, then one phase-2 vote
    on item 0 or 1 with probabilities e = (e0, 1 - e0) that depend on the phase-1 votes (more where
    they differ). The mean of the vote differences per item would be biased; the library's
    design-based estimate with c = 1 averages to theta exactly."""
    mu = {0: {1.0: 0.7, -1.0: 0.3}, 1: {1.0: 0.2, -1.0: 0.8}}  # P(d) per item (no ties)
    theta = np.mean([sum(v * p for v, p in mu[i].items()) for i in (0, 1)])  # (0.4 - 0.6) / 2 = -0.1
    zero = np.array([False, False])
    total = naive = 0.0
    for y0, y1 in itertools.product((1.0, -1.0), repeat=2):
        p1 = mu[0][y0] * mu[1][y1]
        e0 = 0.8 if y0 != y1 else 0.3
        e = np.array([e0, 1 - e0])
        for item in (0, 1):
            for y in (1.0, -1.0):
                p2 = e[item] * mu[item][y]
                d1 = [np.array([y0]), np.array([y1])]
                d2 = [np.array([y]) if k == item else np.zeros(0) for k in (0, 1)]
                est = al.adaptive_estimate(d1, d2, e, zero, weight=1.0)
                total += p1 * p2 * est.value
                naive += p1 * p2 * np.mean([np.concatenate([a, b]).mean() for a, b in zip(d1, d2, strict=True)])
    assert theta == pytest.approx(-0.1)
    assert total == pytest.approx(theta)
    assert abs(naive - theta) > 0.01  # the per-item mean of all votes is biased under this allocation


def test_planned_widths_by_hand():
    w = al.planned_widths([np.array([1.0, -1.0])], np.array([False]), np.array([4]), 2)
    z = 1.959964
    assert w["now"] == pytest.approx(2 * z * 1.0, abs=1e-5)
    assert w["uniform"] == pytest.approx(2 * z * math.sqrt(0.5), abs=1e-5)
    assert w["adaptive"] == pytest.approx(2 * z * math.sqrt(0.6), abs=1e-5)


def test_adaptive_beats_uniform_when_judges_mostly_agree():
    # 10 items, the judges differ on 2 (votes [1, -1, 1]: SS = 8/3, pooled 4/3, s^2 = 4/3), agree on 8.
    # V1 = 2 * (4/3) / 3 / 100 = 8/900. Uniform: 2 more each -> 2 * (4/3) / 5 / 100.
    # Adaptive (floor 0.1, 17 free each): 0.2 per item evenly + 9 on each live item -> e = 9.2;
    # W = 2 * (4/3) * (4/3) / 9.2 / 100; variance V1 W / (V1 + W).
    d1 = [np.array([1.0, -1.0, 1.0])] * 2 + [np.zeros(3)] * 8
    zero = np.array([False] * 2 + [True] * 8)
    w = al.planned_widths(d1, zero, np.full(10, 17), 20)
    v1, vu, ww = 8 / 900, 2 * (4 / 3) / 5 / 100, 2 * (16 / 9) / 9.2 / 100
    z2 = 2 * 1.959964
    assert w["uniform"] == pytest.approx(z2 * math.sqrt(vu), abs=1e-5)
    assert w["adaptive"] == pytest.approx(z2 * math.sqrt(v1 * ww / (v1 + ww)), abs=1e-5)
    assert w["adaptive"] < 0.75 * w["uniform"] < w["now"]


def test_adaptive_estimate_without_phase_two_is_the_phase_one_estimate():
    d1 = [np.array([1.0, -1.0, 1.0]), np.array([0.0, 0.0])]
    zero = np.array([False, True])
    est = al.adaptive_estimate(d1, [np.zeros(0), np.zeros(0)], np.zeros(2), zero)
    ref = al.uniform_estimate(d1, zero)
    assert est.weight == 0.0
    assert (est.value, est.se) == pytest.approx((ref.value, ref.se))
