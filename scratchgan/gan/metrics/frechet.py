"""The Fréchet distance between two sets of features (FID, Heusel et al. 2017).

Each set is summarised by a Gaussian N(mu, S) with its sample mean and covariance;
the distance is the squared 2-Wasserstein distance between the two Gaussians:

    FD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})

With Inception-v3 features this is FID; here the features come from whatever
network the caller chose (``scratchgan.gan.metrics.classifier`` for digits), so
numbers compare only between runs scored with the same feature network.
"""
from __future__ import annotations

import numpy as np

from scratchgan.gan.metrics.arrays import as_sample_matrix, check_same_width


def feature_statistics(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mu, S): the mean (d,) and the unbiased covariance (d, d) of ``feats`` (n, d), n >= 2.

    mu = (1/n) sum_i x_i;   S = 1/(n-1) sum_i (x_i - mu)(x_i - mu)^T
    """
    x = as_sample_matrix(feats, "feats", min_rows=2)
    mu = x.mean(axis=0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)


def _symmetric_sqrt(S: np.ndarray) -> np.ndarray:
    """S^{1/2} of a symmetric positive semi-definite S = V diag(l) V^T: V diag(sqrt(l)) V^T,
    with the tiny negative eigenvalues that rounding leaves clipped to 0."""
    eigenvalues, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ V.T


def trace_sqrt_product(S1: np.ndarray, S2: np.ndarray) -> float:
    """Tr((S1 S2)^{1/2}) for symmetric positive semi-definite S1, S2.

    S1 S2 is not symmetric, but it is similar to M = S1^{1/2} S2 S1^{1/2}
    (S1 S2 = S1^{1/2} M S1^{-1/2} when S1 is invertible, and by continuity otherwise),
    which is symmetric PSD. So the eigenvalues l_i of S1 S2 are those of M, real and
    >= 0, and Tr((S1 S2)^{1/2}) = sum_i sqrt(l_i), taken from ``eigvalsh(M)`` with
    rounding's tiny negative eigenvalues clipped to 0. No complex square root, no
    scipy, and singular covariances (fewer samples than features) are fine.
    """
    R = _symmetric_sqrt(S1)
    M = R @ S2 @ R
    eigenvalues = np.linalg.eigvalsh((M + M.T) / 2)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def frechet_distance_from_statistics(mu1: np.ndarray, S1: np.ndarray, mu2: np.ndarray,
                                     S2: np.ndarray) -> float:
    """FD = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2}) for two Gaussians
    N(mu1, S1), N(mu2, S2) with means (d,) and covariances (d, d)."""
    mu1, mu2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    S1, S2 = (np.asarray(S, dtype=np.float64) for S in (S1, S2))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or S1.shape != (d, d) or S2.shape != (d, d):
        raise ValueError(f"frechet distance: means must be (d,) and covariances (d, d) with one d, "
                         f"got {mu1.shape}, {S1.shape}, {mu2.shape}, {S2.shape}")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(S1) + np.trace(S2) - 2 * trace_sqrt_product(S1, S2)
    # The exact value is >= 0; rounding can leave a tiny negative number for equal sets.
    return max(float(value), 0.0)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """The Fréchet distance between feature sets (n_a, d) and (n_b, d), each at least
    2 samples: the FD of N(mu_a, S_a) and N(mu_b, S_b) from :func:`feature_statistics`."""
    a = as_sample_matrix(feats_a, "feats_a", min_rows=2)
    b = as_sample_matrix(feats_b, "feats_b", min_rows=2)
    check_same_width(a, b, "feats_a and feats_b")
    return frechet_distance_from_statistics(*feature_statistics(a), *feature_statistics(b))
