"""The sample-quality metrics on cases whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from gandsl.eval.metrics import frechet_distance, kid, precision_recall


def _gauss(n: int, d: int = 8, seed: int = 0, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.linspace(0.5, 2.0, d)
    return rng.normal(size=(n, d)) * scales + shift


def test_frechet_distance_of_a_shifted_copy_is_the_squared_shift():
    a = _gauss(500)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.arange(8) / 4
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_frechet_distance_matches_the_gaussian_formula():
    # N(0, I) against N(0, 4I) in d dimensions: tr(I + 4I − 2·2I) = d
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(20000, 4)), 2 * rng.normal(size=(20000, 4))
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=0.05)
    floor = frechet_distance(_gauss(2000, seed=1), _gauss(2000, seed=2))
    assert floor < 0.1 < frechet_distance(_gauss(2000, seed=1), _gauss(2000, seed=2, shift=1))


def test_kid_is_unbiased_near_zero_for_one_distribution_and_large_for_two():
    same = kid(_gauss(400, seed=1), _gauss(400, seed=2), subsets=20, subset=200)
    apart = kid(_gauss(400, seed=1), _gauss(400, seed=2, shift=1.0), subsets=20, subset=200)
    assert abs(same) < 0.05 < apart


def test_precision_and_recall_of_a_subset_and_of_far_points():
    real = _gauss(600, seed=3)
    half = real[real[:, 7] < 0]  # real points, one side of the widest axis: all inside
    p, r = precision_recall(real, half, k=3)
    assert p == 1.0 and 0.4 < r < 0.8  # they cover about the half they come from
    p, r = precision_recall(real, real + 100.0, k=3)
    assert p == 0.0 and r == 0.0
    p, r = precision_recall(real, _gauss(600, seed=4), k=3)
    assert p > 0.6 and r > 0.6  # another draw of the same distribution
