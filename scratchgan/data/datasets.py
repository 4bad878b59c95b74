"""Datasets by name: ``load_dataset(name, split, seed, n, data_dir)`` returns a :class:`Dataset`.

The names:

- ``digits``, ``ring8``, ``grid25``: made on the spot, no files needed;
- ``mnist``, ``fashion-mnist``, ``cifar10``: the published files, found in
  ``data_dir``, ``$SCRATCHGAN_DATA`` or the cache, else downloaded
  (:mod:`scratchgan.data.sources`); ``n`` draws a random subset with ``seed``;
- ``npz:PATH`` (images in an .npz file) and ``folder:PATH`` (a folder of PNGs,
  optionally in class subfolders), see :mod:`scratchgan.data.image_files`. A
  file or folder holds one set of images: both splits give all of it, and
  ``n`` draws a random subset.

A new dataset is one function registered with :func:`register_dataset`; it takes
(split, seed, n), where ``n`` may be None for the dataset's own default size,
and, when registered with ``takes_data_dir=True``, the keyword ``data_dir``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from scratchgan.data.digits import load_digits
from scratchgan.data.image_files import ImageSet, load_npz_images, load_png_folder
from scratchgan.data.images import uint8_to_signed
from scratchgan.data.mixtures import (GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD,
                                      sample_mixture)
from scratchgan.data.published import NUM_CLASSES, load_published
from scratchgan.data.splits import SPLITS, split_rng

POINTS_DEFAULT_SIZE = 100_000


@dataclass
class Dataset:
    """A dataset held in memory.

    data:        float32; images (N, C, H, W) scaled to [-1, 1], or points (N, D)
    labels:      int64 (N,) (the class: the digit, say; for a mixture, the mode), or None
    num_classes: how many distinct labels there can be
    kind:        "image" or "points"
    name:        the name it was loaded by
    centres:     for a mixture, its modes' centres (K, D), else None
    """
    data: np.ndarray
    labels: np.ndarray | None
    num_classes: int
    kind: str
    name: str
    centres: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.data)


DatasetFactory = Callable[..., Dataset]
DATASETS: dict[str, DatasetFactory] = {}
_TAKES_DATA_DIR: set[str] = set()

# prefix -> reader of the path after it: "npz:PATH", "folder:PATH"
FILE_SCHEMES: dict[str, Callable[[str], ImageSet]] = {"npz": load_npz_images,
                                                      "folder": load_png_folder}


def register_dataset(name: str, *, takes_data_dir: bool = False
                     ) -> Callable[[DatasetFactory], DatasetFactory]:
    """Decorator: make ``loader(split, seed, n) -> Dataset`` loadable as ``name``;
    with ``takes_data_dir``, it is called with the keyword ``data_dir`` too."""
    def register(loader: DatasetFactory) -> DatasetFactory:
        if name in DATASETS:
            raise ValueError(f"dataset {name!r} is already registered")
        DATASETS[name] = loader
        if takes_data_dir:
            _TAKES_DATA_DIR.add(name)
        return loader
    return register


def load_dataset(name: str, split: str = "train", seed: int = 0, n: int | None = None,
                 data_dir: str | None = None) -> Dataset:
    """The dataset called ``name`` (a name of ``DATASETS``, or ``npz:PATH`` or
    ``folder:PATH``): its ``split`` ("train" or "test"), drawn with ``seed``, ``n``
    samples (None: its default). ``data_dir`` is a folder holding the files of
    the published datasets (see :mod:`scratchgan.data.sources`)."""
    scheme, colon, path = name.partition(":")
    reads_path = name not in DATASETS and bool(colon) and scheme in FILE_SCHEMES
    if name not in DATASETS and not reads_path:
        raise ValueError(_unknown_dataset_message(name))
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    if n is not None and n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if reads_path:
        if not path:
            raise ValueError(f"dataset {name!r}: give a path after '{scheme}:'")
        images, labels, num_classes = FILE_SCHEMES[scheme](path)
        images, labels = random_subset(name, split, seed, n, images, labels)
        return Dataset(images, labels, num_classes, "image", name)
    if name in _TAKES_DATA_DIR:
        return DATASETS[name](split, seed, n, data_dir=data_dir)
    return DATASETS[name](split, seed, n)


def _unknown_dataset_message(name: str) -> str:
    message = (f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}, "
               "or npz:FILE.npz (images in an .npz file) or folder:DIR (a folder of PNGs)")
    path = Path(name).expanduser()
    if path.is_dir():
        message += (f"; for a folder of PNGs, name it folder:{name}; for the files of mnist, "
                    "fashion-mnist or cifar10, give the folder as data_dir (--data-dir)")
    elif path.is_file():
        message += f"; for an .npz file, name it npz:{name}"
    return message


def random_subset(name: str, split: str, seed: int, n: int | None, images: np.ndarray,
                   labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """All the images (n None) or n of them drawn with (seed, split), kept in file order."""
    if n is None:
        return images, labels
    if n > len(images):
        raise ValueError(f"dataset {name!r} ({split}) has {len(images)} images, fewer than "
                         f"n={n}")
    index = np.sort(split_rng(seed, split).choice(len(images), n, replace=False))
    return images[index], None if labels is None else labels[index]


@register_dataset("digits")
def _digits(split: str, seed: int, n: int | None) -> Dataset:
    images, labels = load_digits(split, seed, n)
    return Dataset(uint8_to_signed(images[:, None]), labels, 10, "image", "digits")


def _mixture(name: str, centres: np.ndarray, std: float) -> None:
    """Register the Gaussian mixture ``name``: n points (default 100000) drawn with the seed."""
    @register_dataset(name)
    def load(split: str, seed: int, n: int | None) -> Dataset:
        points, modes = sample_mixture(centres, std, n or POINTS_DEFAULT_SIZE, split_rng(seed, split))
        return Dataset(points, modes, len(centres), "points", name, centres)


_mixture("ring8", RING8_CENTRES, RING8_STD)
_mixture("grid25", GRID25_CENTRES, GRID25_STD)


def _published(name: str) -> None:
    """Register the published dataset ``name``: its files' split, all or n drawn with the seed."""
    @register_dataset(name, takes_data_dir=True)
    def load(split: str, seed: int, n: int | None, data_dir: str | None = None) -> Dataset:
        images, labels = load_published(name, split, data_dir)
        images, labels = random_subset(name, split, seed, n, images, labels)
        return Dataset(uint8_to_signed(images), labels, NUM_CLASSES, "image", name)


_published("mnist")
_published("fashion-mnist")
_published("cifar10")
