"""load_dataset: names, splits, defaults, the registry."""
import numpy as np
import pytest

from scratchgan.data import DATASETS, GRID25_CENTRES, Dataset, load_dataset, register_dataset
from scratchgan.data import datasets


@pytest.mark.parametrize("name, modes", [("ring8", 8), ("grid25", 25)])
def test_points_datasets(name, modes):
    ds = load_dataset(name)
    assert ds.data.shape == (100_000, 2) and ds.data.dtype == np.float32
    assert ds.labels.dtype == np.int64 and set(np.unique(ds.labels).tolist()) == set(range(modes))
    assert (ds.kind, ds.name, ds.num_classes, ds.centres.shape) == ("points", name, modes, (modes, 2))
    again, other = load_dataset(name), load_dataset(name, seed=1)
    np.testing.assert_array_equal(ds.data, again.data)
    assert not np.array_equal(ds.data, other.data)
    assert not np.array_equal(load_dataset(name, n=50).data, load_dataset(name, "test", n=50).data)


def test_grid25_dataset_carries_its_centres():
    np.testing.assert_array_equal(load_dataset("grid25", n=10).centres, GRID25_CENTRES)


def test_unknown_names_and_splits_say_what_is_known():
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'; known datasets: cifar10, digits, "
                                         r"fashion-mnist, grid25, mnist, ring8"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match=r"unknown split 'val'; known splits: train, test"):
        load_dataset("ring8", split="val")
    with pytest.raises(ValueError, match="n must be at least 1"):
        load_dataset("ring8", n=0)


def test_a_new_dataset_is_one_registered_function(monkeypatch):
    monkeypatch.setattr(datasets, "DATASETS", dict(DATASETS))

    @register_dataset("zeros")
    def zeros(split, seed, n):
        return Dataset(np.zeros((n or 3, 2), np.float32), None, 0, "points", "zeros")

    assert len(load_dataset("zeros")) == 3
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("zeros")(zeros)
    assert "zeros" not in DATASETS
