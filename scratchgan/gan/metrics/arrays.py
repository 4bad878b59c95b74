"""What the metrics share: input checks and the (mean, std) pair of a subset estimate."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class MeanStd(NamedTuple):
    """An estimate repeated over splits or subsets: its mean and standard deviation."""
    mean: float
    std: float


def as_sample_matrix(x: np.ndarray, name: str, min_rows: int = 1) -> np.ndarray:
    """``x`` as a finite float64 array (n, d) with n >= ``min_rows``; a ValueError
    naming ``name`` otherwise."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples, features), got shape {x.shape}")
    if len(x) < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} samples, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return x


def check_same_width(a: np.ndarray, b: np.ndarray, names: str) -> None:
    """Both sets must have the same number of features."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names} must have the same number of features, got "
                         f"{a.shape[1]} and {b.shape[1]}")


def as_probabilities(probs: np.ndarray, name: str = "probs") -> np.ndarray:
    """``probs`` as float64 (n, K) rows of a distribution: >= 0, each summing to 1
    (within 1e-3, as float32 softmax outputs do)."""
    p = as_sample_matrix(probs, name)
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(f"{name} must hold probability rows (non-negative, summing to 1)")
    return p
