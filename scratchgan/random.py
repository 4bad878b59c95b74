"""The library's random state: one NumPy Generator that parameter initialisation,
noise and data shuffling draw from, so ``manual_seed`` makes a run reproducible
and a checkpoint can save and restore it exactly.

GPU runs draw here too, on the host, and copy the numbers to the device (a batch of noise
is a few KB, copied once per step): a run on the GPU draws exactly the numbers of the same
run on the CPU, so the two can be compared step by step, and a checkpoint's generator
states resume either. (CuPy's own generator would be faster for large draws, but its
stream differs from NumPy's.)"""
from __future__ import annotations

from typing import Any

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
