"""Paired datasets: the made inputs, the built-in sets, and the pix2pix folder layout."""
import re

import numpy as np
import pytest
from PIL import Image

from scratchgan.data import DataLoader
from scratchgan.data.errors import DataFileError, DatasetNotFoundError
from scratchgan.data.paired import PAIRED_DATASETS, has_held_out, load_held_out, load_paired
from scratchgan.data.paired_inputs import BLOCK_FILL, default_block, edge_map, remove_blocks
from tests.data.fake_files import fake_idx_split, use_checksums


def test_edge_map_of_a_square_is_its_outer_ring_without_corners():
    image = -np.ones((1, 1, 7, 7), np.float32)
    image[..., 2:5, 2:5] = 1
    want = np.zeros((7, 7), bool)
    want[1, 2:5] = want[5, 2:5] = want[2:5, 1] = want[2:5, 5] = True
    edges = edge_map(image)
    assert edges.dtype == np.float32 and edges.shape == image.shape
    np.testing.assert_array_equal(edges[0, 0], np.where(want, 1, -1))


def test_faint_steps_are_not_edges():
    image = -np.ones((1, 1, 5, 5), np.float32)
    image[..., 2, 2] = -0.2            # 0.4 brighter than its neighbours on the [0, 1] scale
    assert np.all(edge_map(image) == -1)


def test_remove_blocks_removes_one_centred_square_per_image():
    images = np.ones((50, 3, 28, 28), np.float32)
    out = remove_blocks(images, np.random.default_rng(0))
    side = default_block(28)
    assert side == 10 and images.min() == 1      # the input is left as it was
    for image in out:
        hole = np.argwhere(image[0] == BLOCK_FILL)
        assert len(hole) == side * side and np.all(image[:, hole[:, 0], hole[:, 1]] == BLOCK_FILL)
        centre = hole.mean(axis=0)
        assert np.all((centre >= 28 / 4 - 1) & (centre <= 3 * 28 / 4))
    again = remove_blocks(images, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)
    with pytest.raises(ValueError, match="block side 29 does not fit images of 28x28"):
        remove_blocks(images, np.random.default_rng(0), block=29)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    from scratchgan.data.cache import CACHE_ENV_VAR
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))


def test_built_in_names():
    assert set(PAIRED_DATASETS) == {"edges2digits", "masked2digits", "edges2mnist",
                                    "masked2mnist"}


def test_edges2digits_pairs_edge_maps_with_their_labelled_digits(cache):
    pairs = load_paired("edges2digits", n=30, seed=1)
    assert pairs.inputs.shape == pairs.targets.shape == (30, 1, 28, 28)
    assert pairs.inputs.dtype == pairs.targets.dtype == np.float32
    assert pairs.labels.shape == (30,) and pairs.num_classes == 10 and len(pairs) == 30
    np.testing.assert_array_equal(pairs.inputs, edge_map(pairs.targets))
    assert set(np.unique(pairs.inputs)) == {-1.0, 1.0}
    x, y, labels = next(DataLoader(pairs.arrays(), batch_size=8).batches())
    assert x.shape == y.shape == (8, 1, 28, 28) and labels.shape == (8,)


def test_masked2digits_is_deterministic_by_seed_and_split(cache):
    first = load_paired("masked2digits", n=20, seed=3)
    again = load_paired("masked2digits", n=20, seed=3)
    np.testing.assert_array_equal(first.inputs, again.inputs)
    other = load_paired("masked2digits", n=20, seed=4)
    assert not np.array_equal(first.inputs, other.inputs)
    test = load_paired("masked2digits", split="test", n=20, seed=3)
    assert not np.array_equal(first.targets, test.targets)
    changed = first.inputs != first.targets
    assert np.all(first.inputs[changed] == BLOCK_FILL)


def test_b_to_a_swaps_inputs_and_targets(cache):
    ab = load_paired("edges2digits", n=5)
    ba = load_paired("edges2digits", n=5, direction="BtoA")
    np.testing.assert_array_equal(ba.inputs, ab.targets)
    np.testing.assert_array_equal(ba.targets, ab.inputs)


def test_from_mnist_files(tmp_path, monkeypatch, cache):
    images, labels, checksums = fake_idx_split(tmp_path / "mnist", "train", 6)
    use_checksums(monkeypatch, "mnist", checksums)
    pairs = load_paired("masked2mnist", data_dir=str(tmp_path))
    np.testing.assert_array_equal(pairs.targets[:, 0], images / np.float32(127.5) - 1)
    np.testing.assert_array_equal(pairs.labels, labels)
    assert pairs.inputs.shape == (6, 1, 5, 4)


