"""Portable kernels: one array-module-generic implementation (NumPy calls on NumPy arrays,
the same calls on CuPy arrays) that every backend without a specialised version shares.

``scratchgan_kernels.get(name, backend)`` falls back to these. On NumPy arrays they *are*
the reference (plain NumPy, the oracle the ``cuda`` kernels are tested against); the
``cuda`` backend has its own fused CUDA versions.

    matmul(a, b, out=None)                  a @ b, leading axes broadcast as batches
    bias_add(x, b, out=None)                y[n, c, ...] = x[n, c, ...] + b[c]
    bce_with_logits(x, t, out=None)         max(x, 0) - x t + log1p(exp(-|x|))
    bce_with_logits_grad(x, t, gy, out=None) gy (sigmoid(x) - t), sigmoid(x) = (1 + tanh(x/2)) / 2
    batch_norm_leaky_relu_forward(x, gamma, beta, eps, slope, out=None)
                                            leaky_relu(batch norm of x): its two parts
    batch_norm_leaky_relu_backward(x, gamma, y, gy, eps, slope)
                                            batch norm's backward of leaky_relu_grad(y, gy)

The fused batch norm + leaky ReLU pair is written here as its two parts, run with the
kernels of the arrays' own backend (the reference's for NumPy arrays, so on NumPy arrays
this *is* the reference twin of the numba backend's one-pass kernels; the cuda backend's
for CuPy arrays). The BCE pair broadcasts x, t and gy as NumPy does; the formulas are those the autograd ops
used before they became kernels, operation for operation, so results are unchanged.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np


def _xp(*arrays: Any) -> Any:
    """``cupy`` if one of the arrays is a CuPy array, else ``numpy`` (never imports CuPy)."""
    cp = sys.modules.get("cupy")
    if cp is not None and any(isinstance(a, cp.ndarray) for a in arrays):
        return cp
    return np


def _into(out: Any, y: Any) -> Any:
    if out is None:
        return y
    out[...] = y
    return out


def matmul(a: Any, b: Any, out: Any = None) -> Any:
    """a @ b, leading axes broadcast as batches (NumPy's or CuPy's matmul)."""
    return _xp(a, b).matmul(a, b, out=out)


def bias_add(x: Any, b: Any, out: Any = None) -> Any:
    """y[n, c, ...] = x[n, c, ...] + b[c] for x (N, C, *spatial) and b (C,); ``out`` may be x."""
    if x.ndim < 2 or tuple(b.shape) != (x.shape[1],):
        raise ValueError(f"bias_add: x must be (N, C, ...) and b (C,), got x of shape "
                         f"{tuple(x.shape)} and b of shape {tuple(b.shape)}")
    xp = _xp(x, b)
    return xp.add(x, b.reshape((1, -1) + (1,) * (x.ndim - 2)), out=out)


def bce_with_logits(x: Any, t: Any, out: Any = None) -> Any:
    """Binary cross-entropy of logits x against targets t, element-wise and broadcast:
    l = max(x, 0) - x t + log1p(exp(-|x|)), finite for logits of any size."""
    xp = _xp(x, t)
    return _into(out, xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x))))


def bce_with_logits_grad(x: Any, t: Any, gy: Any, out: Any = None) -> Any:
    """gx = gy * (sigmoid(x) - t) with sigmoid(x) = (1 + tanh(x / 2)) / 2, broadcast."""
    xp = _xp(x, t, gy)
    half = x.dtype.type(0.5)
    s = half * (xp.tanh(half * x) + 1)
    return _into(out, gy * (s - t))


def _own(name: str, x: Any) -> Any:
    """Kernel ``name`` of the backend x's array type selects: cuda for CuPy, else the reference."""
    import scratchgan_kernels
    return scratchgan_kernels.get(name, "numpy" if _xp(x) is np else "cuda")


def batch_norm_leaky_relu_forward(x: Any, gamma: Any, beta: Any, eps: float, slope: float,
                                  out: Any = None) -> tuple[Any, Any, Any]:
    """(y, mean, var) with y = leaky_relu(batch_norm(x), slope): batch norm, then the
    activation in place."""
    y, mean, var = _own("batch_norm_forward", x)(x, gamma, beta, eps, out=out)
    return _own("leaky_relu", x)(y, slope, out=y), mean, var


def batch_norm_leaky_relu_backward(x: Any, gamma: Any, y: Any, gy: Any, eps: float,
                                   slope: float) -> tuple[Any, Any, Any]:
    """(gx, ggamma, gbeta) of y = leaky_relu(batch_norm(x), slope): the activation's mask
    (y > 0 exactly where batch norm's output is) on gy, then batch norm's backward."""
    g = _own("leaky_relu_grad", x)(y, gy, slope)
    return _own("batch_norm_backward", x)(x, gamma, g, eps)


KERNELS = {
    "matmul": matmul,
    "bias_add": bias_add,
    "bce_with_logits": bce_with_logits,
    "bce_with_logits_grad": bce_with_logits_grad,
    "batch_norm_leaky_relu_forward": batch_norm_leaky_relu_forward,
    "batch_norm_leaky_relu_backward": batch_norm_leaky_relu_backward,
}
