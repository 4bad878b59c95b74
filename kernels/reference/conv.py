"""2-D convolution, transposed convolution and the weight gradient, in plain NumPy.

Shape letters and output sizes are those of ``scratchgan_kernels.shapes``:
N batch, C input channels, OC output channels, H W input size, KH KW kernel,
SH SW stride, PH PW zero padding, OPH OPW output padding, OH OW output size.

Every kernel goes through one patch matrix, the *columns* of an input:

    im2col(x)[n, c, i, j, oh, ow] = xpad[n, c, oh * SH + i, ow * SW + j]

with xpad the input zero-padded by PH rows and PW columns on each side. Column
layout: a C-contiguous array of shape (N, C, KH, KW, OH, OW), i.e. for each
image a (C*KH*KW, OH*OW) matrix once the axes are merged (a free reshape); a
column is one receptive field, a row one (channel, kernel offset) pair.
``col2im`` is the adjoint: it scatters the columns back, adding the entries that
land on the same input pixel, and drops the padding.

With the columns, every op is one matrix product (BLAS):

    conv2d:              y[n]  = W(OC, C*KH*KW) @ cols(x)[n]         (C*KH*KW, OH*OW)
    conv_transpose2d:    y     = col2im(W(C, OC*KH*KW)^T @ x[n])      (the adjoint of conv2d)
    conv2d_grad_weight:  gW    = sum_n gy[n](OC, OH*OW) @ cols(x)[n]^T

conv_transpose2d(x, W) is the gradient of conv2d with respect to its input:
<conv2d(u, W), v> = <u, conv_transpose2d(v, W)> for all u, v of matching shapes,
where the output padding (0 <= OPH < SH) picks which of the SH input sizes that
give the same conv2d output size is meant.

The weight layouts are PyTorch's: conv2d W is (OC, C, KH, KW), conv_transpose2d
W is (C, OC, KH, KW) with C the channels of its input. No bias: the ops add it.
Dtypes are preserved (float32 in, float32 out); inputs must share one dtype.
The ``check_*`` functions validate shapes only, so other backends and the
autograd ops can raise the same messages before any array work.
"""
from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from scratchgan_kernels.shapes import conv_output_size, conv_transpose_output_size, pair

Pair = tuple[int, int]
Shape4 = tuple[int, int, int, int]


# -- argument checks (shapes only) -------------------------------------------

def as_pair(v: Any, what: str, op: str, lo: int = 0) -> Pair:
    """``v`` (an int or a pair of ints) as a pair of ints >= lo, or a ValueError naming ``op``:
    ``as_pair(stride, "stride", "conv2d", 1)``."""
    if isinstance(v, Integral):
        v = int(v)
    elif isinstance(v, (tuple, list)):
        v = tuple(int(a) if isinstance(a, Integral) else a for a in v)
    try:
        p = pair(v, what)
    except (TypeError, ValueError):
        p = None
    if p is None or min(p) < lo:
        kind = "positive" if lo >= 1 else "non-negative"
        raise ValueError(f"{op}: {what} must be a {kind} int or a pair of them, got {v!r}")
    return p


def _check_4d(op: str, what: str, shape: tuple[int, ...], letters: str) -> None:
    if len(shape) != 4:
        raise ValueError(f"{op}: {what} must have 4 dimensions {letters}, got shape {tuple(shape)}")


def check_conv2d(x_shape: tuple[int, ...], W_shape: tuple[int, ...], stride: Any, padding: Any,
                 op: str = "conv2d") -> tuple[Pair, Pair, Pair]:
    """Validate conv2d arguments; return ((SH, SW), (PH, PW), (OH, OW)).

    x_shape (N, C, H, W) and W_shape (OC, C, KH, KW).
    """
    _check_4d(op, "x", x_shape, "(N, C, H, W)")
    _check_4d(op, "W", W_shape, "(OC, C, KH, KW)")
    if x_shape[1] != W_shape[1]:
        raise ValueError(f"{op}: x has {x_shape[1]} channels but W expects {W_shape[1]} "
                         f"(x shape (N, C, H, W) = {tuple(x_shape)}, "
                         f"W shape (OC, C, KH, KW) = {tuple(W_shape)})")
    (SH, SW), (PH, PW) = as_pair(stride, "stride", op, 1), as_pair(padding, "padding", op, 0)
    out = _conv_out(op, x_shape, W_shape[2:], (SH, SW), (PH, PW))
    return (SH, SW), (PH, PW), out


