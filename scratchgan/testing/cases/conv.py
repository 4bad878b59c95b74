"""Cases for conv2d, conv_transpose2d and conv2d_grad_weight.

Sizes stay small (the second-order checks run finite differences over them) but
cover batch and channels of 1, odd and non-square sizes and kernels, strides
up to 3 per axis, padding up to K - 1 and output padding up to stride - 1. Every
draw is valid: a size that would give an empty output is adjusted, not rejected.
"""
from __future__ import annotations

from scratchgan import functions as F
from scratchgan.testing.catalog import OpCase, register
from scratchgan_kernels.shapes import conv_output_size


def _geometry(draw):
    """N, C, OC and per axis (size, kernel, stride, padding)."""
    N, C, OC = draw(1, 3), draw(1, 3), draw(1, 3)
    axes = []
    for _ in range(2):
        k = draw(1, 3)
        axes.append((draw(1, 7), k, draw(1, 3), draw(0, k - 1)))
    return N, C, OC, axes


def _conv_axes(axes):
    """Sizes grown where the padded input is smaller than the kernel."""
    return [(max(n, k - 2 * p), k, s, p) for n, k, s, p in axes]


def _params(axes, output_padding=None):
    params = {"stride": tuple(a[2] for a in axes), "padding": tuple(a[3] for a in axes)}
    if output_padding is not None:
        params["output_padding"] = tuple(output_padding)
    return params


def _make_conv2d(draw, rng):
    N, C, OC, axes = _geometry(draw)
    axes = _conv_axes(axes)
    (H, KH, _, _), (W, KW, _, _) = axes
    inputs = (rng.standard_normal((N, C, H, W)), rng.standard_normal((OC, C, KH, KW)),
              rng.standard_normal(OC))
    return inputs, _params(axes)


def _make_conv_transpose2d(draw, rng):
    N, C, OC, axes = _geometry(draw)
    fixed, output_padding = [], []
    for n, k, s, p in axes:
        o = draw(0, s - 1)
        # the largest padding that leaves an output of at least 1: (n-1)s + k + o - 2p >= 1
        p = min(p, ((n - 1) * s + k + o - 1) // 2)
        fixed.append((n, k, s, p))
        output_padding.append(o)
    (H, KH, _, _), (W, KW, _, _) = fixed
    inputs = (rng.standard_normal((N, C, H, W)), rng.standard_normal((C, OC, KH, KW)),
              rng.standard_normal(OC))
    return inputs, _params(fixed, output_padding)


def _make_conv2d_grad_weight(draw, rng):
    N, C, OC, axes = _geometry(draw)
    axes = _conv_axes(axes)
    (H, KH, SH, PH), (W, KW, SW, PW) = axes
    OH, OW = conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW)
    inputs = (rng.standard_normal((N, C, H, W)), rng.standard_normal((N, OC, OH, OW)))
    params = _params(axes)
    params["kernel_size"] = (KH, KW)
    return inputs, params


register(OpCase("conv2d", (F.Conv2d,), _make_conv2d,
                lambda x, W, b, **p: F.conv2d(x, W, b, **p)))
register(OpCase("conv_transpose2d", (F.ConvTranspose2d,), _make_conv_transpose2d,
                lambda x, W, b, **p: F.conv_transpose2d(x, W, b, **p)))
register(OpCase("conv2d_grad_weight", (F.Conv2dGradWeight,), _make_conv2d_grad_weight,
                lambda x, gy, **p: F.conv2d_grad_weight(x, gy, **p)))
