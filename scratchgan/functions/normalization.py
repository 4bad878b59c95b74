"""Batch normalization (Ioffe & Szegedy 2015), training and eval mode.

Notation, per channel c of x (N, C, *spatial), with m = N * prod(spatial) values:
    mu = mean(x), var = mean((x - mu)^2)   (biased), r = (var + eps)^(-1/2),
    xhat = (x - mu) * r, y = gamma * xhat + beta.
In training mode mu and var are functions of x and are differentiated; in eval
mode the running statistics are constants.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import kernel
from scratchgan.config import Config
from scratchgan.functions.activation import LeakyReLUGrad, leaky_relu
from scratchgan.functions.array import mean, reshape, sum


def _channel_axes(x: Tensor) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """(reduction axes, broadcast shape of a per-channel vector, m)."""
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return axes, bshape, x.size // x.shape[1]


class BatchNorm(Function):
    """Batch norm, training mode: y = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta.

    Shapes:    x: (N, C, *spatial); gamma, beta: (C,); y: like x
    Gradients: gbeta = sum(gy); ggamma = sum(gy * xhat);
               gx = gamma * r * (gy - gbeta / m - xhat * ggamma / m)
               (sums and means over all axes but the channel axis; all three come
               from the batch_norm_grad op)
    Double:    see batch_norm_grad
    """

    saved_inputs = (0, 1)  # x and gamma, not beta

    def __init__(self, eps: float) -> None:
        self.eps = eps

    def forward(self, x, gamma, beta):
        y, self.batch_mean, self.batch_var = kernel("batch_norm_forward", x)(x, gamma, beta, self.eps)
        return y  # batch_mean/var feed the running statistics only, never the backward

    def backward(self, gy):
        x, gamma = self.inputs[:2]
        return BatchNormGrad(self.eps)(x, gamma, gy)


class BatchNormGrad(Function):
    """The first-order gradients of training-mode batch norm, as an op of (x, gamma, gy).

    Shapes:    x, gy: (N, C, *spatial); gamma: (C,); gx: like x; ggamma, gbeta: (C,)
    Gradients: with P(v) = v - mean(v) - xhat * mean(v * xhat) (self-adjoint),
               q = mean(gy * xhat), S1 = sum(ggx * (gy - mean(gy))), G = sum(ggx * xhat)
               and the upstream gradients (ggx, gggamma, ggbeta):
               g_gamma = r * (S1 - q * G)
               g_gy = ggbeta + gggamma * xhat + gamma * r * P(ggx)
               g_x = r * P(u) - (gamma * r / m) * g_gamma * xhat,
               where u = gggamma * gy - gamma * r * (gy * G / m + q * ggx)
    Double:    derived from gx = gamma * r * P(gy), ggamma = m * q, gbeta = sum(gy),
               dr/dx = -(r^2 / m) xhat and d(sum_j u_j xhat_j)/dx = r * P(u); mu, r and
               xhat are recomputed from x with Functions, so a third order works too
    """

    def __init__(self, eps: float) -> None:
        self.eps = eps

    def forward(self, x, gamma, gy):
        return kernel("batch_norm_backward", x)(x, gamma, gy, self.eps)

    def backward(self, ggx, gggamma, ggbeta):
        return _batch_norm_grad_backward(*self.inputs, ggx, gggamma, ggbeta, self.eps)


class BatchNormLeakyReLU(Function):
    """Batch norm, training mode, then a leaky ReLU: y = leaky_relu(z, slope) with
    z = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta, in one pass (the pair the
    DCGAN layers apply; ``nn.Sequential`` uses it for a BatchNorm followed by a LeakyReLU
    or ReLU). The result is batch_norm followed by leaky_relu; only the passes differ.

    Shapes:    x: (N, C, *spatial); gamma, beta: (C,); y: like x
    Gradients: with the activation's mask read off the output (y > 0 exactly where z > 0),
               gz = leaky_relu_grad(y, gy) = gy * where(y > 0, 1, slope), then batch norm's:
               (gx, ggamma, gbeta) = batch_norm_leaky_relu_grad(x, gamma, y, gy), one op
    Double:    see batch_norm_leaky_relu_grad
    """

    saved_inputs = (0, 1)  # x and gamma, not beta

    def __init__(self, eps: float, slope: float) -> None:
        self.eps = eps
        self.slope = float(slope)

    def forward(self, x, gamma, beta):
        y, self.batch_mean, self.batch_var = kernel("batch_norm_leaky_relu_forward", x)(
            x, gamma, beta, self.eps, self.slope)
        return y  # batch_mean/var feed the running statistics only, never the backward

    def backward(self, gy):
        x, gamma = self.inputs[:2]
        return BatchNormLeakyReLUGrad(self.eps, self.slope)(x, gamma, self.output(0), gy)


class BatchNormLeakyReLUGrad(Function):
    """The first-order gradients of batch norm followed by a leaky ReLU, as an op of
    (x, gamma, y, gy), y the activation's output: batch_norm_grad(x, gamma, gz) with
    gz = leaky_relu_grad(y, gy), the mask applied on the fly (one kernel).

    Shapes:    x, y, gy: (N, C, *spatial); gamma: (C,); gx: like x; ggamma, gbeta: (C,)
    Gradients: as batch_norm_grad's at gy = gz for g_x and g_gamma; g_gy =
               leaky_relu_grad(y, g_gz) (the mask is its own adjoint); g_y = 0 (y only
               selects the mask, piecewise constant)
    Double:    made of batch_norm_grad's backward and leaky_relu_grad, both closed
    """

    def __init__(self, eps: float, slope: float) -> None:
        self.eps = eps
        self.slope = slope

    def forward(self, x, gamma, y, gy):
        return kernel("batch_norm_leaky_relu_backward", x)(x, gamma, y, gy, self.eps, self.slope)

    def backward(self, ggx, gggamma, ggbeta):
        x, gamma, y, gy = self.inputs
        gz = LeakyReLUGrad(self.slope)(y, gy)
        g_x, g_gamma, g_gz = _batch_norm_grad_backward(x, gamma, gz, ggx, gggamma, ggbeta,
                                                       self.eps)
        return g_x, g_gamma, None, LeakyReLUGrad(self.slope)(y, g_gz)


def _batch_norm_grad_backward(x: Tensor, gamma: Tensor, gy: Tensor, ggx: Tensor,
                              gggamma: Tensor, ggbeta: Tensor, eps: float
                              ) -> tuple[Tensor, Tensor, Tensor]:
    """(g_x, g_gamma, g_gy) of batch_norm_grad(x, gamma, gy) for the upstream gradients
    (ggx, gggamma, ggbeta): the formulas of BatchNormGrad's docstring, made of Functions."""
    axes, bshape, m = _channel_axes(x)

    def cmean(v: Tensor) -> Tensor:
        return mean(v, axes, keepdims=True)

    def csum(v: Tensor) -> Tensor:
        return sum(v, axes, keepdims=True)

    xc = x - cmean(x)
    r = (cmean(xc * xc) + eps) ** -0.5
    xhat = xc * r
    gam = reshape(gamma, bshape)
    gr = gam * r

    def project(v: Tensor) -> Tensor:
        return v - cmean(v) - xhat * cmean(v * xhat)

    q = cmean(gy * xhat)
    S1 = csum(ggx * (gy - cmean(gy)))
    G = csum(ggx * xhat)
    g_gamma = r * (S1 - q * G)
    u = reshape(gggamma, bshape) * gy - gr * (gy * G * (1.0 / m) + q * ggx)
    g_x = r * project(u) - gr * g_gamma * xhat * (1.0 / m)
    g_gy = reshape(ggbeta, bshape) + reshape(gggamma, bshape) * xhat + gr * project(ggx)
    return g_x, reshape(g_gamma, gamma.shape), g_gy


