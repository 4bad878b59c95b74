"""Losses: binary cross-entropy from logits, mean squared error and mean absolute error."""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import kernel
from scratchgan.functions.activation import sigmoid
from scratchgan.functions.arithmetic import abs
from scratchgan.functions.array import mean, sum, sum_to

_REDUCTIONS = ("mean", "sum", "none")


class BCEWithLogits(Function):
    """Binary cross-entropy of logits x against targets t in [0, 1], element-wise:
    l = -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = max(x, 0) - x t + log1p(exp(-|x|)),
    finite for logits of any size (one fused kernel).

    Shapes:    x: any; t: broadcastable to x; l: the broadcast shape
    Gradients: gx = sum_to(bce_with_logits_grad(x, t, gy), x.shape)
               = sum_to(gy * (sigmoid(x) - t), x.shape); gt = sum_to(-gy * x, t.shape)
    Double:    through BCEWithLogitsGrad, whose gradients are Functions again
    """

    def forward(self, x, t):
        return kernel("bce_with_logits", x)(x, t)

    def backward(self, gy):
        x, t = self.inputs
        gx = sum_to(BCEWithLogitsGrad()(x, t, gy), x.shape) if self.needs_input_grad[0] else None
        gt = sum_to(-gy * x, t.shape) if self.needs_input_grad[1] else None
        return gx, gt


class BCEWithLogitsGrad(Function):
    """The logit gradient of binary cross-entropy, as an op of (x, t, gy):
    gx = gy * (sigmoid(x) - t) (one fused kernel).

    Shapes:    x: any; t, gy: broadcastable with x; gx: the broadcast shape
    Gradients: with s = sigmoid(x) and the upstream gradient ggx:
               g_x = sum_to(ggx * gy * s (1 - s), x.shape); g_t = sum_to(-ggx * gy, t.shape);
               g_gy = sum_to(ggx * (s - t), gy.shape)
    Double:    built from sigmoid, mul, sub and sum_to, so it differentiates again
    """

    def forward(self, x, t, gy):
        return kernel("bce_with_logits_grad", x)(x, t, gy)

    def backward(self, ggx):
        x, t, gy = self.inputs
        needs = self.needs_input_grad
        s = sigmoid(x) if needs[0] or needs[2] else None
        g_x = sum_to(ggx * gy * (s * (1.0 - s)), x.shape) if needs[0] else None
        g_t = sum_to(-(ggx * gy), t.shape) if needs[1] else None
        g_gy = sum_to(ggx * (s - t), gy.shape) if needs[2] else None
        return g_x, g_t, g_gy


def _check_target(loss: str, x: Any, t: Any) -> None:
    """A ValueError unless the target ``t`` has the shape of the input ``x`` or is a scalar
    (a number, or a 0-d array, that stands for every element): a target that only
    broadcasts, such as (N, 1) against (N,), would silently compare every prediction
    with every target."""
    x_shape, t_shape = _shape(x), _shape(t)
    if t_shape != x_shape and t_shape != ():
        raise ValueError(f"{loss}: input shape {x_shape} and target shape {t_shape} differ "
                         "(the target must have the input's shape, or be a scalar)")


def _shape(v: Any) -> tuple[int, ...]:
    return v.shape if isinstance(v, Tensor) else np.shape(v)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"unknown reduction {reduction!r}; use one of {', '.join(_REDUCTIONS)}")


def bce_with_logits(x: Any, t: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy from logits. ``t`` has the shape of ``x`` or is a constant such
    as 1.0 or 0.9 (any other shape is a ValueError, as for every loss here)."""
    _check_target("bce_with_logits", x, t)
    return _reduce(BCEWithLogits()(x, t), reduction)


def mse(x: Any, t: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: reduce((x - t)^2); composed of sub, pow and sum. ``t`` has the
    shape of ``x`` or is a scalar."""
    _check_target("mse", x, t)
    return _reduce((x - t) ** 2, reduction)


def l1(x: Any, t: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: reduce(|x - t|); composed of sub, abs and sum. Its gradient is the
    subgradient gy * sign(x - t), 0 where x == t (see :class:`~scratchgan.functions.Abs`).
    ``t`` has the shape of ``x`` or is a scalar."""
    _check_target("l1", x, t)
    return _reduce(abs(x - t), reduction)
