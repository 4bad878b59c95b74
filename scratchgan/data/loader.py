"""Batching with exact resume: the loader's whole state is plain numbers and a
generator state, so a resumed run sees the very batches an uninterrupted one would."""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np


class DataLoader:
    """Batches of ``source`` (a tuple of arrays, or a Dataset: its data and labels)
    along axis 0. Each epoch draws a fresh permutation from the loader's own
    generator (``shuffle``); ``drop_last`` drops the incomplete final batch.
    """

    def __init__(self, source: Any, batch_size: int, shuffle: bool = True,
                 drop_last: bool = True, seed: int = 0) -> None:
        if isinstance(source, (tuple, list)):
            arrays = source
        elif getattr(source, "labels", None) is None:
            arrays = (source.data,)
        else:
            arrays = (source.data, source.labels)
        self.arrays = tuple(np.asarray(a) for a in arrays)
        self.n = len(self.arrays[0])
        if any(len(a) != self.n for a in self.arrays):
            raise ValueError(f"arrays differ in length: {[len(a) for a in self.arrays]}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if drop_last and batch_size > self.n:
            raise ValueError(f"batch_size {batch_size} exceeds the {self.n} samples: with "
                             "drop_last no batch would remain")
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.rng = np.random.default_rng([seed, 3])
        self.epoch, self.position = 0, 0
        self._start_epoch()

    def _start_epoch(self) -> None:
        self._rng_state_at_epoch_start = self.rng.bit_generator.state
        self._order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self) -> int:
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def _epoch_done(self) -> bool:
        left = self.n - self.position
        return left <= 0 or (self.drop_last and left < self.batch_size)

    def _take(self) -> tuple[np.ndarray, ...]:
        index = self._order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return tuple(a[index] for a in self.arrays)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        """The rest of the current epoch; the next iteration starts a new one."""
        while not self._epoch_done():
            yield self._take()
        self.epoch, self.position = self.epoch + 1, 0
        self._start_epoch()

    def batches(self) -> Iterator[tuple[np.ndarray, ...]]:
        """Batches without end, epoch after epoch (for step-based training)."""
        while True:
            yield from self

    def state_dict(self) -> dict[str, Any]:
        """Epoch, position, and the generator state this epoch's permutation came from."""
        return {"epoch": self.epoch, "position": self.position,
                "rng": self._rng_state_at_epoch_start}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self._start_epoch()
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
