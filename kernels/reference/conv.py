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
Argument checks live in ``scratchgan_kernels.shapes`` (and ``checks`` for ``out=``), so
every backend and the autograd ops raise the same messages before any array work.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan_kernels.checks import check_out_layout
from scratchgan_kernels.shapes import (check_col2im, check_conv2d, check_conv2d_grad_weight,
                                       check_conv_transpose2d, check_im2col, check_same_dtype)

Pair = tuple[int, int]


# -- columns -----------------------------------------------------------------

def im2col(x: np.ndarray, KH: int, KW: int, SH: int, SW: int, PH: int, PW: int,
           out: np.ndarray | None = None) -> np.ndarray:
    """The receptive fields of x as columns.

    Shapes: x (N, C, H, W) -> cols (N, C, KH, KW, OH, OW), with
    cols[n, c, i, j, oh, ow] = x[n, c, oh*SH + i - PH, ow*SW + j - PW] (0 outside x)
    and OH, OW = conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW).
    """
    SH, SW, PH, PW, OH, OW = check_im2col(x.shape, KH, KW, SH, SW, PH, PW)
    N, C = x.shape[:2]
    check_out_layout("im2col", out, (N, C, KH, KW, OH, OW), x.dtype)
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
    SH, SW, PH, PW, OH, OW = check_col2im(cols.shape, x_shape, KH, KW, SH, SW, PH, PW)
    N, C, H, W = x_shape
    check_out_layout("col2im", out, x_shape, cols.dtype)
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
    dtype = check_same_dtype("conv2d", x=x, W=W)
    (N, C), (OC, _, KH, KW) = x.shape[:2], W.shape
    check_out_layout("conv2d", out, (N, OC, OH, OW), dtype)
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
    check_same_dtype("conv_transpose2d", x=x, W=W)
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
    dtype = check_same_dtype("conv2d_grad_weight", x=x, gy=gy)
    (N, C), (OC, OH, OW) = x.shape[:2], gy.shape[1:]
    check_out_layout("conv2d_grad_weight", out, (OC, C, KH, KW), dtype)
    cols = im2col(x, KH, KW, SH, SW, PH, PW).reshape(N, C * KH * KW, OH * OW)
    gW = np.tensordot(gy.reshape(N, OC, OH * OW), cols, axes=([0, 2], [0, 2]))  # (OC, C*KH*KW)
    gW = gW.reshape(OC, C, KH, KW)
    if out is not None:
        out[...] = gW
        return out
    return gW