def _conv_out(op: str, x_shape: tuple[int, ...], kernel: tuple[int, ...], stride: Pair,
              padding: Pair) -> Pair:
    """(OH, OW) of a convolution, or a ValueError if the kernel does not fit."""
    (H, W), (KH, KW), (PH, PW) = x_shape[2:], kernel, padding
    if KH < 1 or KW < 1:
        raise ValueError(f"{op}: kernel size (KH, KW) = {(KH, KW)} must be positive")
    if H + 2 * PH < KH or W + 2 * PW < KW:
        raise ValueError(f"{op}: kernel (KH, KW) = {(KH, KW)} is larger than the padded input "
                         f"(H + 2PH, W + 2PW) = {(H + 2 * PH, W + 2 * PW)} "
                         f"(x shape {tuple(x_shape)}, padding {padding}): "
                         f"the output size would not be positive")
    return (conv_output_size(H, KH, stride[0], PH), conv_output_size(W, KW, stride[1], PW))


def check_conv_transpose2d(x_shape: tuple[int, ...], W_shape: tuple[int, ...], stride: Any,
                           padding: Any, output_padding: Any, op: str = "conv_transpose2d"
                           ) -> tuple[Pair, Pair, Pair, Pair]:
    """Validate conv_transpose2d arguments; return (stride, padding, output_padding, (OH, OW)).

    x_shape (N, C, H, W) and W_shape (C, OC, KH, KW).
    """
    _check_4d(op, "x", x_shape, "(N, C, H, W)")
    _check_4d(op, "W", W_shape, "(C, OC, KH, KW)")
    if x_shape[1] != W_shape[0]:
        raise ValueError(f"{op}: x has {x_shape[1]} channels but W expects {W_shape[0]} "
                         f"(x shape (N, C, H, W) = {tuple(x_shape)}, "
                         f"W shape (C, OC, KH, KW) = {tuple(W_shape)})")
    stride = as_pair(stride, "stride", op, 1)
    padding = as_pair(padding, "padding", op, 0)
    output_padding = as_pair(output_padding, "output_padding", op, 0)
    if output_padding[0] >= stride[0] or output_padding[1] >= stride[1]:
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                         f"stride {stride} in each dimension")
    KH, KW = W_shape[2:]
    if KH < 1 or KW < 1:
        raise ValueError(f"{op}: kernel size (KH, KW) = {(KH, KW)} must be positive")
    out = tuple(conv_transpose_output_size(n, k, s, p, o) for n, k, s, p, o in
                zip(x_shape[2:], (KH, KW), stride, padding, output_padding))
    if min(out) < 1:
        raise ValueError(f"{op}: output size (OH, OW) = {out} is not positive for x of shape "
                         f"{tuple(x_shape)}, kernel {(KH, KW)}, stride {stride}, padding "
                         f"{padding}, output_padding {output_padding} "
                         f"(OH = (H - 1) SH - 2 PH + KH + OPH)")
    return stride, padding, output_padding, out


def check_conv2d_grad_weight(x_shape: tuple[int, ...], gy_shape: tuple[int, ...],
                             kernel_size: Any, stride: Any, padding: Any,
                             op: str = "conv2d_grad_weight") -> tuple[Pair, Pair, Pair]:
    """Validate conv2d_grad_weight arguments; return ((KH, KW), stride, padding).

    x_shape (N, C, H, W) and gy_shape (N, OC, OH, OW), OH and OW those of conv2d.
    """
    _check_4d(op, "x", x_shape, "(N, C, H, W)")
    _check_4d(op, "gy", gy_shape, "(N, OC, OH, OW)")
    kernel = as_pair(kernel_size, "kernel_size", op, 1)
    stride = as_pair(stride, "stride", op, 1)
    padding = as_pair(padding, "padding", op, 0)
    out = _conv_out(op, x_shape, kernel, stride, padding)
    if gy_shape[0] != x_shape[0] or tuple(gy_shape[2:]) != out:
        raise ValueError(f"{op}: gy has shape {tuple(gy_shape)} but a {kernel} kernel with "
                         f"stride {stride} and padding {padding} on x of shape {tuple(x_shape)} "
                         f"gives an output of shape (N, OC, OH, OW) = "
                         f"({x_shape[0]}, OC, {out[0]}, {out[1]})")
    return kernel, stride, padding


