"""Simulation: clustered bootstrap intervals cover a planted judge accuracy about 95% of the time."""

from __future__ import annotations

import numpy as np

from metaeval.stats.bootstrap import bootstrap_ratio, percentile_interval


def test_interval_coverage_of_planted_accuracy():
    rng = np.random.default_rng(20240601)
    n_studies, n_queries, n_annot, planted = 1000, 300, 5, 0.8
    # Per-query chance that a vote matches the judge varies (Beta(8, 2), mean 0.8), so votes of a query are
    # correlated and clustering matters; the population agreement is exactly the planted 0.8.
    p_q = rng.beta(8, 2, size=(n_queries, n_studies))
    matches = rng.binomial(n_annot, p_q).astype(float)  # queries x studies (one column per study)
    votes = np.full_like(matches, n_annot)
    reps = bootstrap_ratio(matches, votes, n_resamples=2000, rng=rng)
    ci = percentile_interval(reps)
    covered = np.mean((ci[:, 0] <= planted) & (planted <= ci[:, 1]))
    assert 0.93 <= covered <= 0.97, covered


def test_clustering_widens_intervals():
    # All 5 votes of a query agree with each other: the clustered interval must be ~sqrt(5) times wider
    # than one that (wrongly) treats the 1,500 votes as independent clusters.
    rng = np.random.default_rng(1)
    per_query = rng.binomial(1, 0.7, size=300).astype(float) * 5
    clustered = percentile_interval(bootstrap_ratio(per_query[:, None], np.full((300, 1), 5.0), n_resamples=4000, rng=rng))
    flat = np.repeat(per_query / 5, 5)[:, None]
    naive = percentile_interval(bootstrap_ratio(flat, np.ones_like(flat), n_resamples=4000, rng=rng))
    ratio = (clustered[0, 1] - clustered[0, 0]) / (naive[0, 1] - naive[0, 0])
    assert 1.8 < ratio < 2.7  # sqrt(5) = 2.24
