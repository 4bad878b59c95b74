"""Where published files come from: the lookup order, checksums, downloads, and the
messages when they fail. Nothing here reaches the network: fetches are stand-ins."""
import urllib.error

import numpy as np
import pytest

from scratchgan.data import (DATA_ENV_VAR, ChecksumError, DatasetNotFoundError, download,
                             load_dataset, published, search_folders)
from scratchgan.data.checksums import verify_file
from scratchgan.data.sources import PublishedFiles, find_files
from tests.data.fake_files import digests, fake_idx_split, use_checksums

TRAIN_FILES = published.MNIST.split_files["train"]
MIRRORS = ("https://one.example/mnist/", "https://two.example/mnist/")


def source(checksums):
    """MNIST's files with the given checksums, at two made-up mirrors."""
    return PublishedFiles("mnist", published.MNIST.split_files, MIRRORS, checksums)


def offline(url, file):
    raise urllib.error.URLError("no network in this test")


def test_search_order_is_data_dir_then_env_then_cache(tmp_path, monkeypatch, data_env):
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "env"))
    assert search_folders("mnist", tmp_path / "dir") == [
        tmp_path / "dir" / "mnist", tmp_path / "dir",
        tmp_path / "env" / "mnist", tmp_path / "env",
        data_env / "mnist"]
    monkeypatch.delenv(DATA_ENV_VAR)
    assert search_folders("cifar10") == [data_env / "cifar10"]


def test_data_dir_beats_env_beats_cache(tmp_path, monkeypatch, data_env):
    _, _, checksums = fake_idx_split(tmp_path / "dir", "train", 4)
    fake_idx_split(tmp_path / "env" / "mnist", "train", 4)
    fake_idx_split(data_env / "mnist", "train", 4)
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "env"))

    def where(data_dir):
        return {path.parent for path in find_files(source(checksums), "train", data_dir,
                                                   fetch=offline)}

    assert where(tmp_path / "dir") == {tmp_path / "dir"}
    assert where(None) == {tmp_path / "env" / "mnist"}
    monkeypatch.delenv(DATA_ENV_VAR)
    assert where(None) == {data_env / "mnist"}


def test_files_may_sit_in_the_given_folder_or_its_dataset_subfolder(tmp_path, data_env):
    _, _, checksums = fake_idx_split(tmp_path / "data" / "mnist", "train", 4)
    for data_dir in (tmp_path / "data", tmp_path / "data" / "mnist"):
        paths = find_files(source(checksums), "train", data_dir, fetch=offline)
        assert paths == [tmp_path / "data" / "mnist" / name for name in TRAIN_FILES]


def test_a_tampered_local_file_is_named_with_both_digests(tmp_path, data_env):
    _, _, checksums = fake_idx_split(tmp_path, "train", 4)
    labels = tmp_path / TRAIN_FILES[1]
    labels.write_bytes(labels.read_bytes()[:-3])
    actual = digests(labels.read_bytes())
    with pytest.raises(ChecksumError) as error:
        find_files(source(checksums), "train", tmp_path, fetch=offline)
    message = str(error.value)
    assert f"dataset 'mnist': {labels} does not match the published file" in message
    assert f"MD5 is {actual['md5']}, expected {checksums[TRAIN_FILES[1]]['md5']}" in message
    assert f"SHA256 is {actual['sha256']}" in message


def test_missing_files_offline_say_where_they_were_looked_for_and_where_to_put_them(
        tmp_path, monkeypatch, data_env):
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "env"))
    _, _, checksums = fake_idx_split(tmp_path / "elsewhere", "train", 4)
    with pytest.raises(DatasetNotFoundError) as error:
        find_files(source(checksums), "train", tmp_path / "dir", fetch=offline)
    assert isinstance(error.value, FileNotFoundError) and isinstance(error.value, ValueError)
    message = str(error.value)
    assert f"dataset 'mnist': cannot find {TRAIN_FILES[0]}, {TRAIN_FILES[1]}." in message
    for folder in (tmp_path / "dir" / "mnist", tmp_path / "dir", tmp_path / "env" / "mnist",
                   tmp_path / "env", data_env / "mnist"):
        assert f"\n  {folder}\n" in message
    for mirror in MIRRORS:
        assert f"{mirror}{TRAIN_FILES[0]}: <urlopen error no network in this test>" in message
    assert f"Put the files in {data_env / 'mnist'}, or in a folder given by --data-dir" in message
    assert not list((data_env / "mnist").iterdir())


def test_a_download_is_verified_then_moved_into_the_cache(tmp_path, data_env):
    _, _, checksums = fake_idx_split(tmp_path / "origin", "train", 4)
    fetched = []

    def fetch(url, file):
        fetched.append(url)
        file.write((tmp_path / "origin" / url.rsplit("/", 1)[1]).read_bytes())

    paths = find_files(source(checksums), "train", fetch=fetch)
    assert paths == [data_env / "mnist" / name for name in TRAIN_FILES]
    assert fetched == [MIRRORS[0] + name for name in TRAIN_FILES]
    assert sorted(p.name for p in (data_env / "mnist").iterdir()) == sorted(TRAIN_FILES)
    assert find_files(source(checksums), "train", fetch=offline) == paths   # found, not fetched


