"""The ``cuda`` backend's kernels: CuPy wrappers with the reference's names, signatures and
return conventions, around the CUDA C of the ``.cu`` files (``loader``) and cuBLAS.

Imported only once CuPy and a GPU are known to be there (``scratchgan_kernels.cuda``
checks first). Argument policy, as the numba backend's: shapes are checked first with the
shared checks (``scratchgan_kernels.shapes``, the reference's own), so the messages are the
reference's; then the arrays, with the checks of ``scratchgan_kernels.checks`` for CuPy
arrays: float32 or float64, all of one dtype (``TypeError`` otherwise); arrays that are
only read may have any strides (a strided one is copied to C order once, on the device);
arrays that are written (``out=``, and ``param``, ``m``, ``v`` of ``adam_update``) must be
C-contiguous, else a ``ValueError``.

Per kernel:
    leaky_relu, leaky_relu_grad   one element-wise launch (``out`` may be the input)
    bias_add                      one launch: y[n, c, ...] = x[n, c, ...] + b[c]
    bce_with_logits(_grad)        one launch; a one-value target or upstream gradient is
                                  read with stride 0, other broadcasts are materialised
    batch_norm_*                  one launch each: a block per channel (spatial size > 1)
                                  or a thread per channel ((N, C) input); one-pass Welford
                                  statistics, the backward's two sums fused
    im2col, col2im                the reference's (N, C, KH, KW, OH, OW) columns
    conv2d                        im2col into one (C KH KW, N OH OW) matrix, one cuBLAS
                                  GEMM with W as (OC, C KH KW), one transposing copy to NCHW
    conv_transpose2d              one GEMM W^T (OC KH KW, C) x (C, N H W), then col2im
                                  (a gather: no atomics, deterministic)
    conv2d_grad_weight            im2col as for conv2d, one GEMM gy (OC, N OH OW) x cols^T
    adam_update                   one fused in-place launch

im2col + GEMM was chosen over an implicit-GEMM convolution without measuring (no GPU was
available when this backend was written); see the README's GPU section.

Matrix products go through ``cupy.matmul`` on 2-D operands (cuBLAS GEMM, which honours
the TF32 setting of ``set_tf32``). No kernel synchronises with the host.
"""
from __future__ import annotations

from math import prod
from typing import Any

import cupy as cp
import numpy as np

from scratchgan_kernels.checks import ArrayKind
from scratchgan_kernels.cuda import loader
from scratchgan_kernels.reference.batchnorm import _check as _check_batch_norm
from scratchgan_kernels.shapes import (check_col2im, check_conv2d, check_conv2d_grad_weight,
                                       check_conv_transpose2d, check_im2col)

_i32 = np.int32


# -- argument checks ----------------------------------------------------------------------

#: The arrays these kernels take, and the checks of them.
_ARRAYS = ArrayKind("CuPy", cp.ndarray, tuple(loader.DTYPES),
                    "the cuda kernels take float32 or float64 arrays (cast it first)",
                    cp.ascontiguousarray)
_inputs, _check_out = _ARRAYS.check_inputs, _ARRAYS.check_out