def _check_dtypes(op: str, **arrays: np.ndarray) -> np.dtype:
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} is {d}" for name, d in dtypes.items())
        raise TypeError(f"{op}: inputs must share one dtype, but {listed}; cast one first")
    return next(iter(dtypes.values()))


def _check_out(op: str, out: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if out is None:
        return
    if out.shape != tuple(shape) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"{op}: out must be a C-contiguous {dtype} array of shape "
                         f"{tuple(shape)}, got {out.dtype} {out.shape}"
                         f"{'' if out.flags.c_contiguous else ' (not contiguous)'}")


# -- columns -----------------------------------------------------------------

def im2col(x: np.ndarray, KH: int, KW: int, SH: int, SW: int, PH: int, PW: int,
           out: np.ndarray | None = None) -> np.ndarray:
    """The receptive fields of x as columns.

    Shapes: x (N, C, H, W) -> cols (N, C, KH, KW, OH, OW), with
    cols[n, c, i, j, oh, ow] = x[n, c, oh*SH + i - PH, ow*SW + j - PW] (0 outside x)
    and OH, OW = conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW).
    """
    _check_4d("im2col", "x", x.shape, "(N, C, H, W)")
    SH, SW = as_pair((SH, SW), "stride", "im2col", 1)
    PH, PW = as_pair((PH, PW), "padding", "im2col", 0)
    OH, OW = _conv_out("im2col", x.shape, (KH, KW), (SH, SW), (PH, PW))
    N, C = x.shape[:2]
    _check_out("im2col", out, (N, C, KH, KW, OH, OW), x.dtype)
    xpad = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW))) if PH or PW else x
    cols = np.empty((N, C, KH, KW, OH, OW), x.dtype) if out is None else out
    for i in range(KH):
        for j in range(KW):
            cols[:, :, i, j] = xpad[:, :, i:i + SH * OH:SH, j:j + SW * OW:SW]
    return cols


def col2im(cols: np.ndarray, x_shape: tuple[int, ...], KH: int, KW: int, SH: int, SW: int,
           PH: int, PW: int, out: np.ndarray | None = None) -> np.ndarray:
    """The adjoint of im2col: scatter-add the columns back onto an image of ``x_shape``.

    Shapes: cols (N, C, KH, KW, OH, OW) -> x (N, C, H, W) = x_shape, OH and OW as in
    im2col. Entries that land on the same pixel (overlapping windows) add up;
    entries that land on the padding are dropped.
    """
    x_shape = tuple(int(d) for d in x_shape)
    _check_4d("col2im", "x_shape", x_shape, "(N, C, H, W)")
    SH, SW = as_pair((SH, SW), "stride", "col2im", 1)
    PH, PW = as_pair((PH, PW), "padding", "col2im", 0)
    OH, OW = _conv_out("col2im", x_shape, (KH, KW), (SH, SW), (PH, PW))
    N, C, H, W = x_shape
    if cols.shape != (N, C, KH, KW, OH, OW):
        raise ValueError(f"col2im: cols has shape {cols.shape}, expected (N, C, KH, KW, OH, OW) "
                         f"= {(N, C, KH, KW, OH, OW)} for x_shape {x_shape}, kernel {(KH, KW)}, "
                         f"stride {(SH, SW)}, padding {(PH, PW)}")
    _check_out("col2im", out, x_shape, cols.dtype)
    unpadded = PH == 0 and PW == 0
    if unpadded and out is not None:   # accumulate straight into out
        xpad = out
        xpad[...] = 0
    else:
        xpad = np.zeros((N, C, H + 2 * PH, W + 2 * PW), cols.dtype)
    for i in range(KH):
        for j in range(KW):
            xpad[:, :, i:i + SH * OH:SH, j:j + SW * OW:SW] += cols[:, :, i, j]
    if unpadded:
        return xpad
    x = xpad[:, :, PH:PH + H, PW:PW + W]
    if out is not None:
        out[...] = x
        return out
    return np.ascontiguousarray(x)


