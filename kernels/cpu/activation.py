"""Leaky ReLU, forward and backward, compiled with Numba.

One pass over the flat memory of the arrays (any shape, float32 or float64, C-contiguous
or channels-last; the result has x's layout, and gy is brought to it if it differs); the
slope is cast to the array's dtype first, so every value is the reference's bit for bit
(y = x if x > 0 else x * slope, NaN stays NaN, -0.0 stays -0.0). ``out`` may be ``x``
(or ``gy``) itself: each element is read before it is written. Large arrays are cut into
blocks run on the workers of ``scratchgan_kernels.parallel`` (``_common.blockwise``).
"""
from __future__ import annotations

import numpy as np

from scratchgan_kernels.cpu._common import (blockwise, check_inputs, check_out, flat, into,
                                            like, njit, result_array)


@njit
def _leaky_relu(x, y, slope):
    for k in range(x.size):
        v = x[k]
        y[k] = v if v > 0 else v * slope


@njit
def _leaky_relu_grad(x, gy, gx, slope):
    for k in range(x.size):
        g = gy[k]
        gx[k] = g if x[k] > 0 else g * slope


def leaky_relu(x: np.ndarray, slope: float, out: np.ndarray | None = None) -> np.ndarray:
    """y = x where x > 0, else slope * x. ``slope = 0`` gives ReLU."""
    dtype, (xc,) = check_inputs("leaky_relu", channels_last=True, x=x)
    check_out("leaky_relu", out, x.shape, dtype)
    y = result_array(out, xc)
    blockwise(_leaky_relu, (flat(xc), flat(y)), dtype.type(slope))
    return into(out, y)


def leaky_relu_grad(x: np.ndarray, gy: np.ndarray, slope: float,
                    out: np.ndarray | None = None) -> np.ndarray:
    """gx = gy where x > 0, else slope * gy."""
    if x.shape != gy.shape:
        raise ValueError(f"leaky_relu_grad: x has shape {x.shape} but gy has shape {gy.shape}")
    dtype, (xc, gyc) = check_inputs("leaky_relu_grad", channels_last=True, x=x, gy=gy)
    check_out("leaky_relu_grad", out, x.shape, dtype)
    gx = result_array(out, xc)
    blockwise(_leaky_relu_grad, (flat(xc), flat(like(gyc, xc)), flat(gx)), dtype.type(slope))
    return into(out, gx)