def _fresh(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    return cp.empty(shape, dtype) if out is None else out


# -- element-wise -------------------------------------------------------------------------

def leaky_relu(x: Any, slope: float, out: Any = None) -> Any:
    """y = x where x > 0, else slope * x. ``slope = 0`` gives ReLU."""
    dtype, (xc,) = _inputs("leaky_relu", x=x)
    _check_out("leaky_relu", out, x.shape, dtype)
    loader.check_int32("leaky_relu", x.size)
    y = _fresh(out, x.shape, dtype)
    loader.launch("elementwise", "leaky_relu_fwd", dtype, x.size,
                  (xc, y, dtype.type(slope), _i32(x.size)))
    return y


def leaky_relu_grad(x: Any, gy: Any, slope: float, out: Any = None) -> Any:
    """gx = gy where x > 0, else slope * gy."""
    if x.shape != gy.shape:
        raise ValueError(f"leaky_relu_grad: x has shape {x.shape} but gy has shape {gy.shape}")
    dtype, (xc, gyc) = _inputs("leaky_relu_grad", x=x, gy=gy)
    _check_out("leaky_relu_grad", out, x.shape, dtype)
    loader.check_int32("leaky_relu_grad", x.size)
    gx = _fresh(out, x.shape, dtype)
    loader.launch("elementwise", "leaky_relu_bwd", dtype, x.size,
                  (xc, gyc, gx, dtype.type(slope), _i32(x.size)))
    return gx


def bias_add(x: Any, b: Any, out: Any = None) -> Any:
    """y[n, c, ...] = x[n, c, ...] + b[c] for x (N, C, *spatial) and b (C,)."""
    if x.ndim < 2 or tuple(b.shape) != (x.shape[1],):
        raise ValueError(f"bias_add: x must be (N, C, ...) and b (C,), got x of shape "
                         f"{tuple(x.shape)} and b of shape {tuple(b.shape)}")
    dtype, (xc, bc) = _inputs("bias_add", x=x, b=b)
    _check_out("bias_add", out, x.shape, dtype)
    loader.check_int32("bias_add", x.size)
    y = _fresh(out, x.shape, dtype)
    L = prod(x.shape[2:])
    loader.launch("elementwise", "bias_add", dtype, x.size,
                  (xc, bc, y, _i32(x.shape[1]), _i32(L), _i32(x.size)))
    return y


def _broadcast_operand(a: Any, shape: tuple[int, ...]) -> tuple[Any, int]:
    """(array, step) for a kernel that reads ``a[i * step]`` over ``shape``: a one-value
    array with step 0, else ``a`` broadcast to ``shape`` and made C-contiguous, step 1."""
    if a.size == 1:
        return a.reshape(1), 0
    if a.shape != shape:
        a = cp.broadcast_to(a, shape)
    return cp.ascontiguousarray(a), 1


def _broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"{op}: shapes {', '.join(map(str, shapes))} do not "
                         f"broadcast") from None


def bce_with_logits(x: Any, t: Any, out: Any = None) -> Any:
    """l = max(x, 0) - x t + log1p(exp(-|x|)), element-wise in the broadcast shape of x
    and the target t: binary cross-entropy of logits, finite for any x."""
    shape = _broadcast_shape("bce_with_logits", x.shape, t.shape)
    dtype, (xc, tc) = _inputs("bce_with_logits", x=x, t=t)
    _check_out("bce_with_logits", out, shape, dtype)
    n = prod(shape)
    loader.check_int32("bce_with_logits", n)
    xc = xc if xc.shape == shape else cp.ascontiguousarray(cp.broadcast_to(xc, shape))
    tc, t_step = _broadcast_operand(tc, shape)
    y = _fresh(out, shape, dtype)
    loader.launch("elementwise", "bce_with_logits_fwd", dtype, n,
                  (xc, tc, y, _i32(t_step), _i32(n)))
    return y


def bce_with_logits_grad(x: Any, t: Any, gy: Any, out: Any = None) -> Any:
    """gx = gy * (sigmoid(x) - t), in the broadcast shape of x, t and gy."""
    shape = _broadcast_shape("bce_with_logits_grad", x.shape, t.shape, gy.shape)
    dtype, (xc, tc, gyc) = _inputs("bce_with_logits_grad", x=x, t=t, gy=gy)
    _check_out("bce_with_logits_grad", out, shape, dtype)
    n = prod(shape)
    loader.check_int32("bce_with_logits_grad", n)
    xc = xc if xc.shape == shape else cp.ascontiguousarray(cp.broadcast_to(xc, shape))
    tc, t_step = _broadcast_operand(tc, shape)
    gyc, gy_step = _broadcast_operand(gyc, shape)
    gx = _fresh(out, shape, dtype)
    loader.launch("elementwise", "bce_with_logits_bwd", dtype, n,
                  (xc, tc, gyc, gx, _i32(t_step), _i32(gy_step), _i32(n)))
    return gx


# -- batch norm ---------------------------------------------------------------------------

def _bn_layout(x: Any) -> tuple[int, int, int]:
    N, C = x.shape[:2]
    return N, C, prod(x.shape[2:])


