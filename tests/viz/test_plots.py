import numpy as np
import pytest

from scratchgan import viz

PNG = b"\x89PNG\r\n\x1a\n"


def test_image_grid_places_image_k_at_its_tile():
    images = -np.ones((5, 1, 4, 4), np.float32)
    images[3] = 1.0
    grid = viz.image_grid(images, nrow=2, gap=1)
    assert grid.shape == (3 * 5 + 1, 2 * 5 + 1)
    row, col = divmod(3, 2)
    top, left = 1 + row * 5, 1 + col * 5
    assert np.all(grid[top:top + 4, left:left + 4] == 1.0)
    assert grid[1:5, 1:5].max() == 0.0


def test_every_plot_writes_a_png(tmp_path):
    rng = np.random.default_rng(0)
    records = [{"step": s, "loss_d": 1.0 / s, "loss_g": 2.0, "d_real": 0.6, "d_fake": 0.4,
                "grad_norm/G/fc.weight": 0.1 * s, "grad_norm/D/fc.weight": 0.2} for s in range(1, 6)]
    paths = [viz.save_image_grid(rng.uniform(-1, 1, (12, 3, 8, 8)), tmp_path / "grid.png", 4, "t"),
             viz.plot_points(rng.standard_normal((100, 2)), tmp_path / "pts.png",
                             centres=np.zeros((1, 2)), title="t"),
             viz.plot_training_curves(records, tmp_path / "curves.png"),
             viz.plot_grad_norms(records, tmp_path / "norms.png")]
    for p in paths:
        assert p.read_bytes()[:8] == PNG
    assert not list(tmp_path.glob("*.tmp*"))


def test_bad_image_shape():
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\)"):
        viz.image_grid(np.zeros((2, 2, 4, 4)))
