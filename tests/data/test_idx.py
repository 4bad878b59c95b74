"""IDX files (MNIST, Fashion-MNIST): good files read exactly; every malformed one is named."""
import numpy as np
import pytest

from scratchgan.data import DataFileError
from scratchgan.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx_images, read_idx_labels
from scratchgan.data.published import read_idx_split
from tests.data.fake_files import idx_bytes, write_gz


def test_images_and_labels_read_back_exactly(tmp_path):
    images = np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4)
    labels = np.array([7, 0, 9], np.uint8)
    image_path = write_gz(tmp_path / "i.gz", idx_bytes(images))
    label_path = write_gz(tmp_path / "l.gz", idx_bytes(labels))
    assert IMAGES_MAGIC == 0x803 and LABELS_MAGIC == 0x801
    np.testing.assert_array_equal(read_idx_images(image_path), images)
    got = read_idx_labels(label_path)
    assert got.dtype == np.int64 and got.tolist() == [7, 0, 9]
    split_images, split_labels = read_idx_split([image_path, label_path], "train")
    assert split_images.shape == (3, 1, 5, 4) and split_labels.tolist() == [7, 0, 9]


def test_a_truncated_payload_is_an_error_naming_the_file(tmp_path):
    raw = idx_bytes(np.zeros((4, 5, 4), np.uint8))
    path = write_gz(tmp_path / "train-images-idx3-ubyte.gz", raw[:-7])
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte\.gz: sizes \(4, 5, 4\) "
                                            r"promise 80 bytes of data, the file holds 73 \(truncated\)"):
        read_idx_images(path)


def test_extra_bytes_are_an_error_too(tmp_path):
    path = write_gz(tmp_path / "l.gz", idx_bytes(np.zeros(3, np.uint8)) + b"\0")
    with pytest.raises(DataFileError, match="holds 4 .extra bytes"):
        read_idx_labels(path)


def test_a_cut_gzip_stream_is_an_error_naming_the_file(tmp_path):
    path = write_gz(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(np.ones((2, 5, 4), np.uint8)))
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(DataFileError, match=r"t10k-images-idx3-ubyte\.gz: not a complete gzip file"):
        read_idx_images(path)


def test_a_file_that_is_not_gzip_is_named(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"plain bytes, not gzip")
    with pytest.raises(DataFileError, match=r"x\.gz: not a complete gzip file"):
        read_idx_labels(path)


def test_wrong_magic_number(tmp_path):
    labels = write_gz(tmp_path / "labels.gz", idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DataFileError, match=r"labels\.gz: magic number 2049 \(0x00000801\), "
                                            r"expected 2051 \(0x00000803\)"):
        read_idx_images(labels)
    int32_images = write_gz(tmp_path / "int32.gz", idx_bytes(np.zeros((1, 2, 2), np.uint8),
                                                             magic=0x0C03))
    with pytest.raises(DataFileError, match="magic number 3075"):
        read_idx_images(int32_images)


def test_a_header_cut_short(tmp_path):
    path = write_gz(tmp_path / "short.gz", (2051).to_bytes(4, "big") + b"\0\0")
    with pytest.raises(DataFileError, match="6 bytes is too short for an IDX header of 16 bytes"):
        read_idx_images(path)


def test_zero_images(tmp_path):
    path = write_gz(tmp_path / "empty.gz", idx_bytes(np.zeros((0, 28, 28), np.uint8)))
    with pytest.raises(DataFileError, match="no images"):
        read_idx_images(path)


def test_a_pair_must_agree_in_count_and_hold_digit_labels(tmp_path):
    images = write_gz(tmp_path / "i.gz", idx_bytes(np.zeros((3, 2, 2), np.uint8)))
    two = write_gz(tmp_path / "two.gz", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(DataFileError, match=r"i\.gz holds 3 images but .*two\.gz 2 labels"):
        read_idx_split([images, two], "train")
    eleven = write_gz(tmp_path / "eleven.gz", idx_bytes(np.array([0, 11, 2], np.uint8)))
    with pytest.raises(DataFileError, match=r"eleven\.gz: label 11 is outside 0..9"):
        read_idx_split([images, eleven], "train")

