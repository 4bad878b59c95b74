"""Losses: binary cross-entropy from logits, mean squared error and mean absolute error."""
from __future__ import annotations

from typing import Any

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


def l1(x: Any, t: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: reduce(|x - t|); composed of sub, abs and sum. Its gradient is the
    subgradient gy * sign(x - t), 0 where x == t (see :class:`~scratchgan.functions.Abs`)."""
    return _reduce(abs(x - t), reduction)
