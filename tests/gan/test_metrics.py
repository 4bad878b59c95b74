import numpy as np

from scratchgan.data import GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD
from scratchgan.gan.metrics import mode_statistics


def test_samples_on_every_mode():
    rng = np.random.default_rng(0)
    idx = np.arange(2500) % 8
    samples = RING8_CENTRES[idx] + rng.standard_normal((2500, 2)) * RING8_STD
    s = mode_statistics(samples, RING8_CENTRES, RING8_STD)
    assert s.modes_captured == 8 and s.high_quality_fraction > 0.98
    assert abs(s.reverse_kl) < 1e-3


def test_all_samples_on_one_mode():
    samples = np.repeat(GRID25_CENTRES[:1], 2500, axis=0)
    s = mode_statistics(samples, GRID25_CENTRES, GRID25_STD)
    assert s.modes_captured == 1 and s.high_quality_fraction == 1.0
    assert np.isclose(s.reverse_kl, np.log(25))


def test_samples_between_modes_are_low_quality():
    samples = np.full((100, 2), 1.0)  # between grid points
    s = mode_statistics(samples, GRID25_CENTRES, GRID25_STD)
    assert s.modes_captured == 0 and s.high_quality_fraction == 0.0
