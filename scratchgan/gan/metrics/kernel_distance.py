"""The Kernel Inception Distance (KID, Binkowski et al. 2018): an unbiased estimate of
the squared maximum mean discrepancy (MMD) between two feature distributions.

With the cubic polynomial kernel on d-dimensional features

    k(x, y) = (x . y / d + 1)^3

and m samples x_i of one set, m samples y_j of the other, the unbiased estimate is

    MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
              - 2/m^2 sum_{i, j} k(x_i, y_j)

Its expectation is the true MMD^2, 0 for equal distributions, so unlike FD it
has no bias that depends on the number of samples (a single estimate can be
slightly negative). It is computed on ``subsets`` random subsets of m samples
each (drawn without replacement within a subset) and reported as the mean and
standard deviation over them.
"""
from __future__ import annotations

import numpy as np

from scratchgan.gan.metrics.arrays import MeanStd, as_sample_matrix, check_same_width


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """k(a_i, b_j) = (a_i . b_j / d + 1)^3 for rows a (m, d) and b (n, d): (m, n)."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """MMD^2_u between samples x (m, d) and y (m, d), m >= 2, with the cubic kernel."""
    m = len(x)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.mean())


def kernel_inception_distance(feats_a: np.ndarray, feats_b: np.ndarray, subsets: int = 100,
                              subset_size: int | None = None, seed: int = 0) -> MeanStd:
    """KID between feature sets (n_a, d) and (n_b, d): the mean and the (population)
    standard deviation of MMD^2_u over ``subsets`` subsets of ``subset_size`` samples
    from each set (default: 1000, or the smaller set's size if that is less), drawn
    with ``seed``."""
    a = as_sample_matrix(feats_a, "feats_a", min_rows=2)
    b = as_sample_matrix(feats_b, "feats_b", min_rows=2)
    check_same_width(a, b, "feats_a and feats_b")
    largest = min(len(a), len(b))
    m = min(1000, largest) if subset_size is None else int(subset_size)
    if not 2 <= m <= largest:
        raise ValueError(f"subset_size must lie in [2, {largest}] (the smaller set's size), "
                         f"got {m}")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    rng = np.random.default_rng(seed)
    estimates = [mmd2_unbiased(a[rng.choice(len(a), m, replace=False)],
                               b[rng.choice(len(b), m, replace=False)]) for _ in range(subsets)]
    return MeanStd(float(np.mean(estimates)), float(np.std(estimates)))