def _bn_threads(count: int) -> int:
    """Threads of a per-channel block: about 4 values per thread, 32 to 512 threads."""
    return int(min(512, max(32, -(-(count // 4) // 32) * 32)))


def _bn_launch(kind: str, dtype: np.dtype, N: int, C: int, L: int, arrays: tuple,
               scalars: tuple = ()) -> None:
    """bn_<kind>_cols (a thread per channel) for (N, C) input, else bn_<kind>_block (a
    block per channel)."""
    if L == 1:
        loader.launch("batchnorm", f"bn_{kind}_cols", dtype, C,
                      (*arrays, _i32(N), _i32(C), *scalars))
    else:
        loader.launch_blocks("batchnorm", f"bn_{kind}_block", dtype, C, _bn_threads(N * L),
                             (*arrays, _i32(N), _i32(C), _i32(L), *scalars))


def batch_norm_stats(x: Any) -> tuple[Any, Any]:
    """Per-channel mean and biased variance of x (N, C, ...): two arrays of shape (C,)."""
    if getattr(x, "ndim", 0) < 2:
        raise ValueError(f"batch norm needs x of shape (N, C, ...), got {getattr(x, 'shape', x)}")
    dtype, (xc,) = _inputs("batch_norm_stats", x=x)
    loader.check_int32("batch_norm_stats", x.size)
    N, C, L = _bn_layout(x)
    mean, var = cp.empty(C, dtype), cp.empty(C, dtype)
    if x.size == 0:
        mean.fill(np.nan)
        var.fill(np.nan)
        return mean, var
    _bn_launch("stats", dtype, N, C, L, (xc, mean, var))
    return mean, var


def batch_norm_forward(x: Any, gamma: Any, beta: Any, eps: float, out: Any = None
                       ) -> tuple[Any, Any, Any]:
    """(y, mean, var): y normalized with the batch statistics, then scaled and shifted.
    ``out`` may be ``x`` itself."""
    _check_batch_norm(x, gamma)
    if tuple(beta.shape) != tuple(gamma.shape):
        raise ValueError(f"batch norm: beta has shape {tuple(beta.shape)}, expected "
                         f"{tuple(gamma.shape)}")
    dtype, (xc, gc, bc) = _inputs("batch_norm_forward", x=x, gamma=gamma, beta=beta)
    _check_out("batch_norm_forward", out, x.shape, dtype)
    loader.check_int32("batch_norm_forward", x.size)
    N, C, L = _bn_layout(x)
    y = _fresh(out, x.shape, dtype)
    mean, var = cp.empty(C, dtype), cp.empty(C, dtype)
    if x.size == 0:
        mean.fill(np.nan)
        var.fill(np.nan)
        return y, mean, var
    _bn_launch("forward", dtype, N, C, L, (xc, gc, bc, y, mean, var), (dtype.type(eps),))
    return y, mean, var


def batch_norm_backward(x: Any, gamma: Any, gy: Any, eps: float) -> tuple[Any, Any, Any]:
    """(gx, ggamma, gbeta) of training-mode batch norm (statistics differentiated too)."""
    _check_batch_norm(x, gamma)
    if gy.shape != x.shape:
        raise ValueError(f"batch norm backward: gy has shape {gy.shape}, x has {x.shape}")
    dtype, (xc, gc, gyc) = _inputs("batch_norm_backward", x=x, gamma=gamma, gy=gy)
    loader.check_int32("batch_norm_backward", x.size)
    N, C, L = _bn_layout(x)
    gx = cp.empty(x.shape, dtype)
    ggamma, gbeta = cp.empty(C, dtype), cp.empty(C, dtype)
    if x.size == 0:
        ggamma.fill(0)
        gbeta.fill(0)
        return gx, ggamma, gbeta
    _bn_launch("backward", dtype, N, C, L, (xc, gc, gyc, gx, ggamma, gbeta),
               (dtype.type(eps),))
    return gx, ggamma, gbeta


# -- columns and convolutions -------------------------------------------------------------

def _im2col(x: Any, cols: Any, KH: int, KW: int, SH: int, SW: int, PH: int, PW: int,
            OH: int, OW: int, sN: int, sK: int) -> None:
    N, C, H, W = x.shape
    loader.check_int32("im2col", cols.size, x.size)
    loader.launch("conv", "im2col", x.dtype, cols.size,
                  (x, cols, *map(_i32, (N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, sN, sK))))


def _col2im(cols: Any, x: Any, KH: int, KW: int, SH: int, SW: int, PH: int, PW: int,
            OH: int, OW: int, sN: int, sK: int) -> None:
    N, C, H, W = x.shape
    loader.check_int32("col2im", cols.size, x.size)
    loader.launch("conv", "col2im", x.dtype, x.size,
                  (cols, x, *map(_i32, (N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, sN, sK))))


def im2col(x: Any, KH: int, KW: int, SH: int, SW: int, PH: int, PW: int, out: Any = None) -> Any:
    """The receptive fields of x as columns.

    Shapes: x (N, C, H, W) -> cols (N, C, KH, KW, OH, OW), with
    cols[n, c, i, j, oh, ow] = x[n, c, oh*SH + i - PH, ow*SW + j - PW] (0 outside x).
    """
    SH, SW, PH, PW, OH, OW = check_im2col(x.shape, KH, KW, SH, SW, PH, PW)
    dtype, (xc,) = _inputs("im2col", x=x)
    N, C = x.shape[:2]
    shape = (N, C, KH, KW, OH, OW)
    _check_out("im2col", out, shape, dtype)
    cols = _fresh(out, shape, dtype)
    P = OH * OW
    _im2col(xc, cols, KH, KW, SH, SW, PH, PW, OH, OW, C * KH * KW * P, P)
    return cols


def col2im(cols: Any, x_shape: tuple[int, ...], KH: int, KW: int, SH: int, SW: int, PH: int,
           PW: int, out: Any = None) -> Any:
    """The adjoint of im2col: add the columns back onto an image of ``x_shape`` (entries
    that land on the same pixel add up, those on the padding are dropped).

    Shapes: cols (N, C, KH, KW, OH, OW) -> x (N, C, H, W) = x_shape.
    """
    x_shape = tuple(int(d) for d in x_shape)
    SH, SW, PH, PW, OH, OW = check_col2im(cols.shape, x_shape, KH, KW, SH, SW, PH, PW)
    dtype, (cc,) = _inputs("col2im", cols=cols)
    _check_out("col2im", out, x_shape, dtype)
    x = _fresh(out, x_shape, dtype)
    C, P = x_shape[1], OH * OW
    _col2im(cc, x, KH, KW, SH, SW, PH, PW, OH, OW, C * KH * KW * P, P)
    return x


def _channels_first(a: Any) -> Any:
    """(N, C, *rest) -> the C-contiguous (C, N * prod(rest)) matrix (a copy unless N == 1)."""
    N, C = a.shape[:2]
    rest = prod(a.shape[2:])
    if N == 1:
        return a.reshape(C, rest)
    return cp.ascontiguousarray(a.reshape(N, C, rest).transpose(1, 0, 2)).reshape(C, N * rest)


def conv2d(x: Any, W: Any, stride: Any = 1, padding: Any = 0, out: Any = None) -> Any:
    """Cross-correlation, no bias: y[n, o, oh, ow] = sum_{c,i,j} W[o, c, i, j] *
    x[n, c, oh*SH + i - PH, ow*SW + j - PW].

    Shapes: x (N, C, H, W), W (OC, C, KH, KW) -> y (N, OC, OH, OW).
    """
    (SH, SW), (PH, PW), (OH, OW) = check_conv2d(x.shape, W.shape, stride, padding)
    dtype, (x, W) = _inputs("conv2d", x=x, W=W)
    (N, C), (OC, _, KH, KW) = x.shape[:2], W.shape
    _check_out("conv2d", out, (N, OC, OH, OW), dtype)
    K, P = C * KH * KW, OH * OW
    cols = cp.empty((K, N * P), dtype)                      # the GEMM layout
    _im2col(x, cols, KH, KW, SH, SW, PH, PW, OH, OW, P, N * P)
    y = _fresh(out, (N, OC, OH, OW), dtype)
    y2 = cp.matmul(W.reshape(OC, K), cols)                  # (OC, N P)
    if N == 1:
        y.reshape(OC, P)[...] = y2
    else:
        y.reshape(N, OC, P)[...] = y2.reshape(OC, N, P).transpose(1, 0, 2)
    return y


def conv_transpose2d(x: Any, W: Any, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, out: Any = None) -> Any:
    """Transposed convolution, no bias: the adjoint of u -> conv2d(u, W) applied to x.

    Shapes: x (N, C, H, W), W (C, OC, KH, KW) -> y (N, OC, OH, OW),
    OH = (H - 1) SH - 2 PH + KH + OPH with 0 <= OPH < SH (and likewise OW).
    """
    (SH, SW), (PH, PW), _, (OH, OW) = check_conv_transpose2d(
        x.shape, W.shape, stride, padding, output_padding)
    dtype, (x, W) = _inputs("conv_transpose2d", x=x, W=W)
    (N, C, H, Wd), (OC, KH, KW) = x.shape, W.shape[1:]
    _check_out("conv_transpose2d", out, (N, OC, OH, OW), dtype)
    Q = H * Wd
    cols = cp.matmul(W.reshape(C, OC * KH * KW).T, _channels_first(x))    # (OC KH KW, N Q)
    y = _fresh(out, (N, OC, OH, OW), dtype)
    _col2im(cols, y, KH, KW, SH, SW, PH, PW, H, Wd, Q, N * Q)
    return y


def conv2d_grad_weight(x: Any, gy: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                       out: Any = None) -> Any:
    """The weight gradient of conv2d: gW[o, c, i, j] = sum_{n,oh,ow} gy[n, o, oh, ow] *
    x[n, c, oh*SH + i - PH, ow*SW + j - PW].

    Shapes: x (N, C, H, W), gy (N, OC, OH, OW) -> gW (OC, C, KH, KW).
    """
    (KH, KW), (SH, SW), (PH, PW) = check_conv2d_grad_weight(
        x.shape, gy.shape, kernel_size, stride, padding)
    dtype, (x, gy) = _inputs("conv2d_grad_weight", x=x, gy=gy)
    (N, C), (OC, OH, OW) = x.shape[:2], gy.shape[1:]
    _check_out("conv2d_grad_weight", out, (OC, C, KH, KW), dtype)
    K, P = C * KH * KW, OH * OW
    cols = cp.empty((K, N * P), dtype)
    _im2col(x, cols, KH, KW, SH, SW, PH, PW, OH, OW, P, N * P)
    gW = cp.matmul(_channels_first(gy), cols.T).reshape(OC, C, KH, KW)   # (OC, K)
    if out is not None:
        out[...] = gW
        return out
    return gW


# -- optimizer ----------------------------------------------------------------------------

def adam_update(param: Any, grad: Any, m: Any, v: Any, lr: float, beta1: float, beta2: float,
                eps: float, step: int, weight_decay: float = 0.0) -> None:
    """One Adam step (Kingma & Ba 2015), in place on ``param``, ``m`` and ``v``.

    With g = grad + weight_decay * param and t = step >= 1:
        m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
        param <- param - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
    All four arrays share one shape and dtype.
    """
    g = _ARRAYS.check_adam_update(param, grad, m, v, step)
    loader.check_int32("adam_update", param.size)
    t = param.dtype.type
    bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
    loader.launch("optim", "adam", param.dtype, param.size,
                  (param, g, m, v, t(lr / bias1), t(beta1), t(1 - beta1), t(beta2),
                   t(1 - beta2), t(bias2), t(eps), t(weight_decay), _i32(bool(weight_decay)),
                   _i32(param.size)))


# -- settings -----------------------------------------------------------------------------

def set_tf32(enabled: bool) -> None:
    """Let cuBLAS round float32 GEMM inputs to TF32 on tensor cores (``True``) or compute in
    full float32 (``False``, the default). CuPy reads its ``CUPY_TF32`` environment variable
    only once, at the first GEMM, so the setting goes through CuPy's per-dtype compute type
    (``cupy._core._routines_linalg.set_compute_type``), which ``cupy.matmul`` reads on every
    call; GPUs older than compute capability 8.0 ignore TF32 (CuPy warns)."""
    from cupy._core import _routines_linalg as linalg
    linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_TF32 if enabled
                            else linalg.COMPUTE_TYPE_DEFAULT)


KERNELS = {
    "leaky_relu": leaky_relu,
    "leaky_relu_grad": leaky_relu_grad,
    "batch_norm_stats": batch_norm_stats,
    "batch_norm_forward": batch_norm_forward,
    "batch_norm_backward": batch_norm_backward,
    "im2col": im2col,
    "col2im": col2im,
    "conv2d": conv2d,
    "conv_transpose2d": conv_transpose2d,
    "conv2d_grad_weight": conv2d_grad_weight,
    "adam_update": adam_update,
    "bias_add": bias_add,
    "bce_with_logits": bce_with_logits,
    "bce_with_logits_grad": bce_with_logits_grad,
}
