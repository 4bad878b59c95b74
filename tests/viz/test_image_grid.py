"""image_grid: where each image lands, values, gaps."""
import numpy as np
import pytest

from scratchgan.viz import image_grid
from scratchgan.viz.grids import GAP_VALUE


def test_image_k_sits_in_row_k_div_nrow_column_k_mod_nrow():
    n, h, w, gap, nrow = 7, 4, 3, 2, 3
    values = np.linspace(-1, 1, n)
    images = values[:, None, None, None] * np.ones((n, 1, h, w))
    grid = image_grid(images, nrow=nrow, gap=gap)
    assert grid.shape == (3 * (h + gap) + gap, nrow * (w + gap) + gap) and grid.dtype == np.float32
    for k in range(n):
        top, left = gap + (k // nrow) * (h + gap), gap + (k % nrow) * (w + gap)
        np.testing.assert_allclose(grid[top:top + h, left:left + w], (values[k] + 1) / 2, atol=1e-6)
    tiles = np.zeros_like(grid, dtype=bool)
    for k in range(n):
        top, left = gap + (k // nrow) * (h + gap), gap + (k % nrow) * (w + gap)
        tiles[top:top + h, left:left + w] = True
    assert np.all(grid[~tiles] == GAP_VALUE)      # gaps and the two empty tiles are grey


def test_rgb_grid_keeps_the_channels_and_clips():
    images = np.zeros((2, 3, 2, 2))
    images[1, 0], images[1, 2] = 5.0, -5.0         # out of range: clipped
    grid = image_grid(images, nrow=2, gap=1)
    assert grid.shape == (4, 7, 3)
    np.testing.assert_array_equal(grid[1, 4], [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(grid[1, 1], [0.5, 0.5, 0.5])


@pytest.mark.parametrize("shape", [(4, 28, 28), (4, 2, 8, 8), (0, 1, 8, 8)])
def test_bad_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="images must be shaped"):
        image_grid(np.zeros(shape))
