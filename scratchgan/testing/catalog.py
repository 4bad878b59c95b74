"""The catalogue of op cases: for every Function, how to draw valid inputs and call it.

One :class:`OpCase` per public op. The test suite runs each through
:class:`~scratchgan.testing.OpTest` with hypothesis drawing the sizes; the
``scratchgan gradcheck`` command runs each with a seeded NumPy generator. A test
checks that every Function subclass in ``scratchgan.functions`` is covered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

Draw = Callable[[int, int], int]
"""draw(lo, hi) -> an int in [lo, hi], from hypothesis or from a seeded generator."""


@dataclass(frozen=True)
class OpCase:
    """How to exercise one op.

    Attributes:
        name: the op's name, as ``scratchgan gradcheck --op NAME`` takes it.
        functions: the Function classes whose forward and backward this case runs.
        make: ``make(draw, rng) -> (inputs, params)``: draws sizes with ``draw``, makes
            float64 input arrays with ``rng`` (off any kinks), and keyword params.
        call: ``call(*tensors, **params) -> Tensor``.
        tolerances: keyword overrides for the gradient checks (atol, rtol, eps).
    """
    name: str
    functions: tuple[type, ...]
    make: Callable[[Draw, np.random.Generator], tuple[tuple[np.ndarray, ...], dict[str, Any]]]
    call: Callable[..., Any]
    tolerances: dict[str, float] = field(default_factory=dict)


CASES: dict[str, OpCase] = {}


def register(case: OpCase) -> OpCase:
    if case.name in CASES:
        raise ValueError(f"op case {case.name!r} is registered twice")
    CASES[case.name] = case
    return case


def shape(draw: Draw, ndim_lo: int = 1, ndim_hi: int = 3, lo: int = 1, hi: int = 4) -> tuple[int, ...]:
    """A random shape of ndim in [ndim_lo, ndim_hi], each size in [lo, hi]."""
    return tuple(draw(lo, hi) for _ in range(draw(ndim_lo, ndim_hi)))


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], margin: float = 0.1) -> np.ndarray:
    """Normal values with |x| >= margin, for ops with a kink at 0 (relu, leaky_relu)."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


def positive(rng: np.random.Generator, shape: tuple[int, ...], lo: float = 0.5, hi: float = 2.0) -> np.ndarray:
    """Uniform values in [lo, hi], for log, sqrt, division and powers."""
    return rng.uniform(lo, hi, shape)


def all_cases() -> dict[str, OpCase]:
    """Every registered case (importing the case modules registers them)."""
    from scratchgan.testing import cases  # noqa: F401  (registers on import)
    return CASES
