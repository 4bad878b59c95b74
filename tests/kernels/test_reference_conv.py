"""The reference conv kernels against direct loops over output positions, their
adjointness, out=, dtypes and error messages."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan_kernels
from scratchgan_kernels.reference.conv import (col2im, conv2d, conv2d_grad_weight,
                                               conv_transpose2d, im2col)

# cheap: at least 30 draws each, more under a thorough hypothesis profile
SETTINGS = settings(max_examples=max(30, settings.default.max_examples), deadline=None)
DTYPES = st.sampled_from([np.float32, np.float64])
TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-11, atol=1e-11)}


# -- naive loops: every output (or input) position and kernel offset in turn ---------

def out_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def naive_conv2d(x, W, stride, padding):
    (N, C, H, Wd), (OC, _, KH, KW), (SH, SW), (PH, PW) = x.shape, W.shape, stride, padding
    OH, OW = out_size(H, KH, SH, PH), out_size(Wd, KW, SW, PW)
    y = np.zeros((N, OC, OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            for i in range(KH):
                for j in range(KW):
                    h, w = oh * SH + i - PH, ow * SW + j - PW
                    if 0 <= h < H and 0 <= w < Wd:
                        y[:, :, oh, ow] += x[:, :, h, w].astype(np.float64) @ W[:, :, i, j].T
    return y


def naive_conv_transpose2d(x, W, stride, padding, output_padding):
    (N, C, H, Wd), (_, OC, KH, KW) = x.shape, W.shape
    (SH, SW), (PH, PW), (OPH, OPW) = stride, padding, output_padding
    OH, OW = (H - 1) * SH - 2 * PH + KH + OPH, (Wd - 1) * SW - 2 * PW + KW + OPW
    y = np.zeros((N, OC, OH, OW))
    for h in range(H):
        for w in range(Wd):
            for i in range(KH):
                for j in range(KW):
                    oh, ow = h * SH + i - PH, w * SW + j - PW
                    if 0 <= oh < OH and 0 <= ow < OW:
                        y[:, :, oh, ow] += x[:, :, h, w].astype(np.float64) @ W[:, :, i, j]
    return y


def naive_grad_weight(x, gy, kernel_size, stride, padding):
    (N, C, H, Wd), (_, OC, OH, OW) = x.shape, gy.shape
    (KH, KW), (SH, SW), (PH, PW) = kernel_size, stride, padding
    gW = np.zeros((OC, C, KH, KW))
    for oh in range(OH):
        for ow in range(OW):
            for i in range(KH):
                for j in range(KW):
                    h, w = oh * SH + i - PH, ow * SW + j - PW
                    if 0 <= h < H and 0 <= w < Wd:
                        gW[:, :, i, j] += gy[:, :, oh, ow].T.astype(np.float64) @ x[:, :, h, w]
    return gW


def naive_im2col(x, KH, KW, SH, SW, PH, PW):
    N, C, H, Wd = x.shape
    OH, OW = out_size(H, KH, SH, PH), out_size(Wd, KW, SW, PW)
    cols = np.zeros((N, C, KH, KW, OH, OW), x.dtype)
    for oh in range(OH):
        for ow in range(OW):
            for i in range(KH):
                for j in range(KW):
                    h, w = oh * SH + i - PH, ow * SW + j - PW
                    if 0 <= h < H and 0 <= w < Wd:
                        cols[:, :, i, j, oh, ow] = x[:, :, h, w]
    return cols


# -- drawn geometries ----------------------------------------------------------------

@st.composite
def conv_geometry(draw, max_size=7):
    """(N, C, OC, (H, W), (KH, KW), (SH, SW), (PH, PW)) with a non-empty conv2d output;
    padding may reach the kernel size (all-padding windows)."""
    N, C, OC = (draw(st.integers(1, 3)) for _ in range(3))
    size, kernel, stride, padding = [], [], [], []
    for _ in range(2):
        k = draw(st.integers(1, 4))
        p = draw(st.integers(0, k))
        n = max(draw(st.integers(1, max_size)), k - 2 * p)
        size.append(n), kernel.append(k), stride.append(draw(st.integers(1, 3))), padding.append(p)
    return N, C, OC, tuple(size), tuple(kernel), tuple(stride), tuple(padding)


@st.composite
def transpose_geometry(draw, max_size=6):
    """As conv_geometry plus an output padding < stride, for a non-empty transposed output."""
    N, C, OC, size, kernel, stride, padding = draw(conv_geometry(max_size))
    output_padding = tuple(draw(st.integers(0, s - 1)) for s in stride)
    padding = tuple(min(p, ((n - 1) * s + k + o - 1) // 2)
                    for n, k, s, p, o in zip(size, kernel, stride, padding, output_padding))
    return N, C, OC, size, kernel, stride, padding, output_padding


def rand(seed, shape, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- each kernel against the loops ---------------------------------------------------

@SETTINGS
@given(conv_geometry(), DTYPES, st.integers(0, 2**16))
def test_conv2d_matches_loops(geometry, dtype, seed):
    N, C, OC, (H, W), kernel, stride, padding = geometry
    x, Wt = rand(seed, (N, C, H, W), dtype), rand(seed + 1, (OC, C) + kernel, dtype)
    y = conv2d(x, Wt, stride, padding)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, naive_conv2d(x, Wt, stride, padding), **TOL[dtype])


@SETTINGS
@given(transpose_geometry(), DTYPES, st.integers(0, 2**16))
def test_conv_transpose2d_matches_loops(geometry, dtype, seed):
    N, C, OC, (H, W), kernel, stride, padding, output_padding = geometry
    x, Wt = rand(seed, (N, C, H, W), dtype), rand(seed + 1, (C, OC) + kernel, dtype)
    y = conv_transpose2d(x, Wt, stride, padding, output_padding)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, naive_conv_transpose2d(x, Wt, stride, padding, output_padding),
                               **TOL[dtype])


@SETTINGS
@given(conv_geometry(), DTYPES, st.integers(0, 2**16))
def test_conv2d_grad_weight_matches_loops(geometry, dtype, seed):
    N, C, OC, (H, W), kernel, stride, padding = geometry
    OH, OW = (out_size(n, k, s, p) for n, k, s, p in zip((H, W), kernel, stride, padding))
    x, gy = rand(seed, (N, C, H, W), dtype), rand(seed + 1, (N, OC, OH, OW), dtype)
    gW = conv2d_grad_weight(x, gy, kernel, stride, padding)
    assert gW.dtype == dtype and gW.shape == (OC, C) + kernel
    np.testing.assert_allclose(gW, naive_grad_weight(x, gy, kernel, stride, padding),
                               **TOL[dtype])


@SETTINGS
@given(conv_geometry(), DTYPES, st.integers(0, 2**16))
def test_im2col_matches_loops_and_col2im_is_its_adjoint(geometry, dtype, seed):
    N, C, _, (H, W), (KH, KW), (SH, SW), (PH, PW) = geometry
    x = rand(seed, (N, C, H, W), dtype)
    cols = im2col(x, KH, KW, SH, SW, PH, PW)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, naive_im2col(x, KH, KW, SH, SW, PH, PW))
    # <im2col(x), c> == <x, col2im(c)>, in float64
    x64, c = x.astype(np.float64), rand(seed + 1, cols.shape)
    back = col2im(c, x.shape, KH, KW, SH, SW, PH, PW)
    assert back.shape == x.shape and back.dtype == np.float64
    lhs = float((im2col(x64, KH, KW, SH, SW, PH, PW) * c).sum())
    np.testing.assert_allclose(lhs, float((x64 * back).sum()), rtol=1e-10, atol=1e-10)
    assert col2im(c.astype(dtype), x.shape, KH, KW, SH, SW, PH, PW).dtype == dtype


def test_col2im_adds_overlapping_windows():
    # 1x1 image of ones through a 3x3 kernel, stride 1, padding 1 on a 3x3 input: each
    # pixel is covered by as many windows as its number of in-range neighbours (incl. itself)
    cols = im2col(np.ones((1, 1, 3, 3)), 3, 3, 1, 1, 1, 1)
    counts = col2im(np.ones_like(cols), (1, 1, 3, 3), 3, 3, 1, 1, 1, 1)
    np.testing.assert_array_equal(counts[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


@settings(max_examples=max(20, settings.default.max_examples), deadline=None)
@given(transpose_geometry(max_size=4), st.integers(0, 2**16))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(geometry, seed):
    """conv_transpose2d(., W) is the transposed matrix of u -> conv2d(u, W)."""
    _, C, OC, (H, W), kernel, stride, padding, output_padding = geometry
    Wt = rand(seed, (C, OC) + kernel)
    # conv2d maps (1, OC, OH, OW) -> (1, C, H, W) with this W; convT goes back
    OH, OW = ((n - 1) * s - 2 * p + k + o for n, k, s, p, o in
              zip((H, W), kernel, stride, padding, output_padding))
    assert out_size(OH, kernel[0], stride[0], padding[0]) == H
    size_in = OC * OH * OW
    A = np.stack([conv2d(np.eye(size_in)[k].reshape(1, OC, OH, OW), Wt, stride, padding).ravel()
                  for k in range(size_in)], axis=1)                    # (C*H*W, OC*OH*OW)
    v = rand(seed + 1, (1, C, H, W))
    got = conv_transpose2d(v, Wt, stride, padding, output_padding)
    np.testing.assert_allclose(got.ravel(), A.T @ v.ravel(), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(conv_geometry(), st.integers(0, 2**16))
def test_inner_product_identity(geometry, seed):
    """<conv2d(x, W), gy> = <x, conv_transpose2d(gy, W)> = <W, conv2d_grad_weight(x, gy)>."""
    N, C, OC, (H, W), kernel, stride, padding = geometry
    x, Wt = rand(seed, (N, C, H, W)), rand(seed + 1, (OC, C) + kernel)
    y = conv2d(x, Wt, stride, padding)
    gy = rand(seed + 2, y.shape)
    output_padding = tuple(n - ((o - 1) * s - 2 * p + k)
                           for n, o, k, s, p in zip((H, W), y.shape[2:], kernel, stride, padding))
    gx = conv_transpose2d(gy, Wt, stride, padding, output_padding)
    gW = conv2d_grad_weight(x, gy, kernel, stride, padding)
    assert gx.shape == x.shape
    ref = float((y * gy).sum())
    np.testing.assert_allclose(float((x * gx).sum()), ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(float((Wt * gW).sum()), ref, rtol=1e-10, atol=1e-10)


# -- out=, registration ---------------------------------------------------------------

@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_arguments(padding, dtype):
    x, W = rand(0, (2, 3, 5, 4), dtype), rand(1, (4, 3, 3, 2), dtype)
    y = conv2d(x, W, 2, padding)
    out = np.full(y.shape, np.nan, dtype)
    assert conv2d(x, W, 2, padding, out=out) is out
    np.testing.assert_array_equal(out, y)

    gy = rand(2, y.shape, dtype)
    gW = conv2d_grad_weight(x, gy, (3, 2), 2, padding)
    out = np.full(gW.shape, np.nan, dtype)
    assert conv2d_grad_weight(x, gy, (3, 2), 2, padding, out=out) is out
    np.testing.assert_array_equal(out, gW)

    z = conv_transpose2d(y, W, 2, padding, 1)
    out = np.full(z.shape, np.nan, dtype)
    assert conv_transpose2d(y, W, 2, padding, 1, out=out) is out
    np.testing.assert_array_equal(out, z)

    cols = im2col(x, 3, 2, 2, 1, padding, padding)
    out = np.full(cols.shape, np.nan, dtype)
    assert im2col(x, 3, 2, 2, 1, padding, padding, out=out) is out
    np.testing.assert_array_equal(out, cols)
    back = col2im(cols, x.shape, 3, 2, 2, 1, padding, padding)
    out = np.full(x.shape, np.nan, dtype)
    assert col2im(cols, x.shape, 3, 2, 2, 1, padding, padding, out=out) is out
    np.testing.assert_array_equal(out, back)

    with pytest.raises(ValueError, match=r"conv2d: out must be a C-contiguous"):
        conv2d(x, W, 2, padding, out=np.empty((1, 1, 1, 1), dtype))


def test_registered_in_reference_backend():
    for name, fn in [("im2col", im2col), ("col2im", col2im), ("conv2d", conv2d),
                     ("conv_transpose2d", conv_transpose2d),
                     ("conv2d_grad_weight", conv2d_grad_weight)]:
        assert scratchgan_kernels.get(name, "numpy") is fn


def test_pair_and_int_arguments_agree():
    x, W = rand(0, (1, 2, 6, 7)), rand(1, (3, 2, 2, 3))
    np.testing.assert_array_equal(conv2d(x, W, 2, 1), conv2d(x, W, (2, 2), (1, 1)))
    np.testing.assert_array_equal(conv2d(x, W, np.int64(2), 1), conv2d(x, W, [2, 2], [1, 1]))


# -- errors -----------------------------------------------------------------------------

def test_errors():
    x, W = np.zeros((2, 3, 5, 5)), np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: x must have 4 dimensions \(N, C, H, W\), "
                                         r"got shape \(3, 5, 5\)"):
        conv2d(x[0], W)
    with pytest.raises(ValueError, match=r"conv2d: W must have 4 dimensions"):
        conv2d(x, W[0])
    with pytest.raises(ValueError, match=r"conv2d: x has 3 channels but W expects 2 "
                                         r"\(x shape .*W shape \(OC, C, KH, KW\) = \(4, 2, 3, 3\)"):
        conv2d(x, np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: kernel \(KH, KW\) = \(7, 3\) is larger than "
                                         r"the padded input \(H \+ 2PH, W \+ 2PW\) = \(5, 5\)"):
        conv2d(x, np.zeros((4, 3, 7, 3)))
    with pytest.raises(ValueError, match=r"conv2d: padding must be a non-negative int"):
        conv2d(x, W, 1, -1)
    with pytest.raises(ValueError, match=r"conv2d: stride must be a positive int .* got 0"):
        conv2d(x, W, 0)
    with pytest.raises(ValueError, match=r"conv2d: stride must be a positive int .* \(1, -2\)"):
        conv2d(x, W, (1, -2))
    with pytest.raises(TypeError, match=r"conv2d: inputs must share one dtype, but x is float64, "
                                        r"W is float32"):
        conv2d(x, W.astype(np.float32))

    Wt = np.zeros((3, 4, 3, 3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: x has 3 channels but W expects 4 "
                                         r"\(.*W shape \(C, OC, KH, KW\) = \(4, 3, 3, 3\)"):
        conv_transpose2d(x, np.zeros((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding \(2, 2\) must be "
                                         r"smaller than stride \(2, 2\)"):
        conv_transpose2d(x, Wt, 2, 0, 2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding \(1, 0\) must be "
                                         r"smaller than stride \(1, 1\)"):
        conv_transpose2d(x, Wt, 1, 0, (1, 0))
    with pytest.raises(ValueError, match=r"conv_transpose2d: output size \(OH, OW\) = "
                                         r"\(-1, -1\) is not positive"):
        conv_transpose2d(np.zeros((1, 3, 1, 1)), Wt, 1, 2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: padding must be a non-negative"):
        conv_transpose2d(x, Wt, 1, (0, -1))
    with pytest.raises(ValueError, match=r"conv_transpose2d: stride must be a positive"):
        conv_transpose2d(x, Wt, 0)
    with pytest.raises(ValueError, match=r"conv_transpose2d: x must have 4 dimensions"):
        conv_transpose2d(x[0], Wt)

    with pytest.raises(ValueError, match=r"conv2d_grad_weight: gy has shape \(2, 4, 2, 2\) but "
                                         r"a \(3, 3\) kernel .* gives an output of shape "
                                         r"\(N, OC, OH, OW\) = \(2, OC, 3, 3\)"):
        conv2d_grad_weight(x, np.zeros((2, 4, 2, 2)), 3)
    with pytest.raises(ValueError, match=r"conv2d_grad_weight: kernel \(KH, KW\) = \(6, 6\) is "
                                         r"larger than the padded input"):
        conv2d_grad_weight(x, np.zeros((2, 4, 1, 1)), 6)
    with pytest.raises(ValueError, match=r"conv2d_grad_weight: kernel_size must be a positive"):
        conv2d_grad_weight(x, np.zeros((2, 4, 1, 1)), 0)
    with pytest.raises(ValueError, match=r"conv2d_grad_weight: gy must have 4 dimensions"):
        conv2d_grad_weight(x, np.zeros((2, 4, 3)), 3)

    with pytest.raises(ValueError, match=r"col2im: cols has shape \(2, 3, 3, 3, 2, 2\), expected "
                                         r"\(N, C, KH, KW, OH, OW\) = \(2, 3, 3, 3, 3, 3\)"):
        col2im(np.zeros((2, 3, 3, 3, 2, 2)), x.shape, 3, 3, 1, 1, 0, 0)
    with pytest.raises(ValueError, match=r"im2col: kernel \(KH, KW\) = \(3, 9\) is larger"):
        im2col(x, 3, 9, 1, 1, 0, 1)
