"""A dataset file compressed again (a Linux distribution's package of Fashion-MNIST) is
accepted when its decompressed content has the recorded digests; real damage is still
rejected, named with both checks (issue 12 item 14). Fashion-MNIST's content digests are
those of Debian's package, which is checked itself where it is installed (issue 26 item 6)."""
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from scratchgan.data import published
from scratchgan.data.errors import ChecksumError
from scratchgan.data.sources import PublishedFiles, find_files

CONTENT = bytes(range(256)) * 40
PUBLISHED = gzip.compress(CONTENT, compresslevel=9, mtime=0)
SOURCE = PublishedFiles(
    name="toy", split_files={"train": ("toy.gz",)}, mirrors=(),
    checksums={"toy.gz": {"md5": hashlib.md5(PUBLISHED).hexdigest()}},
    content_checksums={"toy.gz": {"sha256": hashlib.sha256(CONTENT).hexdigest()}})


def offline(urls, destination):
    raise AssertionError("no download expected")


def test_the_published_file_and_a_recompressed_one_are_accepted(tmp_path):
    (tmp_path / "toy.gz").write_bytes(PUBLISHED)
    assert find_files(SOURCE, "train", tmp_path, offline) == [tmp_path / "toy.gz"]
    again = gzip.compress(CONTENT, compresslevel=1, mtime=1234567)
    assert again != PUBLISHED
    (tmp_path / "toy.gz").write_bytes(again)
    assert find_files(SOURCE, "train", tmp_path, offline) == [tmp_path / "toy.gz"]


@pytest.mark.parametrize("damage, says", [
    (lambda: gzip.compress(CONTENT[:-1] + b"\x00", mtime=1), "its decompressed content: SHA256 is"),
    (lambda: PUBLISHED[:-20], "its decompressed content: not a whole gzip stream"),
    (lambda: CONTENT, "its decompressed content: not a whole gzip stream")])
def test_real_damage_is_still_rejected(tmp_path, damage, says):
    (tmp_path / "toy.gz").write_bytes(damage())
    with pytest.raises(ChecksumError, match=f"dataset 'toy': .*MD5 is .*{says}"):
        find_files(SOURCE, "train", tmp_path, offline)


#: the SHA-256 of each decompressed IDX file of Fashion-MNIST, as Debian's dataset-fashion-mnist
#: package ships them (compressed again: their .gz MD5s differ from the published ones)
FASHION_CONTENT = {
    "train-images-idx3-ubyte.gz":
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz":
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz":
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz":
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DEBIAN_FASHION = Path("/usr/share/datasets")      # where dataset-fashion-mnist installs


def test_fashion_mnist_records_the_content_digests_of_debians_package():
    assert published.FASHION_MNIST.content_checksums == {
        name: {"sha256": digest} for name, digest in FASHION_CONTENT.items()}


def test_a_recompressed_fashion_mnist_file_is_checked_against_its_content(tmp_path):
    """Another content, compressed again, is refused by both its MD5 and its content's SHA-256."""
    name = published.FASHION_MNIST.split_files["test"][1]
    (tmp_path / name).write_bytes(gzip.compress(CONTENT, mtime=1))
    wrong = hashlib.sha256(CONTENT).hexdigest()
    with pytest.raises(ChecksumError, match=f"its decompressed content: SHA256 is {wrong}, "
                                            f"expected {FASHION_CONTENT[name]}"):
        find_files(published.FASHION_MNIST, "test", tmp_path, offline)


@pytest.mark.skipif(not (DEBIAN_FASHION / "fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("split, n", [("train", 60_000), ("test", 10_000)])
def test_debians_fashion_mnist_is_accepted(split, n):
    images, labels = published.load_published("fashion-mnist", split, DEBIAN_FASHION, offline)
    assert images.shape == (n, 1, 28, 28)
    assert np.bincount(labels).tolist() == [n // 10] * 10
