"""The 2-D Gaussian mixtures of the PacGAN benchmark (Lin et al. 2018).

ring8:  8 Gaussians of std 0.01 on the unit circle, centre k at angle 2 pi k / 8
        (k = 0..7; ``linspace(0, 2 pi, 8)`` would put the first and last on one point).
grid25: 25 Gaussians of std 0.05 at {-4, -2, 0, 2, 4}^2.
"""
from __future__ import annotations

import numpy as np

_angles = 2 * np.pi * np.arange(8) / 8
RING8_CENTRES = np.stack([np.cos(_angles), np.sin(_angles)], axis=1)
RING8_STD = 0.01
GRID25_CENTRES = np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], float)
GRID25_STD = 0.05


def sample_mixture(centres: np.ndarray, std: float, n: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points (float32 (n, 2)) from equal-weight Gaussians, and each one's mode (int64)."""
    modes = rng.integers(0, len(centres), n)
    points = centres[modes] + std * rng.standard_normal((n, 2))
    return points.astype(np.float32), modes.astype(np.int64)


def sample_ring8(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return sample_mixture(RING8_CENTRES, RING8_STD, n, rng)


def sample_grid25(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return sample_mixture(GRID25_CENTRES, GRID25_STD, n, rng)
