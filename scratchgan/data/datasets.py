"""Datasets by name: ``load_dataset(name, split, seed, n)`` returns a :class:`Dataset`.

A new dataset is one function registered with :func:`register_dataset`; it takes
(split, seed, n), where ``n`` may be None for the dataset's own default size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratchgan.data.digits import load_digits
from scratchgan.data.mixtures import (GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD,
                                      sample_mixture)
from scratchgan.data.splits import SPLITS, split_rng

POINTS_DEFAULT_SIZE = 100_000


@dataclass
class Dataset:
    """A dataset held in memory.

    data:        float32; images (N, C, H, W) scaled to [-1, 1], or points (N, D)
    labels:      int64 (N,) (the digit; for a mixture, the mode), or None
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


DatasetFactory = Callable[[str, int, "int | None"], Dataset]
DATASETS: dict[str, DatasetFactory] = {}


def register_dataset(name: str) -> Callable[[DatasetFactory], DatasetFactory]:
    """Decorator: make ``loader(split, seed, n) -> Dataset`` loadable as ``name``."""
    def register(loader: DatasetFactory) -> DatasetFactory:
        if name in DATASETS:
            raise ValueError(f"dataset {name!r} is already registered")
        DATASETS[name] = loader
        return loader
    return register


def load_dataset(name: str, split: str = "train", seed: int = 0, n: int | None = None) -> Dataset:
    """The dataset called ``name`` (see ``DATASETS`` for the names): its ``split``
    ("train" or "test"), drawn with ``seed``, ``n`` samples (None: its default)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    if n is not None and n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return DATASETS[name](split, seed, n)


@register_dataset("digits")
def _digits(split: str, seed: int, n: int | None) -> Dataset:
    images, labels = load_digits(split, seed, n)
    data = images[:, None].astype(np.float32) / np.float32(127.5) - np.float32(1)
    return Dataset(data, labels, 10, "image", "digits")


def _mixture(name: str, centres: np.ndarray, std: float) -> None:
    """Register the Gaussian mixture ``name``: n points (default 100000) drawn with the seed."""
    @register_dataset(name)
    def load(split: str, seed: int, n: int | None) -> Dataset:
        points, modes = sample_mixture(centres, std, n or POINTS_DEFAULT_SIZE, split_rng(seed, split))
        return Dataset(points, modes, len(centres), "points", name, centres)


_mixture("ring8", RING8_CENTRES, RING8_STD)
_mixture("grid25", GRID25_CENTRES, GRID25_STD)
