"""Matrix products: matmul and the dense layer's linear map y = x W^T + b."""
from __future__ import annotations

from typing import Any

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import kernel
from scratchgan.functions.array import reshape, sum, sum_to, transpose


def _swap_last(x: Tensor) -> Tensor:
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes)


class MatMul(Function):
    """Matrix product: y = x0 @ x1 (leading axes broadcast as batches).

    Shapes:    x0: (..., n, k); x1: (..., k, m); y: (..., n, m)
    Gradients: gx0 = sum_to(gy @ x1^T, x0.shape); gx1 = sum_to(x0^T @ gy, x1.shape)
               (^T swaps the last two axes)
    Double:    bilinear, like mul
    """

    def forward(self, x0, x1):
        if x0.ndim < 2 or x1.ndim < 2:
            raise ValueError(f"matmul needs arrays of 2 or more dimensions, got shapes "
                             f"{x0.shape} and {x1.shape}")
        if x0.shape[-1] != x1.shape[-2]:
            raise ValueError(f"matmul: inner dimensions differ: {x0.shape} @ {x1.shape}")
        if x0.shape[-1] == 1:   # an outer product: the same values, and BLAS is 10x slower
            return x0 * x1      # at an inner dimension of 1 (the D.fc input gradient)
        return kernel("matmul", x0)(x0, x1)

    def backward(self, gy):
        x0, x1 = self.inputs
        return (sum_to(matmul(gy, _swap_last(x1)), x0.shape),
                sum_to(matmul(_swap_last(x0), gy), x1.shape))


class Linear(Function):
    """Dense map: y = x W^T + b.

    Shapes:    x: (N, I); W: (O, I); b: (O,) or absent; y: (N, O)
    Gradients: gx = gy @ W; gW = gy^T @ x; gb = sum(gy, axis=0)
    Double:    bilinear in (x, W), like matmul; b enters linearly
    """

    saved_inputs = (0, 1)  # x and W, not b

    def forward(self, x, W, b=None):
        if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[1]:
            raise ValueError(f"linear: x of shape {x.shape} needs W of shape (O, {x.shape[-1]}), "
                             f"got {W.shape}")
        if b is not None and b.shape != (W.shape[0],):
            raise ValueError(f"linear: bias has shape {b.shape}, expected ({W.shape[0]},)")
        y = kernel("matmul", x)(x, W.T)
        if b is not None:
            y += b              # y is a fresh array
        return y

    def backward(self, gy):
        x, W = self.inputs[:2]
        gx = matmul(gy, W) if self.needs_input_grad[0] else None
        gW = matmul(transpose(gy), x) if self.needs_input_grad[1] else None
        if len(self.inputs) == 2:
            return gx, gW
        return gx, gW, sum(gy, axis=0) if self.needs_input_grad[2] else None


def matmul(x0: Any, x1: Any) -> Tensor:
    return MatMul()(x0, x1)


def linear(x: Any, W: Any, b: Any = None) -> Tensor:
    """y = x W^T + b over the last axis of x (leading axes are flattened and restored)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    args = (W,) if b is None else (W, b)
    if x.ndim == 2:
        return Linear()(x, *args)
    if x.ndim < 1:
        raise ValueError("linear needs an input with at least one dimension")
    y = Linear()(reshape(x, (-1, x.shape[-1]) if x.size else (0, x.shape[-1])), *args)
    return reshape(y, x.shape[:-1] + (y.shape[-1],))
