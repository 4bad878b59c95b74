"""Train and test splits: each draws from its own random stream of one seed."""
from __future__ import annotations

import numpy as np

SPLITS = ("train", "test")


def split_rng(seed: int, split: str) -> np.random.Generator:
    """The generator of ``split`` for ``seed``; the splits' streams never overlap."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known splits: {', '.join(SPLITS)}")
    return np.random.default_rng([int(seed), SPLITS.index(split)])
