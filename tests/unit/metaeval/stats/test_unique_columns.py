"""unique_columns is np.unique(axis=1, return_inverse=True) without viewing each column as one record."""

from __future__ import annotations

import numpy as np

from metaeval.stats.bootstrap import unique_columns


def test_matches_numpy_on_random_arrays_with_repeated_columns():
    rng = np.random.default_rng(1)
    for _ in range(300):
        a = rng.integers(-2, 3, size=(int(rng.integers(1, 6)), int(rng.integers(1, 9)))).astype(float)
        a = a[:, rng.integers(0, a.shape[1], size=a.shape[1] + 3)]
        expected, inverse = np.unique(a, axis=1, return_inverse=True)
        got, got_inverse = unique_columns(a)
        assert np.array_equal(got, expected)
        assert np.array_equal(got_inverse, inverse.ravel())


def test_negative_zero_equals_zero():
    got, inverse = unique_columns(np.array([[0.0, -0.0, 1.0]]))
    assert got.tolist() == [[0.0, 1.0]] and inverse.tolist() == [0, 0, 1]
