"""Shape letters and output-size formulas, defined once for every backend and op.

N batch, C input channels, OC output channels, H W input height and width,
KH KW kernel size, SH SW stride, PH PW zero padding, OPH OPW output padding,
OH OW output height and width.

    conv2d:            OH = (H + 2 PH - KH) // SH + 1
    conv_transpose2d:  OH = (H - 1) SH - 2 PH + KH + OPH,   0 <= OPH < SH
(and the same with W, KW, SW, PW, OPW for widths).
"""
from __future__ import annotations


def pair(v: int | tuple[int, int], what: str = "value") -> tuple[int, int]:
    """An int or a pair of ints as a pair of non-negative ints."""
    if isinstance(v, int):
        v = (v, v)
    v = tuple(int(a) for a in v)
    if len(v) != 2 or min(v) < 0:
        raise ValueError(f"{what} must be a non-negative int or a pair of them, got {v}")
    return v


def conv_output_size(size: int, k: int, s: int, p: int) -> int:
    """Output length of a convolution: (size + 2p - k) // s + 1."""
    return (size + 2 * p - k) // s + 1


def conv_transpose_output_size(size: int, k: int, s: int, p: int, op: int = 0) -> int:
    """Output length of a transposed convolution: (size - 1) s - 2p + k + op."""
    return (size - 1) * s - 2 * p + k + op
