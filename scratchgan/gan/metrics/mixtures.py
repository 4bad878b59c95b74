"""Quality metrics for the 2-D Gaussian mixtures, as PacGAN (Lin et al. 2018) defines them.

With 2500 generated samples, a sample is *high quality* if it lies within 3
standard deviations of its nearest mode; a mode is *captured* if it is the
nearest mode of at least one high-quality sample. The reverse KL divergence
KL(p_gen || uniform) compares the histogram of the samples over their nearest
modes with the uniform distribution over the modes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModeStats:
    modes_captured: int
    num_modes: int
    high_quality_fraction: float
    reverse_kl: float


def mode_statistics(samples: np.ndarray, centres: np.ndarray, std: float) -> ModeStats:
    """Modes captured, the fraction of high-quality samples, and the reverse KL.

    Shapes: samples (n, d), centres (k, d); ``std`` the mixture's per-mode std.
    reverse KL = sum_i p_i log(p_i / (1/k)) over the modes with p_i > 0, where p_i is
    the fraction of all samples whose nearest mode is i.
    """
    samples = np.asarray(samples, np.float64)
    if samples.ndim != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples must have shape (n, {centres.shape[1]}), got {samples.shape}")
    dist = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(samples)), nearest] <= 3 * std
    k = len(centres)
    p = np.bincount(nearest, minlength=k) / len(samples)
    nz = p > 0
    return ModeStats(modes_captured=int(len(np.unique(nearest[good]))), num_modes=k,
                     high_quality_fraction=float(good.mean()),
                     reverse_kl=float(np.sum(p[nz] * np.log(p[nz] * k))))