def batch_norm(x: Any, gamma: Any, beta: Any, running_mean: np.ndarray | None = None,
               running_var: np.ndarray | None = None, training: bool | None = None,
               momentum: float = 0.1, eps: float = 1e-5, slope: float | None = None) -> Tensor:
    """Batch norm over axis 1 of x (N, C) or (N, C, H, W).

    training (default ``Config.train``): normalize with the batch statistics and,
    when running statistics are given, update them in place:
    ``running = (1 - momentum) * running + momentum * batch`` (the variance is the
    unbiased one, m / (m - 1) times the biased). Eval: normalize with the running
    statistics, which are then constants: y = x * scale + shift.

    ``slope``: follow with leaky_relu(., slope) (0: ReLU), in training mode as one fused
    op (``BatchNormLeakyReLU``), the same values with fewer passes over the activation.
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm needs x of shape (N, C) or (N, C, H, W), got {x.shape}")
    C = x.shape[1]
    for label, v in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                     ("running_var", running_var)):
        if v is not None and tuple(v.shape) != (C,):
            raise ValueError(f"batch_norm: {label} has shape {tuple(v.shape)}, expected ({C},) "
                             f"for x of shape {x.shape}")
    training = Config.train if training is None else training
    _, bshape, m = _channel_axes(x)
    if training:
        if m < 2:
            raise ValueError(f"batch_norm in training mode needs more than one value per channel, "
                             f"got x of shape {x.shape}")
        fn = BatchNorm(eps) if slope is None else BatchNormLeakyReLU(eps, slope)
        y = fn(x, gamma, beta)
        if running_mean is not None and running_var is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * fn.batch_mean
            running_var *= 1 - momentum
            running_var += (momentum * m / (m - 1)) * fn.batch_var
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm in eval mode needs running_mean and running_var")
    inv_std = Tensor(((running_var + eps) ** -0.5).reshape(bshape), dtype=x.dtype)
    scale = reshape(gamma, bshape) * inv_std
    shift = reshape(beta, bshape) - Tensor(running_mean.reshape(bshape), dtype=x.dtype) * scale
    y = x * scale + shift
    return y if slope is None else leaky_relu(y, slope)
