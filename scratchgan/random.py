"""The library's random state: one NumPy Generator that parameter initialisation,
noise and data shuffling draw from, so ``manual_seed`` makes a run reproducible
and a checkpoint can save and restore it exactly.

GPU runs draw here too, on the host, and copy the numbers to the device (a batch of noise
is a few KB, copied once per step): a run on the GPU draws exactly the numbers of the same
run on the CPU, so the two can be compared step by step, and a checkpoint's generator
states resume either. (CuPy's own generator would be faster for large draws, but its
stream differs from NumPy's.)"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator; returns it."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def get_rng() -> np.random.Generator:
    """The global generator (draw from it; do not keep it across manual_seed calls)."""
    return _rng


def get_state() -> dict[str, Any]:
    """The generator's state, JSON-serialisable (for checkpoints)."""
    return _rng.bit_generator.state


def set_state(state: dict[str, Any]) -> None:
    """Restore a state from :func:`get_state`."""
    if not isinstance(state, dict) or state.get("bit_generator") != type(_rng.bit_generator).__name__:
        raise ValueError(f"not a {type(_rng.bit_generator).__name__} state: {str(state)[:80]}")
    _rng.bit_generator.state = state


@contextlib.contextmanager
def drawing_from(rng: np.random.Generator) -> Iterator[np.random.Generator]:
    """Inside the block, every draw from the global generator comes from ``rng`` instead;
    the global generator is back, untouched, after. A trainer runs its generator's dropout
    (pix2pix's noise) this way on the run's own noise generator, whose state its
    checkpoints hold, so two trainers in one process never draw from each other's stream."""
    global _rng
    saved, _rng = _rng, rng
    try:
        yield rng
    finally:
        _rng = saved
