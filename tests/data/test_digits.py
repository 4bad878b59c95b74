import time
import warnings

import numpy as np
import pytest

from scratchgan.data import digits, load_dataset


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHGAN_CACHE", str(tmp_path))
    return tmp_path


def test_shapes_range_and_balance(cache):
    ds = load_dataset("digits", n=500)
    assert ds.data.shape == (500, 1, 28, 28) and ds.data.dtype == np.float32
    assert ds.data.min() >= -1 and ds.data.max() <= 1
    assert ds.labels.dtype == np.int64 and np.bincount(ds.labels).tolist() == [50] * 10
    assert ds.kind == "image" and ds.num_classes == 10
    # MNIST-like framing: black border, ink in the middle
    ink = (ds.data + 1) / 2
    assert ink[:, :, :2].mean() < 0.02 and ink[:, :, 10:18, 10:18].mean() > 0.2


def test_deterministic_from_the_seed(cache):
    a, b = digits.generate(200, 0), digits.generate(200, 0)
    c = digits.generate(200, 1)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_train_and_test_splits_differ(cache):
    tr, te = load_dataset("digits", "train", n=100), load_dataset("digits", "test", n=100)
    assert not np.array_equal(tr.data, te.data)


def test_classes_are_distinguishable(cache):
    ds = load_dataset("digits", n=2000)
    means = np.stack([ds.data[ds.labels == d].mean(0).ravel() for d in range(10)])
    # nearest class mean recovers the label far above chance (10%)
    dist = ((ds.data.reshape(2000, -1)[:, None] - means[None]) ** 2).sum(-1)
    assert (dist.argmin(1) == ds.labels).mean() > 0.5


def test_cache_hit_and_corrupted_cache(cache):
    start = time.perf_counter()
    first = digits.load_digits(3000, 5)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    again = digits.load_digits(3000, 5)
    assert time.perf_counter() - start < cold
    np.testing.assert_array_equal(first[0], again[0])
    (path,) = cache.glob("digits-*.npz")
    path.write_bytes(b"garbage")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        regenerated = digits.load_digits(3000, 5)
    assert any("regenerating" in str(w.message) for w in caught)
    np.testing.assert_array_equal(first[0], regenerated[0])


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; known: digits, ring8, grid25"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        load_dataset("ring8", split="val")