def test_bad_bytes_are_rejected_and_leave_nothing_behind(tmp_path, data_env):
    _, _, checksums = fake_idx_split(tmp_path / "origin", "train", 4)

    def tampered(url, file):
        file.write(b"<html>mirror error page</html>")

    with pytest.raises(DatasetNotFoundError) as error:
        find_files(source(checksums), "train", fetch=tampered)
    message = str(error.value)
    wrong_md5 = digests(b"<html>mirror error page</html>")["md5"]
    assert (f"{MIRRORS[1]}{TRAIN_FILES[0]}: the download from {MIRRORS[1]}{TRAIN_FILES[0]} does "
            f"not match the published file (30 bytes; MD5 is {wrong_md5}, expected "
            f"{checksums[TRAIN_FILES[0]]['md5']}") in message
    assert list((data_env / "mnist").iterdir()) == []


def test_a_bad_mirror_falls_through_to_the_next(tmp_path, data_env):
    _, _, checksums = fake_idx_split(tmp_path / "origin", "train", 4)

    def second_mirror_only(url, file):
        if url.startswith(MIRRORS[0]):
            file.write(b"truncated")
            return
        file.write((tmp_path / "origin" / url.rsplit("/", 1)[1]).read_bytes())

    paths = find_files(source(checksums), "train", fetch=second_mirror_only)
    assert all(p.is_file() for p in paths)
    assert sorted(p.name for p in (data_env / "mnist").iterdir()) == sorted(TRAIN_FILES)


def test_a_fetch_interrupted_midway_leaves_no_temporary_file(tmp_path, data_env):
    def interrupted(url, file):
        file.write(b"partial")
        raise KeyboardInterrupt

    destination = data_env / "mnist" / TRAIN_FILES[0]
    with pytest.raises(KeyboardInterrupt):
        download.download_verified([MIRRORS[0]], destination, {"md5": "0" * 32}, interrupted)
    assert list(destination.parent.iterdir()) == []


def test_fetch_url_copies_the_bytes_of_a_url(tmp_path):
    origin = tmp_path / "origin.bin"
    origin.write_bytes(bytes(range(256)) * 1000)
    with open(tmp_path / "copy.bin", "wb") as file:
        download.fetch_url(origin.as_uri(), file)
    assert (tmp_path / "copy.bin").read_bytes() == origin.read_bytes()


def test_mnist_by_name_is_scaled_labelled_and_subsampled(tmp_path, monkeypatch, data_env):
    train_images, train_labels, checksums = fake_idx_split(tmp_path / "data" / "mnist", "train", 30)
    test_images, _, test_checksums = fake_idx_split(tmp_path / "data" / "mnist", "test", 7, seed=1)
    use_checksums(monkeypatch, "mnist", {**checksums, **test_checksums})
    ds = load_dataset("mnist", data_dir=str(tmp_path / "data"))
    assert ds.data.shape == (30, 1, 5, 4) and ds.data.dtype == np.float32
    assert (ds.data[0, 0, 0, 0], ds.data[0, 0, 0, 1]) == (-1.0, 1.0)
    np.testing.assert_allclose(ds.data[:, 0], train_images / 127.5 - 1, atol=1e-6)
    assert ds.labels.dtype == np.int64 and ds.labels.tolist() == train_labels.tolist()
    assert (ds.num_classes, ds.kind, ds.name) == (10, "image", "mnist")
    test = load_dataset("mnist", "test", data_dir=str(tmp_path / "data" / "mnist"))
    np.testing.assert_allclose(test.data[:, 0], test_images / 127.5 - 1, atol=1e-6)
    subset = load_dataset("mnist", n=10, seed=3, data_dir=str(tmp_path / "data"))
    again = load_dataset("mnist", n=10, seed=3, data_dir=str(tmp_path / "data"))
    assert len(subset) == 10 and np.array_equal(subset.data, again.data)
    assert not np.array_equal(subset.data, load_dataset("mnist", n=10, seed=4,
                                                        data_dir=str(tmp_path / "data")).data)
    with pytest.raises(ValueError, match=r"dataset 'mnist' \(train\) has 30 images, fewer than n=31"):
        load_dataset("mnist", n=31, data_dir=str(tmp_path / "data"))


def test_load_dataset_downloads_through_the_default_fetch(tmp_path, monkeypatch, data_env):
    _, _, checksums = fake_idx_split(tmp_path / "origin", "test", 5)
    use_checksums(monkeypatch, "fashion-mnist", checksums)
    monkeypatch.setattr(download, "fetch_url", lambda url, file: file.write(
        (tmp_path / "origin" / url.rsplit("/", 1)[1]).read_bytes()))
    ds = load_dataset("fashion-mnist", "test")
    assert ds.data.shape == (5, 1, 5, 4) and ds.name == "fashion-mnist"
    assert (data_env / "fashion-mnist" / published.FASHION_MNIST.split_files["test"][0]).is_file()


def test_mnist_files_are_not_taken_for_fashion_mnist(tmp_path, data_env):
    """The real tables: a file of the wrong dataset fails its checksum, named."""
    fake_idx_split(tmp_path, "test", 3)
    with pytest.raises(ChecksumError, match=r"dataset 'fashion-mnist': .*t10k-images-idx3-ubyte"
                                            r"\.gz does not match the published file .*expected "
                                            r"bef4ecab320f06d8554ea6380940ec79"):
        load_dataset("fashion-mnist", "test", data_dir=str(tmp_path))


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10"])
def test_every_published_file_has_a_checksum_and_mirrors(name):
    files, _ = published.PUBLISHED[name]
    assert files.name == name and files.mirrors and all(m.endswith("/") for m in files.mirrors)
    for split in ("train", "test"):
        for filename in files.split_files[split]:
            assert len(files.checksums[filename]["md5"]) == 32


def test_a_file_without_a_published_checksum_is_never_used_unverified(tmp_path):
    (tmp_path / "f.gz").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"no published checksum for f\.gz"):
        verify_file(tmp_path / "f.gz", {})
