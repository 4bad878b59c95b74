"""The 2-D Gaussian mixtures of the PacGAN benchmark (Lin et al., 2018).

ring8:  8 equal-weight Gaussians of std 0.01 on the unit circle, centre k at
        angle 2 pi k / 8 for k = 0..7. (``linspace(0, 2 pi, 8)`` would put the
        first and the last centre on one point and leave a gap.)
grid25: 25 equal-weight Gaussians of std 0.05 at {-4, -2, 0, 2, 4}^2.

A generator that covers every mode with the right spread matches the data; one
that collapses onto a few modes shows it at a glance.
"""
from __future__ import annotations

import numpy as np

from scratchgan.random import get_rng


def _constant(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


_RING_ANGLES = 2 * np.pi * np.arange(8) / 8
RING8_CENTRES = _constant(np.stack([np.cos(_RING_ANGLES), np.sin(_RING_ANGLES)], axis=1))
RING8_STD = 0.01
GRID25_CENTRES = _constant(np.array([(x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0)
                                     for y in (-4.0, -2.0, 0.0, 2.0, 4.0)]))
GRID25_STD = 0.05


def sample_mixture(centres: np.ndarray, std: float, n: int,
                   rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` draws from equal-weight isotropic Gaussians of std ``std`` around ``centres`` (K, D).

    Returns the points, float32 (n, D), and the mode each was drawn from, int64
    (n,). ``rng`` defaults to the library's global generator.
    """
    rng = get_rng() if rng is None else rng
    modes = rng.integers(0, len(centres), n)
    points = centres[modes] + std * rng.standard_normal((n, centres.shape[1]))
    return points.astype(np.float32), modes.astype(np.int64)


def sample_ring8(n: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the ring of 8 Gaussians and their modes (see :func:`sample_mixture`)."""
    return sample_mixture(RING8_CENTRES, RING8_STD, n, rng)


def sample_grid25(n: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the grid of 25 Gaussians and their modes (see :func:`sample_mixture`)."""
    return sample_mixture(GRID25_CENTRES, GRID25_STD, n, rng)
