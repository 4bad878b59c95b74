"""Improved precision and recall (Kynkäänniemi et al. 2019): how much of the generated
set is realistic, and how much of the real set the generator reaches.

Each set of features approximates its manifold by a union of balls: around every
sample phi, a ball whose radius is the distance from phi to its k-th nearest
neighbour in the same set (phi itself not counted),

    manifold(Phi) = union over phi in Phi of { x : ||x - phi|| <= NN_k(phi, Phi) }

    precision = (1/|fake|) #{ f in fake : f in manifold(real) }
    recall    = (1/|real|) #{ r in real : r in manifold(fake) }

A generator that draws only part of the data has high precision and low recall;
one that draws blurry averages of everything, the opposite. The distances are
computed a block of rows at a time, so 10000 x 10000 sets need only about
``batch_size`` x 10000 x 8 bytes of memory at once.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from scratchgan.gan.metrics.arrays import as_sample_matrix, check_same_width


class PrecisionRecall(NamedTuple):
    precision: float
    recall: float


def _squared_distance_blocks(a: np.ndarray, b: np.ndarray,
                             batch_size: int) -> Iterator[tuple[slice, np.ndarray]]:
    """(rows, D) for consecutive blocks of rows of ``a``: D[i, j] = ||a_i - b_j||^2,
    computed as ||a_i||^2 + ||b_j||^2 - 2 a_i . b_j and clipped at 0."""
    b_norms = np.einsum("ij,ij->i", b, b)
    for start in range(0, len(a), batch_size):
        rows = slice(start, start + batch_size)
        block = a[rows]
        d = np.einsum("ij,ij->i", block, block)[:, None] + b_norms[None, :] - 2 * block @ b.T
        yield rows, np.maximum(d, 0.0)


def knn_radii(feats: np.ndarray, k: int, batch_size: int = 500) -> np.ndarray:
    """Squared distance (n,) from each row of ``feats`` (n, d) to its k-th nearest other
    row: the (k+1)-th smallest squared distance of the row, the first being its own 0."""
    radii = np.empty(len(feats))
    for rows, d in _squared_distance_blocks(feats, feats, batch_size):
        radii[rows] = np.partition(d, k, axis=1)[:, k]
    return radii


def inside_manifold(queries: np.ndarray, support: np.ndarray, support_radii: np.ndarray,
                    batch_size: int = 500) -> np.ndarray:
    """Whether each of ``queries`` (n, d) lies in some ball of the support (m, d): within
    squared distance ``support_radii[j]`` of support row j for at least one j (bool, (n,))."""
    inside = np.zeros(len(queries), dtype=bool)
    for rows, d in _squared_distance_blocks(queries, support, batch_size):
        inside[rows] = np.any(d <= support_radii[None, :], axis=1)
    return inside


def fraction_inside(queries: np.ndarray, support: np.ndarray, support_radii: np.ndarray,
                    batch_size: int = 500) -> float:
    """The fraction of ``queries`` lying in some ball of the support (``inside_manifold``)."""
    return float(inside_manifold(queries, support, support_radii, batch_size).mean())


def precision_recall(real_feats: np.ndarray, fake_feats: np.ndarray, k: int = 3,
                     batch_size: int = 500,
                     real_radii: np.ndarray | None = None) -> PrecisionRecall:
    """Improved precision and recall of ``fake_feats`` (n_f, d) against ``real_feats``
    (n_r, d), with k-th nearest neighbour balls (the paper uses k = 3); both sets need
    more than k samples. ``real_radii``: ``knn_radii(real_feats, k)`` when already known
    (a run scoring itself repeatedly against one test set computes it once)."""
    real = as_sample_matrix(real_feats, "real_feats")
    fake = as_sample_matrix(fake_feats, "fake_feats")
    check_same_width(real, fake, "real_feats and fake_feats")
    if not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"k must lie in [1, {min(len(real), len(fake)) - 1}] (fewer than "
                         f"either set's samples), got {k}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if real_radii is None:
        real_radii = knn_radii(real, k, batch_size)
    elif np.shape(real_radii) != (len(real),):
        raise ValueError(f"real_radii must have shape ({len(real)},), one radius per real "
                         f"sample, got {np.shape(real_radii)}")
    precision = fraction_inside(fake, real, real_radii, batch_size)
    recall = fraction_inside(real, fake, knn_radii(fake, k, batch_size), batch_size)
    return PrecisionRecall(precision, recall)
