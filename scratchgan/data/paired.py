"""Paired datasets for image-to-image translation: ``load_paired(name, ...)`` returns a
:class:`PairedDataset` of (input, target) images.

The names:

- ``edges2digits``, ``masked2digits``: made offline from the embedded ``digits``;
  ``edges2mnist``, ``masked2mnist``: the same made from MNIST's files (found or downloaded
  as ``mnist`` is). The target is the digit; the input is its edge map
  (:func:`~scratchgan.data.paired_inputs.edge_map`) or the digit with a random block
  removed (:func:`~scratchgan.data.paired_inputs.remove_blocks`, drawn with the seed).
  The digits' labels are kept, so a classifier can check a translated digit.
- ``paired:DIR``: a folder in the pix2pix layout (:mod:`scratchgan.data.paired_files`).

Held-out pairs (what a translator is scored on) are a set's "test" split:
:func:`has_held_out` tells whether it has one (a folder without val/ has none), and
:func:`load_held_out` loads them or says there are none; never the training pairs.

``direction="BtoA"`` swaps inputs and targets (a digit -> its edge map, say).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratchgan.data.datasets import load_dataset, random_subset
from scratchgan.data.paired_files import (DIRECTIONS, check_split_shapes, has_val, paired_files,
                                          read_pairs)
from scratchgan.data.paired_inputs import edge_map, remove_blocks
from scratchgan.data.splits import SPLITS

FILE_SCHEME = "paired"
_INPUT_STREAM = 1     # the inputs' random stream, apart from the source's own (split_rng)


@dataclass
class PairedDataset:
    """Pairs held in memory.

    inputs:      float32 (N, C_in, H, W) in [-1, 1], what the generator translates
    targets:     float32 (N, C_out, H, W) in [-1, 1], what it should produce
    labels:      int64 (N,) (the digit of each pair), or None
    num_classes: how many distinct labels there can be (0 without labels)
    name:        the name it was loaded by
    """
    inputs: np.ndarray
    targets: np.ndarray
    labels: np.ndarray | None
    num_classes: int
    name: str

    def __len__(self) -> int:
        return len(self.inputs)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(inputs, targets[, labels]): what a DataLoader batches."""
        pair = (self.inputs, self.targets)
        return pair if self.labels is None else (*pair, self.labels)


PairedFactory = Callable[[str, int, "int | None", "str | None"], PairedDataset]
PAIRED_DATASETS: dict[str, PairedFactory] = {}


def _derived(kind: str, source: str,
             make_inputs: Callable[[np.ndarray, np.random.Generator], np.ndarray]) -> None:
    """Register ``{kind}2{source}``: targets the images of ``source``, inputs made from them."""
    name = f"{kind}2{source}"

    def load(split: str, seed: int, n: int | None, data_dir: str | None) -> PairedDataset:
        digits = load_dataset(source, split, seed, n, data_dir)
        rng = np.random.default_rng([int(seed), SPLITS.index(split), _INPUT_STREAM])
        return PairedDataset(make_inputs(digits.data, rng), digits.data, digits.labels,
                             digits.num_classes, name)
    PAIRED_DATASETS[name] = load


for _source in ("digits", "mnist"):
    _derived("edges", _source, lambda images, rng: edge_map(images))
    _derived("masked", _source, remove_blocks)


def load_paired(name: str, split: str = "train", seed: int = 0, n: int | None = None,
                data_dir: str | None = None, direction: str = "AtoB") -> PairedDataset:
    """The paired dataset ``name`` (a name of ``PAIRED_DATASETS`` or ``paired:DIR``): its
    ``split`` ("train" or "test"; a folder's "test" is its val/), ``n`` pairs drawn with
    ``seed`` (None: all, or the source's default size), inputs and targets swapped when
    ``direction`` is "BtoA". ``data_dir`` is where MNIST's files are (see
    :func:`~scratchgan.data.load_dataset`)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; use one of {', '.join(DIRECTIONS)}")
    if n is not None and n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if name in PAIRED_DATASETS:
        pairs = PAIRED_DATASETS[name](split, seed, n, data_dir)
        if direction == "BtoA":
            pairs.inputs, pairs.targets = pairs.targets, pairs.inputs
        return pairs
    if folder := _folder(name):
        check_split_shapes(folder)
        files, _ = random_subset(name, split, seed, n, np.array(paired_files(folder, split)), None)
        inputs, targets = read_pairs(list(files), direction)
        return PairedDataset(inputs, targets, None, 0, name)
    raise ValueError(_unknown_message(name))


def has_held_out(name: str) -> bool:
    """Whether the paired dataset ``name`` has held-out pairs: a built-in set always,
    ``paired:DIR`` when DIR holds val/. A ValueError for a name that is not a paired set."""
    if name in PAIRED_DATASETS:
        return True
    if folder := _folder(name):
        return has_val(folder)
    raise ValueError(_unknown_message(name))


def load_held_out(name: str, n: int, seed: int = 0, data_dir: str | None = None,
                  direction: str = "AtoB") -> PairedDataset:
    """``n`` held-out pairs of ``name`` (its "test" split) drawn with ``seed``; from a
    folder, all of val/ when it holds fewer. A DatasetNotFoundError naming DIR when
    ``paired:DIR`` has no val/ (:func:`has_held_out` is False): the training pairs never
    stand in for held-out ones."""
    if folder := _folder(name):
        n = min(n, len(paired_files(folder, "test")))
    return load_paired(name, "test", seed, n, data_dir, direction)


def _folder(name: str) -> str:
    """DIR when ``name`` is ``paired:DIR``, else ""."""
    scheme, colon, path = name.partition(":")
    return path if name not in PAIRED_DATASETS and colon and scheme == FILE_SCHEME else ""


def _unknown_message(name: str) -> str:
    return (f"unknown paired dataset {name!r}; known: {', '.join(sorted(PAIRED_DATASETS))}, "
            f"or {FILE_SCHEME}:DIR (a folder with train/ and val/, each image A and B side by "
            "side)")
