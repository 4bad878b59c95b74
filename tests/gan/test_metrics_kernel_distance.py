"""KID: the unbiased MMD^2 estimator against a loop, a closed form, and equal sets."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchgan.gan.metrics import kernel_inception_distance, mmd2_unbiased


@given(m=st.integers(2, 7), d=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_estimator_matches_a_loop_over_pairs(m, d, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((m, d)), rng.standard_normal((m, d)) + 0.5

    def k(a, b):
        return (a @ b / d + 1) ** 3
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10, abs=1e-10)


def gaussian_mmd2_1d(mu_a, s_a, mu_b, s_b):
    """MMD^2 of N(mu_a, s_a^2) and N(mu_b, s_b^2) in 1-D with k(x, y) = (x y + 1)^3:
    E k(x, y) = E x^3 E y^3 + 3 E x^2 E y^2 + 3 E x E y + 1 for independent x, y."""
    def moments(mu, s):
        return mu, mu ** 2 + s ** 2, mu ** 3 + 3 * mu * s ** 2

    def expected_k(p, q):
        return p[2] * q[2] + 3 * p[1] * q[1] + 3 * p[0] * q[0] + 1
    a, b = moments(mu_a, s_a), moments(mu_b, s_b)
    return expected_k(a, a) + expected_k(b, b) - 2 * expected_k(a, b)


def test_unbiased_mean_matches_the_closed_form_for_1d_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, (20000, 1))
    b = rng.normal(0.5, 0.8, (20000, 1))
    kid = kernel_inception_distance(a, b, subsets=200, subset_size=500)
    assert kid.mean == pytest.approx(gaussian_mmd2_1d(0.0, 1.0, 0.5, 0.8), rel=0.1)


def test_equal_distributions_give_zero_within_noise():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2000, 8))
    same = kernel_inception_distance(a, a, subsets=30, subset_size=300)
    fresh = kernel_inception_distance(a, rng.standard_normal((2000, 8)), subsets=30,
                                      subset_size=300)
    shifted = kernel_inception_distance(a, a + 0.2, subsets=30, subset_size=300)
    # (a against itself is slightly negative, by about 2 E k(x, x) / 2000: the cross term
    # sometimes pairs a sample with itself, the within terms never do)
    for kid in (same, fresh):
        assert abs(kid.mean) < kid.std
    assert shifted.mean > 2 * shifted.std > 2 * max(abs(same.mean), abs(fresh.mean))


def test_subset_size_defaults_to_the_smaller_set_and_is_checked():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((300, 4)), rng.standard_normal((50, 4))
    assert kernel_inception_distance(a, b, subsets=3).std >= 0
    with pytest.raises(ValueError, match=r"subset_size must lie in \[2, 50\]"):
        kernel_inception_distance(a, b, subset_size=60)
    with pytest.raises(ValueError, match="same number of features"):
        kernel_inception_distance(a, rng.standard_normal((50, 3)))
