"""Improved precision and recall: a brute-force oracle, batching, and the two failure modes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchgan.gan.metrics import precision_recall
from scratchgan.gan.metrics.precision_recall import knn_radii


def brute_force(real, fake, k):
    """The definition with explicit loops over samples."""
    def radius(points, i):
        return sorted(np.linalg.norm(points[i] - q) for j, q in enumerate(points) if j != i)[k - 1]

    def inside(x, support):
        return any(np.linalg.norm(x - s) <= radius(support, j) for j, s in enumerate(support))
    return (np.mean([inside(f, real) for f in fake]), np.mean([inside(r, fake) for r in real]))


@given(n_real=st.integers(5, 15), n_fake=st.integers(5, 15), k=st.integers(1, 4),
       batch_size=st.integers(1, 20), seed=st.integers(0, 2**32 - 1))
def test_matches_the_definition_for_any_batch_size(n_real, n_fake, k, batch_size, seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((n_real, 3)), rng.standard_normal((n_fake, 3)) * 1.5 + 0.3
    got = precision_recall(real, fake, k=k, batch_size=batch_size)
    assert got == pytest.approx(brute_force(real, fake, k))


def test_identical_sets_have_precision_and_recall_1():
    a = np.random.default_rng(0).standard_normal((1000, 8))
    assert precision_recall(a, a.copy()) == (1.0, 1.0)


def test_fakes_on_a_sub_region_have_high_precision_and_low_recall():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((3000, 2))
    draws = rng.standard_normal((20000, 2))
    fake = draws[draws[:, 0] > 0.5][:3000]   # one side of the real distribution only
    precision, recall = precision_recall(real, fake)
    assert precision > 0.95 and recall < 0.5


def test_fakes_spread_too_wide_have_low_precision_and_high_recall():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((3000, 2))
    fake = 4 * rng.standard_normal((3000, 2))
    precision, recall = precision_recall(real, fake)
    assert precision < 0.5 and recall > 0.95


def test_bad_inputs_are_named():
    a = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"k must lie in \[1, 3\]"):
        precision_recall(a, a, k=4)
    with pytest.raises(ValueError, match="same number of features"):
        precision_recall(a, np.zeros((4, 3)))


def test_known_real_radii_give_the_same_scores_and_a_wrong_shape_is_named():
    rng = np.random.default_rng(4)
    real, fake = rng.standard_normal((60, 5)), rng.standard_normal((40, 5)) + 0.5
    radii = knn_radii(real, 3)
    assert precision_recall(real, fake, real_radii=radii) == precision_recall(real, fake)
    with pytest.raises(ValueError, match=r"real_radii must have shape \(60,\)"):
        precision_recall(real, fake, real_radii=radii[:10])
