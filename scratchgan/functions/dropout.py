"""Dropout: inverted dropout with its mask drawn once in the wrapper and kept as an input.

The mask is an ordinary constant input of the Function (a Tensor that does not require
grad), so the backward retains it like any input and double backward needs nothing else.
It is drawn on the host from ``scratchgan.random``'s generator, like every other random
number in the library, so a seeded run and a resumed run drop the same units.
"""
from __future__ import annotations

from typing import Any

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.config import Config
from scratchgan.functions.array import sum_to
from scratchgan.random import get_rng


class Dropout(Function):
    """Inverted dropout with a given keep-mask m in {0, 1}: y = x * m / (1 - p), so that
    E[y] = x when m is drawn with P(m = 1) = 1 - p.

    Shapes:    x: any; mask: broadcastable to x; y: like x
    Gradients: gx = dropout(gy, mask) = gy * m / (1 - p);
               gmask = sum_to(gy * x / (1 - p), mask.shape) (only if the mask requires grad)
    Double:    y is linear in x for a fixed mask, so gx is the same op applied to gy
               and differentiates again through Dropout and Mul
    """

    def __init__(self, p: float) -> None:
        self.p = float(p)

    def forward(self, x, mask):
        return x * (mask * x.dtype.type(1.0 / (1.0 - self.p)))

    def backward(self, gy):
        x, mask = self.inputs
        gx = Dropout(self.p)(gy, mask) if self.needs_input_grad[0] else None
        gmask = (sum_to(gy * x * (1.0 / (1.0 - self.p)), mask.shape)
                 if self.needs_input_grad[1] else None)
        return gx, gmask


def dropout_mask(shape: tuple[int, ...], p: float, like: Any) -> Any:
    """A keep-mask (1 with probability 1 - p, else 0) in the dtype and on the device of the
    array ``like``, drawn from the library's global generator."""
    xp = get_array_module(like)
    return xp.asarray(get_rng().random(shape) >= p, dtype=like.dtype)


def dropout(x: Any, p: float = 0.5, training: bool | None = None, mask: Any = None) -> Tensor:
    """Zero each element of ``x`` with probability ``p`` and scale the rest by 1 / (1 - p).

    The identity (``x`` itself) when not ``training`` (default ``Config.train``, as batch
    norm) or when ``p`` is 0. ``mask`` (0/1, broadcastable to ``x``) fixes the units kept
    instead of drawing them, e.g. for a gradient check, which evaluates the op many times.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    x = x if isinstance(x, Tensor) else Tensor(x)
    training = Config.train if training is None else training
    if not training or p == 0.0:
        return x
    if mask is None:
        mask = dropout_mask(x.shape, p, x.data)
    return Dropout(p)(x, mask)
