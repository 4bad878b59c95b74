"""The digits dataset: shapes, framing, determinism, learnability, the cache."""
import time
import warnings

import numpy as np
import pytest

from scratchgan.data import load_dataset, load_digits, make_digits
from scratchgan.data.cache import CACHE_ENV_VAR


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache folder for the test."""
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    return tmp_path


def test_shapes_dtypes_range_and_balanced_labels(cache):
    ds = load_dataset("digits", n=500)
    assert ds.data.shape == (500, 1, 28, 28) and ds.data.dtype == np.float32
    assert ds.data.min() == -1.0 and ds.data.max() == 1.0
    assert ds.labels.shape == (500,) and ds.labels.dtype == np.int64
    assert np.bincount(ds.labels, minlength=10).tolist() == [50] * 10
    assert (ds.kind, ds.name, ds.num_classes, len(ds)) == ("image", "digits", 10, 500)


def test_uneven_sizes_stay_balanced_within_one():
    _, labels = make_digits(23, np.random.default_rng(0))
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == 23 and counts.max() - counts.min() <= 1


def test_mnist_like_framing(cache):
    images, _ = load_digits(n=400)
    ink = images.astype(np.float64) / 255
    rows = np.arange(28)
    mass = ink.sum(axis=(1, 2))
    centre_row = (ink.sum(axis=2) * rows).sum(axis=1) / mass
    centre_col = (ink.sum(axis=1) * rows).sum(axis=1) / mass
    assert abs(centre_row.mean() - 13.5) < 0.3 and abs(centre_col.mean() - 13.5) < 0.3
    heights = [np.ptp(np.nonzero(im.any(axis=1))[0]) + 1 for im in ink > 0.2]
    assert 18 <= np.mean(heights) <= 22          # the larger side fills about 20 pixels
    assert ink[:, :2].mean() < 0.01 and ink[:, :, -2:].mean() < 0.01   # a black margin
    assert 0.08 < ink.mean() < 0.25               # white strokes on black, as in MNIST
    assert (images == 255).any(axis=(1, 2)).all()  # every stroke reaches full white


def test_same_seed_same_images_other_seed_other_images(cache):
    first = make_digits(60, np.random.default_rng(3))
    again = make_digits(60, np.random.default_rng(3))
    other = make_digits(60, np.random.default_rng(4))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(load_digits("train", seed=0, n=60)[0], load_digits("train", seed=1, n=60)[0])
    assert not np.array_equal(load_digits("train", n=60)[0], load_digits("test", n=60)[0])


def test_classes_are_learnable(cache):
    """Nearest class mean, fitted on train, labels test images far above chance (10%)."""
    train, test = load_dataset("digits", n=1000), load_dataset("digits", "test", n=300)
    x = train.data.reshape(len(train), -1)
    means = np.stack([x[train.labels == d].mean(axis=0) for d in range(10)])
    distance = ((test.data.reshape(len(test), 1, -1) - means[None]) ** 2).sum(axis=-1)
    assert (distance.argmin(axis=1) == test.labels).mean() > 0.6
    gaps = np.sqrt(((means[:, None] - means[None]) ** 2).sum(axis=-1))[~np.eye(10, dtype=bool)]
    assert gaps.min() > 3.0        # every class mean stands apart from every other


def test_cache_hit_returns_the_same_arrays_faster(cache):
    start = time.perf_counter()
    made = load_digits(n=2000, seed=5)
    cold = time.perf_counter() - start
    (path,) = cache.glob("digits-train-n2000-seed5-*.npz")
    start = time.perf_counter()
    cached = load_digits(n=2000, seed=5)
    assert time.perf_counter() - start < cold
    np.testing.assert_array_equal(made[0], cached[0])
    np.testing.assert_array_equal(made[1], cached[1])
    assert not list(cache.glob("*.tmp"))          # written atomically, nothing left over


@pytest.mark.parametrize("damage", ["garbage bytes", "truncated", "wrong arrays"])
def test_damaged_cache_file_is_regenerated_with_a_warning(cache, damage):
    made = load_digits(n=100, seed=2)
    (path,) = cache.glob("digits-*.npz")
    if damage == "garbage bytes":
        path.write_bytes(b"not an npz file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    else:
        np.savez(path, images=np.zeros((3, 28, 28), np.uint8), labels=np.zeros(3, np.int64))
    with pytest.warns(RuntimeWarning, match="regenerating"):
        again = load_digits(n=100, seed=2)
    np.testing.assert_array_equal(made[0], again[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_digits(n=100, seed=2)                # the rewritten file reads cleanly


def test_an_unwritable_cache_warns_and_still_returns_the_data(tmp_path, monkeypatch):
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV_VAR, str(blocker))
    with pytest.warns(RuntimeWarning, match="could not cache"):
        images, labels = load_digits(n=20)
    assert images.shape == (20, 28, 28) and labels.shape == (20,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown split 'valid'"):
        load_digits("valid")
    with pytest.raises(ValueError, match="n must be at least 1"):
        make_digits(0, np.random.default_rng(0))
