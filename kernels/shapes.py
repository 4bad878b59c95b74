"""Shape letters, output-size formulas and shape checks, defined once for every backend and op.

N batch, C input channels, OC output channels, H W input height and width,
KH KW kernel size, SH SW stride, PH PW zero padding, OPH OPW output padding,
OH OW output height and width.

    conv2d:            OH = (H + 2 PH - KH) // SH + 1
    conv_transpose2d:  OH = (H - 1) SH - 2 PH + KH + OPH,   0 <= OPH < SH
(and the same with W, KW, SW, PW, OPW for widths).
"""
from __future__ import annotations

from numbers import Integral
from typing import Any

Pair = tuple[int, int]


def conv_output_size(size: int, k: int, s: int, p: int) -> int:
    """Output length of a convolution: (size + 2p - k) // s + 1."""
    return (size + 2 * p - k) // s + 1


def conv_transpose_output_size(size: int, k: int, s: int, p: int, op: int = 0) -> int:
    """Output length of a transposed convolution: (size - 1) s - 2p + k + op."""
    return (size - 1) * s - 2 * p + k + op


# -- argument checks (shapes only), shared by every backend and the ops --------

def as_pair(v: Any, what: str, op: str, lo: int = 0) -> Pair:
    """``v`` (an int or a pair of ints) as a pair of ints >= lo, or a ValueError naming ``op``:
    ``as_pair(stride, "stride", "conv2d", 1)``. Booleans and floats are rejected."""
    p = (v, v) if isinstance(v, Integral) else v
    ok = (isinstance(p, (tuple, list)) and len(p) == 2
          and all(isinstance(a, Integral) and not isinstance(a, bool) and a >= lo for a in p))
    if not ok:
        kind = "positive" if lo >= 1 else "non-negative"
        raise ValueError(f"{op}: {what} must be a {kind} int or a pair of them, got {v!r}")
    return int(p[0]), int(p[1])


def _check_4d(op: str, what: str, shape: tuple[int, ...], letters: str) -> None:
    if len(shape) != 4:
        raise ValueError(f"{op}: {what} must have 4 dimensions {letters}, got shape {tuple(shape)}")


def _check_x_and_W(op: str, x_shape: tuple[int, ...], W_shape: tuple[int, ...],
                   W_letters: str) -> None:
    """Both 4-D, and x's channels C equal W's C axis (axis 1 for "(OC, C, ...)", else 0)."""
    _check_4d(op, "x", x_shape, "(N, C, H, W)")
    _check_4d(op, "W", W_shape, W_letters)
    c_axis = 1 if W_letters.startswith("(OC") else 0
    if x_shape[1] != W_shape[c_axis]:
        raise ValueError(f"{op}: x has {x_shape[1]} channels but W expects {W_shape[c_axis]} "
                         f"(x shape (N, C, H, W) = {tuple(x_shape)}, "
                         f"W shape {W_letters} = {tuple(W_shape)})")


def check_conv2d(x_shape: tuple[int, ...], W_shape: tuple[int, ...], stride: Any, padding: Any,
                 op: str = "conv2d") -> tuple[Pair, Pair, Pair]:
    """Validate conv2d arguments; return ((SH, SW), (PH, PW), (OH, OW)).

    x_shape (N, C, H, W) and W_shape (OC, C, KH, KW).
    """
    _check_x_and_W(op, x_shape, W_shape, "(OC, C, KH, KW)")
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
    _check_x_and_W(op, x_shape, W_shape, "(C, OC, KH, KW)")
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


def check_im2col(x_shape: tuple[int, ...], KH: int, KW: int, SH: int, SW: int, PH: int, PW: int
                 ) -> tuple[int, int, int, int, int, int]:
    """Validate im2col arguments; return (SH, SW, PH, PW, OH, OW)."""
    _check_4d("im2col", "x", x_shape, "(N, C, H, W)")
    SH, SW = as_pair((SH, SW), "stride", "im2col", 1)
    PH, PW = as_pair((PH, PW), "padding", "im2col", 0)
    OH, OW = _conv_out("im2col", x_shape, (KH, KW), (SH, SW), (PH, PW))
    return SH, SW, PH, PW, OH, OW


def check_col2im(cols_shape: tuple[int, ...], x_shape: tuple[int, ...], KH: int, KW: int,
                 SH: int, SW: int, PH: int, PW: int) -> tuple[int, int, int, int, int, int]:
    """Validate col2im arguments (cols must be (N, C, KH, KW, OH, OW) for ``x_shape``);
    return (SH, SW, PH, PW, OH, OW)."""
    x_shape = tuple(int(d) for d in x_shape)
    _check_4d("col2im", "x_shape", x_shape, "(N, C, H, W)")
    SH, SW = as_pair((SH, SW), "stride", "col2im", 1)
    PH, PW = as_pair((PH, PW), "padding", "col2im", 0)
    OH, OW = _conv_out("col2im", x_shape, (KH, KW), (SH, SW), (PH, PW))
    N, C = x_shape[:2]
    if tuple(cols_shape) != (N, C, KH, KW, OH, OW):
        raise ValueError(f"col2im: cols has shape {tuple(cols_shape)}, expected (N, C, KH, KW, OH, "
                         f"OW) = {(N, C, KH, KW, OH, OW)} for x_shape {x_shape}, kernel "
                         f"{(KH, KW)}, stride {(SH, SW)}, padding {(PH, PW)}")
    return SH, SW, PH, PW, OH, OW


def check_same_dtype(op: str, **arrays: Any) -> Any:
    """The one dtype these arrays share, or a TypeError naming each one's dtype."""
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} is {d}" for name, d in dtypes.items())
        raise TypeError(f"{op}: inputs must share one dtype, but {listed}; cast one first")
    return next(iter(dtypes.values()))