def _write_pairs(folder, n, size=(6, 8), suffix=".png", seed=0):
    """n side-by-side RGB files (A left, B right) in ``folder``; returns their pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (n, size[0], 2 * size[1], 3), np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(folder / f"{i:03d}{suffix}")
    return pixels


def _signed(pixels):
    return (pixels.transpose(0, 3, 1, 2) / np.float32(255)) * 2 - 1


def test_a_pix2pix_folder_reads_both_halves_in_either_direction(tmp_path):
    train = _write_pairs(tmp_path / "facades" / "train", 4)
    val = _write_pairs(tmp_path / "facades" / "val", 2, seed=1)
    pairs = load_paired(f"paired:{tmp_path / 'facades'}")
    assert pairs.inputs.shape == pairs.targets.shape == (4, 3, 6, 8) and pairs.labels is None
    np.testing.assert_allclose(pairs.inputs, _signed(train[:, :, :8]), atol=1e-6)
    np.testing.assert_allclose(pairs.targets, _signed(train[:, :, 8:]), atol=1e-6)
    held_out = load_paired(f"paired:{tmp_path / 'facades'}", split="test", direction="BtoA")
    np.testing.assert_allclose(held_out.inputs, _signed(val[:, :, 8:]), atol=1e-6)
    assert held_out.arrays()[0] is held_out.inputs and len(held_out.arrays()) == 2
    subset = load_paired(f"paired:{tmp_path / 'facades'}", n=2, seed=5)
    assert len(subset) == 2
    assert any(np.allclose(subset.inputs[0], row) for row in pairs.inputs)


def test_jpeg_pairs_are_read(tmp_path):
    _write_pairs(tmp_path / "shoes" / "train", 2, suffix=".jpg")
    pairs = load_paired(f"paired:{tmp_path / 'shoes'}")
    assert pairs.inputs.shape == (2, 3, 6, 8)
    assert pairs.inputs.min() >= -1 and pairs.inputs.max() <= 1


def test_bad_folders_and_files_are_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="nowhere: no such folder"):
        load_paired(f"paired:{tmp_path / 'nowhere'}")
    with pytest.raises(DatasetNotFoundError, match="no train/ folder; a paired data set holds"):
        load_paired(f"paired:{tmp_path}")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(DataFileError, match="a_file: is a file, not a folder"):
        load_paired(f"paired:{tmp_path / 'a_file'}")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(DataFileError, match="train: no .png or .jpg files"):
        load_paired(f"paired:{tmp_path / 'empty'}")
    odd = tmp_path / "odd" / "train"
    odd.mkdir(parents=True)
    Image.fromarray(np.zeros((4, 5), np.uint8)).save(odd / "a.png")
    with pytest.raises(DataFileError, match="a.png: width 5 is odd"):
        load_paired(f"paired:{tmp_path / 'odd'}")
    _write_pairs(tmp_path / "mixed" / "train", 1)
    _write_pairs(tmp_path / "mixed" / "train", 1, size=(4, 4), suffix=".jpg")
    with pytest.raises(DataFileError, match="differs from"):
        load_paired(f"paired:{tmp_path / 'mixed'}")


def test_bad_names_directions_and_sizes():
    with pytest.raises(ValueError, match="unknown paired dataset 'edges2cats'; known: "
                                         "edges2digits, edges2mnist"):
        load_paired("edges2cats")
    with pytest.raises(ValueError, match="unknown direction 'AB'"):
        load_paired("edges2digits", direction="AB")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        load_paired("edges2digits", split="val")
    with pytest.raises(ValueError, match="n must be at least 1"):
        load_paired("edges2digits", n=0)


def test_held_out_pairs_are_val_and_never_the_training_pairs(tmp_path, cache):
    assert has_held_out("edges2digits")
    assert len(load_held_out("edges2digits", 5, seed=1)) == 5
    _write_pairs(tmp_path / "set" / "train", 3)
    val = _write_pairs(tmp_path / "set" / "val", 2, seed=1)
    name = f"paired:{tmp_path / 'set'}"
    assert has_held_out(name)
    held_out = load_held_out(name, 10)            # all of val/ when it holds fewer
    np.testing.assert_allclose(held_out.inputs, _signed(val[:, :, :8]), atol=1e-6)
    assert len(load_held_out(name, 1, seed=2)) == 1
    with pytest.raises(ValueError, match="unknown paired dataset 'ring8'"):
        has_held_out("ring8")


def test_a_folder_without_val_says_it_has_no_held_out_pairs(tmp_path):
    _write_pairs(tmp_path / "set" / "train", 3)
    name = f"paired:{tmp_path / 'set'}"
    assert len(load_paired(name)) == 3 and not has_held_out(name)
    says = re.escape(f"{tmp_path / 'set'}: has no val/ folder: no held-out pairs to score or "
                     f"show; put pairs kept out of training in {tmp_path / 'set' / 'val'}") + "$"
    with pytest.raises(DatasetNotFoundError, match=says):
        load_held_out(name, 4)
    with pytest.raises(DatasetNotFoundError, match=says):
        load_paired(name, split="test")


@pytest.mark.parametrize("split", ["train", "test"])
def test_val_of_another_size_than_train_is_refused_when_either_loads(tmp_path, split):
    _write_pairs(tmp_path / "set" / "train", 2, size=(6, 8))
    _write_pairs(tmp_path / "set" / "val", 1, size=(4, 4))
    says = (f"{tmp_path / 'set' / 'val'}: images of shape (C, H, W) = (3, 4, 8), but "
            f"{tmp_path / 'set' / 'train'}'s are (3, 6, 16); val/ must share train/'s size and "
            "channel count")
    with pytest.raises(DataFileError, match=re.escape(says)):
        load_paired(f"paired:{tmp_path / 'set'}", split=split)


def test_grey_val_for_rgb_train_is_refused(tmp_path):
    _write_pairs(tmp_path / "set" / "train", 1)
    (tmp_path / "set" / "val").mkdir()
    Image.fromarray(np.zeros((6, 16), np.uint8)).save(tmp_path / "set" / "val" / "0.png")
    with pytest.raises(DataFileError, match=r"\(1, 6, 16\), but .*train's are \(3, 6, 16\)"):
        load_paired(f"paired:{tmp_path / 'set'}")
