"""Inception score: its bounds 1 and K, and the definition on a small case."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchgan.gan.metrics import inception_score


@given(k=st.integers(2, 12), per_split=st.integers(1, 5), splits=st.integers(1, 10))
def test_confident_predictions_spread_evenly_score_k(k, per_split, splits):
    labels = np.arange(k * per_split * splits) % k  # every split sees each class equally often
    mean, std = inception_score(np.eye(k)[labels], splits=splits)
    assert mean == pytest.approx(k) and std == pytest.approx(0.0, abs=1e-9)


@given(k=st.integers(2, 12), cls=st.integers(0, 11), seed=st.integers(0, 2**32 - 1))
def test_one_predicted_distribution_for_all_samples_scores_1(k, cls, seed):
    confident = np.eye(k)[np.full(100, cls % k)]
    assert inception_score(confident, splits=4) == pytest.approx((1.0, 0.0))
    p = np.random.default_rng(seed).dirichlet(np.ones(k))
    assert inception_score(np.tile(p, (100, 1)), splits=4).mean == pytest.approx(1.0)


def test_matches_the_definition_on_a_small_case():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.05, 0.05, 0.9]])
    marginal = p.mean(axis=0)
    kl = [sum(pi * np.log(pi / m) for pi, m in zip(row, marginal)) for row in p]
    assert inception_score(p, splits=1).mean == pytest.approx(np.exp(np.mean(kl)), rel=1e-12)


@given(k=st.integers(2, 10), seed=st.integers(0, 2**32 - 1))
def test_any_predictions_score_between_1_and_k(k, seed):
    probs = np.random.default_rng(seed).dirichlet(np.full(k, 0.3), size=60)
    mean, std = inception_score(probs, splits=3)
    assert 1.0 - 1e-9 <= mean <= k + 1e-9 and std >= 0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="probability rows"):
        inception_score(np.full((10, 3), 0.5))
    with pytest.raises(ValueError, match="splits must lie in"):
        inception_score(np.eye(3), splits=4)
