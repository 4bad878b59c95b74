"""Fréchet distance: closed forms for Gaussians, a brute matrix square root, edge cases."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchgan.gan.metrics import (feature_statistics, frechet_distance,
                                    frechet_distance_from_statistics, trace_sqrt_product)


def random_spd(rng, d):
    A = rng.standard_normal((d, d))
    return A @ A.T + 0.1 * np.eye(d)


def denman_beavers_sqrt(A, iterations=60):
    """A^{1/2} of a matrix with positive real eigenvalues, by the Denman-Beavers iteration
    Y <- (Y + Z^-1)/2, Z <- (Z + Y^-1)/2 from Y = A, Z = I (Y -> A^{1/2}): a method
    independent of the eigen-decomposition the metric uses."""
    Y, Z = A.copy(), np.eye(len(A))
    for _ in range(iterations):
        Y, Z = (Y + np.linalg.inv(Z)) / 2, (Z + np.linalg.inv(Y)) / 2
    return Y


@given(d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_trace_sqrt_matches_a_brute_matrix_square_root(d, seed):
    rng = np.random.default_rng(seed)
    S1, S2 = random_spd(rng, d), random_spd(rng, d)
    root = denman_beavers_sqrt(S1 @ S2)
    np.testing.assert_allclose(root @ root, S1 @ S2, rtol=1e-8, atol=1e-8)
    assert trace_sqrt_product(S1, S2) == pytest.approx(np.trace(root), rel=1e-8)


@given(d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_fd_from_statistics_equals_the_direct_formula(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    S1, S2 = random_spd(rng, d), random_spd(rng, d)
    direct = (np.sum((mu1 - mu2) ** 2) + np.trace(S1) + np.trace(S2)
              - 2 * np.trace(denman_beavers_sqrt(S1 @ S2)))
    assert frechet_distance_from_statistics(mu1, S1, mu2, S2) == pytest.approx(direct, rel=1e-7,
                                                                               abs=1e-9)


@given(d=st.integers(1, 16), s=st.floats(0.0, 5.0), seed=st.integers(0, 2**32 - 1))
def test_isotropic_gaussians_closed_form(d, s, seed):
    # N(0, I) vs N(m, s^2 I): ||m||^2 + d (1 + s^2 - 2 s) = ||m||^2 + d (1 - s)^2
    m = np.random.default_rng(seed).standard_normal(d)
    fd = frechet_distance_from_statistics(np.zeros(d), np.eye(d), m, s * s * np.eye(d))
    assert fd == pytest.approx(m @ m + d * (1 - s) ** 2, rel=1e-9, abs=1e-9)


def test_samples_of_shifted_scaled_gaussians_approach_the_closed_form():
    rng = np.random.default_rng(0)
    d, n, s = 4, 200_000, 2.0
    m = np.array([1.0, -2.0, 0.5, 0.0])
    a = rng.standard_normal((n, d))
    b = m + s * rng.standard_normal((n, d))
    assert frechet_distance(a, b) == pytest.approx(m @ m + d * (1 - s) ** 2, rel=0.01)


def test_identical_sets_give_zero_even_with_singular_covariances():
    rng = np.random.default_rng(1)
    wide = rng.standard_normal((10, 64))  # 10 samples, 64 features: covariance of rank 9
    assert frechet_distance(wide, wide) == pytest.approx(0.0, abs=1e-8)
    a = rng.standard_normal((500, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_symmetric_and_shift_in_one_feature():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((300, 5)), rng.standard_normal((400, 5)) * 1.5
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    shift = np.array([0.0, 3.0, 0.0, 0.0, 0.0])
    assert frechet_distance(a, a + shift) == pytest.approx(9.0, rel=1e-9)


def test_feature_statistics_are_the_sample_mean_and_unbiased_covariance():
    x = np.random.default_rng(3).standard_normal((50, 3))
    mu, S = feature_statistics(x)
    np.testing.assert_allclose(mu, x.mean(axis=0))
    np.testing.assert_allclose(S, np.cov(x, rowvar=False))


def test_bad_inputs_are_named():
    a = np.zeros((10, 3))
    with pytest.raises(ValueError, match="same number of features"):
        frechet_distance(a, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        frechet_distance(a, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        frechet_distance(a, np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="2-D"):
        frechet_distance(np.zeros(10), a)
