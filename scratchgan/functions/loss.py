"""Losses: binary cross-entropy from logits, and mean squared error."""
from __future__ import annotations

from typing import Any

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.functions.activation import sigmoid
from scratchgan.functions.array import mean, sum, sum_to

_REDUCTIONS = ("mean", "sum", "none")


class BCEWithLogits(Function):
    """Binary cross-entropy of logits x against targets t in [0, 1], element-wise:
    l = -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = max(x, 0) - x t + log1p(exp(-|x|)),
    finite for logits of any size.

    Shapes:    x: any; t: broadcastable to x; l: the broadcast shape
    Gradients: gx = gy * (sigmoid(x) - t); gt = -gy * x
    """

    def forward(self, x, t):
        xp = get_array_module(x)
        return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        x, t = self.inputs
        return sum_to(gy * (sigmoid(x) - t), x.shape), sum_to(-gy * x, t.shape)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"unknown reduction {reduction!r}; use one of {', '.join(_REDUCTIONS)}")


def bce_with_logits(x: Any, t: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy from logits; ``t`` may be a constant such as 1.0 or 0.9."""
    return _reduce(BCEWithLogits()(x, t), reduction)


def mse(x: Any, t: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: reduce((x - t)^2); composed of sub, pow and sum."""
    return _reduce((x - t) ** 2, reduction)
