"""Every plot writes a real PNG, atomically."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from scratchgan.data import RING8_CENTRES, sample_ring8
from scratchgan.viz import (plot_grad_norms, plot_points, plot_training_curves, save_figure,
                            save_image_grid)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    assert [p.name for p in path.parent.iterdir()] == [path.name]   # no temporary file left


def _records(steps=120):
    rng = np.random.default_rng(0)
    records = []
    for step in range(0, steps * 10, 10):
        record = {"step": step, "loss_d": 1.3 + rng.normal(0, 0.1), "d_real": 0.6, "d_fake": 0.4}
        if step % 20 == 0:                          # logged every other time
            record["loss_g"] = 0.7 + rng.normal(0, 0.1)
        for layer in ("fc.weight", "fc.bias", "c1.weight"):
            record[f"grad_norm/G/{layer}"] = abs(rng.normal(1, 0.2))
            record[f"grad_norm/D/{layer}"] = abs(rng.normal(0.1, 0.02))
        records.append(record)
    records[5]["loss_d"] = float("nan")            # a bad value leaves a gap, not an error
    records[6]["grad_norm/D/c1.weight"] = 0.0      # cannot sit on a log axis: left out
    return records


def test_save_image_grid(tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, (30, 1, 28, 28))
    path = tmp_path / "grids" / "step_100.png"      # the folder is created
    assert save_image_grid(images, path, nrow=6, title="step 100") == path
    _assert_png(path)
    save_image_grid(np.zeros((5, 3, 8, 8)), tmp_path / "grids" / "rgb.png")


def test_plot_points(tmp_path):
    points, _ = sample_ring8(2000, np.random.default_rng(0))
    points[:3] = [[50.0, 50.0], [np.nan, 0.0], [-9.0, 2.0]]
    plot_points(points, tmp_path / "ring.png", centres=RING8_CENTRES, title="ring8")
    _assert_png(tmp_path / "ring.png")
    plot_points(points, tmp_path / "no_centres" / "ring.png")


def test_plot_training_curves(tmp_path):
    plot_training_curves(_records(), tmp_path / "curves.png")
    _assert_png(tmp_path / "curves.png")
    plot_training_curves([], tmp_path / "empty" / "curves.png")   # before the first log


def test_plot_grad_norms(tmp_path):
    plot_grad_norms(_records(), tmp_path / "grads.png")
    _assert_png(tmp_path / "grads.png")
    plot_grad_norms([{"step": 0}], tmp_path / "empty" / "grads.png")


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "picture.png"
    save_figure(Figure(), path)
    before = path.read_bytes()

    def broken(self, file, **kwargs):
        file.write(b"half a picture")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(Figure(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["picture.png"]
