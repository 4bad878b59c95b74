"""Batch normalization over the channel axis 1 of (N, C, *spatial) arrays, plain NumPy.

With m = N * prod(spatial) values per channel, mean and biased variance per channel,
r = 1 / sqrt(var + eps) and xhat = (x - mean) * r:
    forward:  y = gamma * xhat + beta
    backward: gbeta = sum(gy), ggamma = sum(gy * xhat),
              gx = gamma * r * (gy - gbeta / m - xhat * ggamma / m)
"""
from __future__ import annotations

import numpy as np


def _check(x: np.ndarray, gamma: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if x.ndim < 2:
        raise ValueError(f"batch norm needs x of shape (N, C, ...), got {x.shape}")
    if gamma.shape != (x.shape[1],):
        raise ValueError(f"batch norm: gamma has shape {gamma.shape}, expected ({x.shape[1]},)")
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return axes, bshape


def batch_norm_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and biased variance of x (N, C, ...): two arrays of shape (C,)."""
    axes = (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axis=axes)
    xc = x - mean.reshape((1, -1) + (1,) * (x.ndim - 2))
    return mean, (xc * xc).mean(axis=axes)


def batch_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                       out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, mean, var): y normalized with the batch statistics, then scaled and shifted."""
    _, bshape = _check(x, gamma)
    mean, var = batch_norm_stats(x)
    r = 1 / np.sqrt(var + x.dtype.type(eps))
    scale = (gamma * r).reshape(bshape)
    shift = (beta - mean * gamma * r).reshape(bshape)
    y = np.add(x * scale, shift, out=out)
    return y, mean, var


def batch_norm_backward(x: np.ndarray, gamma: np.ndarray, gy: np.ndarray, eps: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gx, ggamma, gbeta) of training-mode batch norm (statistics differentiated too)."""
    axes, bshape = _check(x, gamma)
    if gy.shape != x.shape:
        raise ValueError(f"batch norm backward: gy has shape {gy.shape}, x has {x.shape}")
    m = x.size // x.shape[1]
    mean, var = batch_norm_stats(x)
    r = 1 / np.sqrt(var + x.dtype.type(eps))
    xhat = (x - mean.reshape(bshape)) * r.reshape(bshape)
    gbeta = gy.sum(axis=axes)
    ggamma = (gy * xhat).sum(axis=axes)
    gx = (gamma * r).reshape(bshape) * (gy - (gbeta / m).reshape(bshape)
                                        - xhat * (ggamma / m).reshape(bshape))
    return gx, ggamma, gbeta
