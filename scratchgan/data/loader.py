"""Mini-batches of in-memory arrays, with a state that resumes a run exactly.

The loader's whole state is the epoch, how many batches of it were handed out,
and the state of the generator just before it drew this epoch's permutation:
plain numbers and a JSON-able dict. Saved with a checkpoint and loaded into a
fresh loader, it makes the resumed run see the very batches an uninterrupted
run would have seen.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

Batch = tuple[np.ndarray, ...]


def _as_arrays(source: Any) -> tuple[np.ndarray, ...]:
    """The arrays to batch: a Dataset's (data, labels) or (data,), one array, or a sequence."""
    if hasattr(source, "data") and hasattr(source, "labels"):
        arrays = (source.data,) if source.labels is None else (source.data, source.labels)
    elif isinstance(source, np.ndarray):
        arrays = (source,)
    elif isinstance(source, (tuple, list)) and source:
        arrays = tuple(source)
    else:
        raise TypeError("DataLoader takes a Dataset, an array, or a non-empty tuple of arrays; "
                        f"got {type(source).__name__}")
    arrays = tuple(np.asarray(a) for a in arrays)
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("every array needs a leading sample axis; got a 0-d array")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"arrays differ in length along axis 0: {lengths}")
    if lengths[0] == 0:
        raise ValueError("cannot batch an empty dataset")
    return arrays


class DataLoader:
    """Batches of ``dataset_or_arrays`` along axis 0, as tuples ``(x, labels)`` or ``(x,)``.

    Each epoch visits the samples in a fresh random order (``shuffle``) drawn
    from the loader's own generator, seeded by ``seed``; ``drop_last`` leaves
    out the final batch when it would be short.

    ``for batch in loader`` yields the rest of the current epoch, and the next
    loop starts the next epoch; ``loader.batches()`` never stops, going from
    epoch to epoch (for step-based training). Both continue from where the
    loader stands: the position lives in the loader, not in the iterator.
    """

    def __init__(self, dataset_or_arrays: Any, batch_size: int, shuffle: bool = True,
                 drop_last: bool = True, seed: int = 0) -> None:
        self.arrays = _as_arrays(dataset_or_arrays)
        self.num_samples = len(self.arrays[0])
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if drop_last and batch_size > self.num_samples:
            raise ValueError(f"batch_size {batch_size} is larger than the dataset's "
                             f"{self.num_samples} samples: with drop_last=True no batch would "
                             "remain (use a smaller batch or drop_last=False)")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed)
        self._start_epoch(0)

    def __len__(self) -> int:
        """Batches per epoch."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return -(-self.num_samples // self.batch_size)

    @property
    def epoch(self) -> int:
        """The epoch the next batch comes from, counting from 0."""
        return self._epoch

    @property
    def position(self) -> int:
        """How many batches of the current epoch have been handed out."""
        return self._position

    def _start_epoch(self, epoch: int) -> None:
        self._epoch_rng_state = self._rng.bit_generator.state
        self._order = (self._rng.permutation(self.num_samples) if self.shuffle
                       else np.arange(self.num_samples))
        self._epoch = epoch
        self._position = 0

    def _next_batch(self) -> Batch:
        start = self._position * self.batch_size
        index = self._order[start:start + self.batch_size]
        batch = tuple(a[index] for a in self.arrays)
        self._position += 1
        if self._position == len(self):
            self._start_epoch(self._epoch + 1)
        return batch

    def __iter__(self) -> Iterator[Batch]:
        """The remaining batches of the current epoch."""
        epoch = self._epoch
        while self._epoch == epoch:
            yield self._next_batch()

    def batches(self) -> Iterator[Batch]:
        """Batches without end, epoch after epoch, each epoch reshuffled."""
        while True:
            yield self._next_batch()

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands, as JSON-able plain values."""
        return {"epoch": self._epoch, "position": self._position,
                "epoch_rng_state": self._epoch_rng_state,
                "num_samples": self.num_samples, "batch_size": self.batch_size,
                "shuffle": self.shuffle, "drop_last": self.drop_last}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` of a loader over the same data and settings."""
        mine = self.state_dict()
        missing = sorted(set(mine) - set(state))
        if missing:
            raise ValueError(f"DataLoader state lacks {missing}")
        differing = [f"{key}: saved {state[key]!r}, here {mine[key]!r}"
                     for key in ("num_samples", "batch_size", "shuffle", "drop_last")
                     if state[key] != mine[key]]
        if differing:
            raise ValueError("DataLoader state is from a different setup: " + "; ".join(differing))
        position = int(state["position"])
        if not 0 <= position < len(self):
            raise ValueError(f"DataLoader state position {position} is outside 0..{len(self) - 1}")
        self._rng.bit_generator.state = state["epoch_rng_state"]
        self._start_epoch(int(state["epoch"]))
        self._position = position
