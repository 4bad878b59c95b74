"""The NumPy image operations behind the digits."""
import numpy as np

from scratchgan.data.imageops import (bilinear_sample, box_downsample, gaussian_blur,
                                      linear_resize_matrix, max_filter, min_filter)


def test_bilinear_sample_reads_pixels_mixes_neighbours_and_zero_outside():
    bank = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32) + 1
    which = np.array([2, 0])
    ys = np.array([[1.0, 1.5, 0.0, 3.0, 3.5, -0.5],
                   [0.25, 3.0, -1.0, 4.0, 9.0, -7.0]])
    xs = np.array([[2.0, 2.0, 0.5, 4.0, 1.0, 0.0],
                   [0.0, 4.5, 0.0, 1.0, 2.0, 2.0]])
    got = bilinear_sample(bank, which, ys, xs)
    b = bank[2]
    np.testing.assert_allclose(got[0], [b[1, 2], (b[1, 2] + b[2, 2]) / 2, (b[0, 0] + b[0, 1]) / 2,
                                        b[3, 4], b[3, 1] / 2, b[0, 0] / 2], rtol=1e-6)
    b = bank[0]
    np.testing.assert_allclose(got[1], [0.75 * b[0, 0] + 0.25 * b[1, 0], b[3, 4] / 2, 0, 0, 0, 0],
                               rtol=1e-6)


def test_max_filter_grows_an_octagon_and_min_filter_is_its_dual():
    image = np.zeros((1, 9, 9), np.float32)
    image[0, 4, 4] = 1
    assert max_filter(image, 1).sum() == 5        # plus-shaped first step
    assert max_filter(image, 2).sum() == 25 - 4   # then a square step: 5x5 less its corners
    x = np.random.default_rng(1).random((2, 7, 6)).astype(np.float32)
    np.testing.assert_array_equal(min_filter(x, 3), -max_filter(-x, 3))
    assert np.all(max_filter(x, 2) >= x) and np.all(min_filter(x, 2) <= x)


def test_gaussian_blur_keeps_mass_is_symmetric_and_per_image():
    image = np.zeros((2, 15, 15), np.float32)
    image[:, 7, 7] = 1
    out = gaussian_blur(image, np.array([0.5, 1.5]))
    np.testing.assert_allclose(out.sum(axis=(1, 2)), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out, out[:, ::-1, :], atol=1e-7)
    np.testing.assert_allclose(out, out.transpose(0, 2, 1), atol=1e-7)
    assert out[0, 7, 7] > out[1, 7, 7]           # the narrower blur keeps more in the centre


def test_box_downsample_and_resize_matrix():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(box_downsample(x, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    m = linear_resize_matrix(4, 28)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    np.testing.assert_allclose(m @ np.array([0.0, 1.0, 2.0, 3.0]), np.linspace(0, 3, 28))
