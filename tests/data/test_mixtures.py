"""The PacGAN 2-D mixtures: ring of 8 and grid of 25 Gaussians."""
import numpy as np
import pytest

from scratchgan.data import (GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD, sample_grid25,
                             sample_ring8)


def test_ring8_has_eight_distinct_centres_on_the_unit_circle():
    assert RING8_CENTRES.shape == (8, 2) and RING8_STD == 0.01
    np.testing.assert_allclose(np.linalg.norm(RING8_CENTRES, axis=1), 1.0)
    angles = np.mod(np.arctan2(RING8_CENTRES[:, 1], RING8_CENTRES[:, 0]), 2 * np.pi)
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    # the linspace(0, 2 pi, 8) pitfall puts two centres on one point
    gaps = np.linalg.norm(RING8_CENTRES[:, None] - RING8_CENTRES[None], axis=-1)[~np.eye(8, dtype=bool)]
    np.testing.assert_allclose(gaps.min(), 2 * np.sin(np.pi / 8))


def test_grid25_centres_and_std():
    assert GRID25_STD == 0.05
    assert sorted(map(tuple, GRID25_CENTRES.tolist())) == sorted(
        (x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0))


def test_centres_are_read_only():
    with pytest.raises(ValueError):
        RING8_CENTRES[0, 0] = 5.0


@pytest.mark.parametrize("sample, centres, std", [(sample_ring8, RING8_CENTRES, RING8_STD),
                                                  (sample_grid25, GRID25_CENTRES, GRID25_STD)])
def test_each_mode_is_an_isotropic_gaussian_of_the_std(sample, centres, std):
    points, modes = sample(50_000, np.random.default_rng(0))
    assert points.shape == (50_000, 2) and points.dtype == np.float32 and modes.dtype == np.int64
    counts = np.bincount(modes, minlength=len(centres))
    assert len(counts) == len(centres) and counts.min() > 0.8 * 50_000 / len(centres)
    for k in (0, len(centres) - 1):
        offsets = points[modes == k] - centres[k]
        np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=5 * std / np.sqrt(len(offsets)))
        np.testing.assert_allclose(offsets.std(axis=0), std, rtol=0.1)
    nearest = np.linalg.norm(points[:, None] - centres[None], axis=-1).argmin(axis=1)
    np.testing.assert_array_equal(nearest, modes)


def test_sampling_follows_the_generator():
    a = sample_ring8(100, np.random.default_rng(7))
    b = sample_ring8(100, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], sample_ring8(100, np.random.default_rng(8))[0])