# -- the three ops -------------------------------------------------------------

def conv2d(x: np.ndarray, W: np.ndarray, stride: Any = 1, padding: Any = 0,
           out: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation, no bias: y[n, o, oh, ow] = sum_{c,i,j} W[o, c, i, j] *
    x[n, c, oh*SH + i - PH, ow*SW + j - PW].

    Shapes: x (N, C, H, W), W (OC, C, KH, KW) -> y (N, OC, OH, OW),
    OH = (H + 2 PH - KH) // SH + 1 (and likewise OW).
    """
    (SH, SW), (PH, PW), (OH, OW) = check_conv2d(x.shape, W.shape, stride, padding)
    dtype = _check_dtypes("conv2d", x=x, W=W)
    (N, C), (OC, _, KH, KW) = x.shape[:2], W.shape
    _check_out("conv2d", out, (N, OC, OH, OW), dtype)
    cols = im2col(x, KH, KW, SH, SW, PH, PW).reshape(N, C * KH * KW, OH * OW)
    y = np.empty((N, OC, OH, OW), dtype) if out is None else out
    np.matmul(W.reshape(OC, C * KH * KW), cols, out=y.reshape(N, OC, OH * OW))  # a view of y
    return y


def conv_transpose2d(x: np.ndarray, W: np.ndarray, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, out: np.ndarray | None = None) -> np.ndarray:
    """Transposed convolution, no bias: the adjoint of u -> conv2d(u, W) applied to x,
    y[n, o, h*SH + i - PH, w*SW + j - PW] += sum_c W[c, o, i, j] * x[n, c, h, w].

    Shapes: x (N, C, H, W), W (C, OC, KH, KW) -> y (N, OC, OH, OW),
    OH = (H - 1) SH - 2 PH + KH + OPH with 0 <= OPH < SH (and likewise OW).
    """
    (SH, SW), (PH, PW), _, (OH, OW) = check_conv_transpose2d(
        x.shape, W.shape, stride, padding, output_padding)
    _check_dtypes("conv_transpose2d", x=x, W=W)
    (N, C, H, Wd), (OC, KH, KW) = x.shape, W.shape[1:]
    cols = np.matmul(W.reshape(C, OC * KH * KW).T, x.reshape(N, C, H * Wd))  # (N, OC*KH*KW, H*W)
    return col2im(cols.reshape(N, OC, KH, KW, H, Wd), (N, OC, OH, OW), KH, KW, SH, SW, PH, PW,
                  out=out)


def conv2d_grad_weight(x: np.ndarray, gy: np.ndarray, kernel_size: Any, stride: Any = 1,
                       padding: Any = 0, out: np.ndarray | None = None) -> np.ndarray:
    """The weight gradient of conv2d: gW[o, c, i, j] = sum_{n,oh,ow} gy[n, o, oh, ow] *
    x[n, c, oh*SH + i - PH, ow*SW + j - PW].

    Shapes: x (N, C, H, W), gy (N, OC, OH, OW) (conv2d's output shape) -> gW (OC, C, KH, KW).
    """
    (KH, KW), (SH, SW), (PH, PW) = check_conv2d_grad_weight(
        x.shape, gy.shape, kernel_size, stride, padding)
    dtype = _check_dtypes("conv2d_grad_weight", x=x, gy=gy)
    (N, C), (OC, OH, OW) = x.shape[:2], gy.shape[1:]
    _check_out("conv2d_grad_weight", out, (OC, C, KH, KW), dtype)
    cols = im2col(x, KH, KW, SH, SW, PH, PW).reshape(N, C * KH * KW, OH * OW)
    gW = np.tensordot(gy.reshape(N, OC, OH * OW), cols, axes=([0, 2], [0, 2]))  # (OC, C*KH*KW)
    gW = gW.reshape(OC, C, KH, KW)
    if out is not None:
        out[...] = gW
        return out
    return gW
