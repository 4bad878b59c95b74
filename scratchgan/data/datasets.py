"""Datasets by name: ``load_dataset("digits" | "ring8" | "grid25", split, seed, n)``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratchgan.data.digits import load_digits
from scratchgan.data.mixtures import sample_grid25, sample_ring8


@dataclass
class Dataset:
    """``data``: float32, images (N, C, H, W) in [-1, 1] or points (N, D);
    ``labels``: int64 (N,) or None; ``kind``: "image" or "points"."""
    name: str
    data: np.ndarray
    labels: np.ndarray | None
    num_classes: int
    kind: str

    def __len__(self) -> int:
        return len(self.data)


_SPLIT_SEED = {"train": 0, "test": 1}


def _digits(split: str, seed: int, n: int | None) -> Dataset:
    n = n or (60000 if split == "train" else 10000)
    images, labels = load_digits(n, seed * 2 + _SPLIT_SEED[split])
    data = images[:, None].astype(np.float32) / np.float32(127.5) - 1
    return Dataset("digits", data, labels, 10, "image")


def _mixture(name: str, sampler: Callable) -> Callable[[str, int, int | None], Dataset]:
    def load(split: str, seed: int, n: int | None) -> Dataset:
        rng = np.random.default_rng([seed, 7, _SPLIT_SEED[split]])
        points, modes = sampler(n or 100_000, rng)
        return Dataset(name, points, modes, int(modes.max()) + 1, "points")
    return load


DATASETS: dict[str, Callable[[str, int, int | None], Dataset]] = {
    "digits": _digits,
    "ring8": _mixture("ring8", sample_ring8),
    "grid25": _mixture("grid25", sample_grid25),
}


def load_dataset(name: str, split: str = "train", seed: int = 0, n: int | None = None) -> Dataset:
    """The dataset ``name``; a clear error for an unknown name or split."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if split not in _SPLIT_SEED:
        raise ValueError(f"unknown split {split!r}; use 'train' or 'test'")
    return DATASETS[name](split, seed, n)
