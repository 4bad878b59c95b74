"""MNIST, Fashion-MNIST and CIFAR-10: where they are published, their checksums,
and how a split is read from their files.

Checksums: the MD5s are the published ones (MNIST's as torchvision lists them,
Fashion-MNIST's in Zalando's README, CIFAR-10's on its page at cs.toronto.edu).
MNIST's SHA-256s were computed from files whose MD5s match the published ones, and so
were the SHA-256s of their decompressed content (which vouch for the same data compressed
again, as a distribution's package ships it). Fashion-MNIST's content SHA-256s are those
of the decompressed IDX files of Debian's ``dataset-fashion-mnist`` package, which ships
them compressed again, so that its files are accepted.
Fashion-MNIST's mirror serves plain HTTP; only the checksum vouches for its bytes.

Files are found or downloaded by :mod:`scratchgan.data.sources`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from scratchgan.data.cifar import read_cifar10
from scratchgan.data.download import Fetch
from scratchgan.data.errors import DataFileError
from scratchgan.data.idx import read_idx_images, read_idx_labels
from scratchgan.data.sources import PublishedFiles, find_files

NUM_CLASSES = 10

_IDX_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
              "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

MNIST = PublishedFiles(
    name="mnist",
    split_files=_IDX_FILES,
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    checksums={
        "train-images-idx3-ubyte.gz": {
            "md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "sha256": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
        "train-labels-idx1-ubyte.gz": {
            "md5": "d53e105ee54ea40749a09fcbcd1e9432",
            "sha256": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
        "t10k-images-idx3-ubyte.gz": {
            "md5": "9fb629c4189551a2d022fa330f9573f3",
            "sha256": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
        "t10k-labels-idx1-ubyte.gz": {
            "md5": "ec29112dd5afa0611ce80d1b7f02629c",
            "sha256": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    },
    content_checksums={   # of the decompressed IDX files, from the published .gz files above
        "train-images-idx3-ubyte.gz": {
            "sha256": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
        "train-labels-idx1-ubyte.gz": {
            "sha256": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
        "t10k-images-idx3-ubyte.gz": {
            "sha256": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
        "t10k-labels-idx1-ubyte.gz": {
            "sha256": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
    })

FASHION_MNIST = PublishedFiles(
    name="fashion-mnist",
    split_files=_IDX_FILES,
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    checksums={
        "train-images-idx3-ubyte.gz": {"md5": "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
        "train-labels-idx1-ubyte.gz": {"md5": "25c81989df183df01b3e8a0aad5dffbe"},
        "t10k-images-idx3-ubyte.gz": {"md5": "bef4ecab320f06d8554ea6380940ec79"},
        "t10k-labels-idx1-ubyte.gz": {"md5": "bb300cfdad3c16e7a12a480ee83cd310"},
    },
    content_checksums={   # of the decompressed IDX files (sizes in bytes), as Debian ships them
        "train-images-idx3-ubyte.gz": {   # 47040016
            "sha256": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
        "train-labels-idx1-ubyte.gz": {   # 60008
            "sha256": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
        "t10k-images-idx3-ubyte.gz": {    # 7840016
            "sha256": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
        "t10k-labels-idx1-ubyte.gz": {    # 10008
            "sha256": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
    })

CIFAR10 = PublishedFiles(
    name="cifar10",
    split_files={"train": ("cifar-10-binary.tar.gz",), "test": ("cifar-10-binary.tar.gz",)},
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    checksums={"cifar-10-binary.tar.gz": {"md5": "c32a1d4ab5d03f1284b67883e8d87530"}})


def read_idx_split(paths: list[Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, H, W) uint8 and labels (N,) int64 from an (images, labels) IDX pair."""
    images_path, labels_path = paths
    images, labels = read_idx_images(images_path), read_idx_labels(labels_path)
    if len(images) != len(labels):
        raise DataFileError(f"{images_path} holds {len(images)} images but {labels_path} "
                            f"{len(labels)} labels")
    if labels.max() >= NUM_CLASSES:
        raise DataFileError(f"{labels_path}: label {labels.max()} is outside 0..{NUM_CLASSES - 1}")
    return images[:, None], labels


def read_cifar10_split(paths: list[Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of ``split`` from the archive."""
    (archive,) = paths
    return read_cifar10(archive, split)


Reader = Callable[[list[Path], str], "tuple[np.ndarray, np.ndarray]"]

# dataset name -> (where its files come from, how a split is read from them)
PUBLISHED: dict[str, tuple[PublishedFiles, Reader]] = {
    "mnist": (MNIST, read_idx_split),
    "fashion-mnist": (FASHION_MNIST, read_idx_split),
    "cifar10": (CIFAR10, read_cifar10_split),
}


def load_published(name: str, split: str, data_dir: str | os.PathLike | None = None,
                   fetch: Fetch | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, C, H, W) uint8 and labels (N,) int64 of ``split`` of the published
    dataset ``name`` ("mnist", "fashion-mnist" or "cifar10"), its files found or
    downloaded (with ``fetch``) as :func:`scratchgan.data.sources.find_files` does."""
    source, read = PUBLISHED[name]
    return read(find_files(source, split, data_dir, fetch), split)
