"""CIFAR-10 binary archives: records, planes and splits read exactly; malformed archives named."""
import hashlib

import numpy as np
import pytest

import scratchgan as sg
from scratchgan.data import DataFileError, cifar, load_dataset
from scratchgan.gan.models import build_models
from tests.data.fake_files import cifar_batch, fake_cifar_archive, use_checksums, write_tar_gz

PER_BATCH = 3


@pytest.fixture
def small_batches(monkeypatch):
    """Batch files of PER_BATCH records instead of 10000."""
    monkeypatch.setattr(cifar, "RECORDS_PER_BATCH", PER_BATCH)


def test_train_and_test_splits_read_back_exactly(tmp_path, small_batches):
    archive = tmp_path / cifar.ARCHIVE
    written = fake_cifar_archive(archive, PER_BATCH)
    for split, count in (("train", 5 * PER_BATCH), ("test", PER_BATCH)):
        images, labels = cifar.read_cifar10(archive, split)
        assert images.shape == (count, 3, 32, 32) and images.dtype == np.uint8
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(images, written[split][0])
        np.testing.assert_array_equal(labels, written[split][1])


def test_the_three_planes_are_red_green_blue_rows_first(tmp_path, small_batches):
    image = np.zeros((1, 3, 32, 32), np.uint8)
    image[0, 0, 0, 1] = 10    # red, row 0, column 1: byte 1 of the planes
    image[0, 2, 1, 0] = 20    # blue, row 1, column 0: byte 2048 + 32
    raw = cifar_batch(np.repeat(image, PER_BATCH, 0), np.full(PER_BATCH, 4))
    assert raw[1 + 1] == 10 and raw[1 + 2048 + 32] == 20
    archive = write_tar_gz(tmp_path / "c.tar.gz", {"cifar-10-batches-bin/test_batch.bin": raw})
    images, labels = cifar.read_cifar10(archive, "test")
    assert images[0, 0, 0, 1] == 10 and images[0, 2, 1, 0] == 20 and labels.tolist() == [4] * 3


def test_a_batch_of_the_wrong_size_is_named(tmp_path, small_batches):
    raw = cifar_batch(np.zeros((PER_BATCH, 3, 32, 32), np.uint8), np.zeros(PER_BATCH))
    archive = write_tar_gz(tmp_path / "c.tar.gz", {"cifar-10-batches-bin/test_batch.bin": raw[:-1]})
    with pytest.raises(DataFileError, match=r"c\.tar\.gz: cifar-10-batches-bin/test_batch\.bin "
                                            r"holds 9218 bytes, expected 9219"):
        cifar.read_cifar10(archive, "test")


def test_missing_members_are_named(tmp_path, small_batches):
    archive = write_tar_gz(tmp_path / "c.tar.gz", {"cifar-10-batches-py/data_batch_1": b"pickle"})
    with pytest.raises(DataFileError, match=r"lacks cifar-10-batches-bin/data_batch_1\.bin, .*"
                                            r"data_batch_5\.bin; is it the CIFAR-10 binary version"):
        cifar.read_cifar10(archive, "train")


def test_labels_above_nine_are_refused(tmp_path, small_batches):
    raw = cifar_batch(np.zeros((PER_BATCH, 3, 32, 32), np.uint8), np.array([1, 10, 2]))
    archive = write_tar_gz(tmp_path / "c.tar.gz", {"cifar-10-batches-bin/test_batch.bin": raw})
    with pytest.raises(DataFileError, match="test_batch.bin has label 10, outside 0..9"):
        cifar.read_cifar10(archive, "test")


def test_a_damaged_archive_is_named(tmp_path, small_batches):
    archive = tmp_path / cifar.ARCHIVE
    fake_cifar_archive(archive, PER_BATCH)
    archive.write_bytes(archive.read_bytes()[:2000])
    with pytest.raises(DataFileError, match=r"cifar-10-binary\.tar\.gz: not a readable tar\.gz"):
        cifar.read_cifar10(archive, "train")


def test_cifar10_by_name_feeds_the_32x32_rgb_dcgan(tmp_path, monkeypatch, data_env, small_batches):
    archive = tmp_path / "data" / "cifar10" / cifar.ARCHIVE
    written = fake_cifar_archive(archive, PER_BATCH)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    use_checksums(monkeypatch, "cifar10", {cifar.ARCHIVE: {"md5": md5}})
    ds = load_dataset("cifar10", "test", data_dir=str(tmp_path / "data"))
    assert ds.data.shape == (PER_BATCH, 3, 32, 32) and ds.data.dtype == np.float32
    np.testing.assert_allclose(ds.data, written["test"][0] / 127.5 - 1, atol=1e-6)
    assert (ds.num_classes, ds.kind, ds.name) == (10, "image", "cifar10")
    G, D = build_models("dcgan", ds.data.shape[1:], ds.num_classes)
    assert D.image_shape == (3, 32, 32)
    with sg.no_grad():
        fake = G(sg.Tensor(np.zeros((2, G.nz), np.float32)), np.array([0, 1]))
    assert fake.shape == (2, 3, 32, 32)
