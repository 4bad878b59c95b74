"""A dataset file compressed again (a Linux distribution's package of Fashion-MNIST) is
accepted when its decompressed content has the recorded digests; real damage is still
rejected, named with both checks (issue 12 item 14)."""
import gzip
import hashlib

import pytest

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
