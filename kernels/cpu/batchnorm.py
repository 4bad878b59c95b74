"""Batch normalization over the channel axis 1 of (N, C, *spatial) arrays, compiled with Numba.

Same formulas as the reference (``scratchgan_kernels.reference.batchnorm``). Layout: x is
viewed as a matrix (N, C*L), L = prod(spatial), whose columns c*L .. c*L+L-1 belong to
channel c; a channels-last x (N, C, H, W) is the matrix (N*H*W, C) with L = 1, each row
one pixel's channels (the outputs keep x's layout, and gy is brought to it). The channels are cut into blocks of about 1024 columns (one channel per block
when L >= 1024); each block is finished before the next: its sums are taken row by row
with one float64 accumulator per column (contiguous, vectorised), then folded per
channel. A block (N x 1024 values) stays in cache, so the two-pass statistics (mean,
then the mean of squared deviations, no cancellation) and the output pass read x from
memory about once. The same code serves BatchNorm2d (L = H*W, long rows) and
BatchNorm1d (L = 1: blocks of 1024 channels, rows of 1024 contiguous values).

Statistics are accumulated in float64 for either dtype and returned in x's dtype.
``out`` of ``batch_norm_forward`` may be ``x`` itself.
"""
from __future__ import annotations

import numpy as np

from scratchgan_kernels.cpu._common import (FASTMATH, check_inputs, check_out, into, like, njit,
                                            nhwc, result_array)
from scratchgan_kernels.reference.batchnorm import _check

BLOCK_COLUMNS = 1024


def _block_channels(L: int) -> int:
    return max(1, BLOCK_COLUMNS // max(L, 1))


@njit(fastmath=FASTMATH)
def _block_stats(x2, L, c0, c1, m, mean, var, mcol):
    """mean[c], var[c] (float64) for channels c0 <= c < c1; mcol[k] = mean of column f0 + k."""
    N = x2.shape[0]
    f0, f1 = c0 * L, c1 * L
    F = f1 - f0
    acc = np.zeros(F)
    for n in range(N):
        row = x2[n, f0:f1]
        for k in range(F):
            acc[k] += row[k]
    for c in range(c0, c1):
        s = 0.0
        for l in range(L):
            s += acc[(c - c0) * L + l]
        mean[c] = s / m
        for l in range(L):
            mcol[(c - c0) * L + l] = mean[c]
    acc[:] = 0.0
    for n in range(N):
        row = x2[n, f0:f1]
        for k in range(F):
            d = row[k] - mcol[k]
            acc[k] += d * d
    for c in range(c0, c1):
        s = 0.0
        for l in range(L):
            s += acc[(c - c0) * L + l]
        var[c] = s / m


@njit(fastmath=FASTMATH)
def _stats(x2, L, cb, mean, var):
    N, F = x2.shape
    C = F // L
    m = N * L
    mcol = np.empty(cb * L)
    for c0 in range(0, C, cb):
        _block_stats(x2, L, c0, min(C, c0 + cb), m, mean, var, mcol)


@njit(fastmath=FASTMATH)
def _forward(x2, L, cb, gamma, beta, eps, y2, mean, var):
    N, F = x2.shape
    C = F // L
    m = N * L
    one = x2.dtype.type(1)
    mcol = np.empty(cb * L)
    scale = np.empty(cb * L, x2.dtype)
    shift = np.empty(cb * L, x2.dtype)
    for c0 in range(0, C, cb):
        c1 = min(C, c0 + cb)
        _block_stats(x2, L, c0, c1, m, mean, var, mcol)
        for c in range(c0, c1):      # the reference's arithmetic, in x's dtype
            mu = x2.dtype.type(mean[c])
            r = one / np.sqrt(x2.dtype.type(var[c]) + eps)
            sc = gamma[c] * r
            sh = beta[c] - mu * gamma[c] * r
            for l in range(L):
                scale[(c - c0) * L + l] = sc
                shift[(c - c0) * L + l] = sh
        f0, f1 = c0 * L, c1 * L
        for n in range(N):
            row = x2[n, f0:f1]
            yrow = y2[n, f0:f1]
            for k in range(f1 - f0):
                yrow[k] = row[k] * scale[k] + shift[k]


@njit(fastmath=FASTMATH)
def _backward(x2, gy2, L, cb, gamma, eps, gx2, ggamma, gbeta):
    N, F = x2.shape
    C = F // L
    m = N * L
    one = x2.dtype.type(1)
    mean = np.empty(C)
    var = np.empty(C)
    mcol = np.empty(cb * L)
    mu_col = np.empty(cb * L, x2.dtype)
    s_gy = np.empty(cb * L)
    s_gyx = np.empty(cb * L)
    a_col = np.empty(cb * L, x2.dtype)
    b_col = np.empty(cb * L, x2.dtype)
    c_col = np.empty(cb * L, x2.dtype)
    for c0 in range(0, C, cb):
        c1 = min(C, c0 + cb)
        f0, f1 = c0 * L, c1 * L
        Fb = f1 - f0
        _block_stats(x2, L, c0, c1, m, mean, var, mcol)
        for k in range(Fb):
            mu_col[k] = x2.dtype.type(mcol[k])
        s_gy[:Fb] = 0.0
        s_gyx[:Fb] = 0.0
        for n in range(N):
            row = x2[n, f0:f1]
            grow = gy2[n, f0:f1]
            for k in range(Fb):
                g = grow[k]
                s_gy[k] += g
                s_gyx[k] += g * (row[k] - mu_col[k])
        for c in range(c0, c1):
            sg = 0.0
            sgx = 0.0
            for l in range(L):
                sg += s_gy[(c - c0) * L + l]
                sgx += s_gyx[(c - c0) * L + l]
            r = one / np.sqrt(x2.dtype.type(var[c]) + eps)
            gb = x2.dtype.type(sg)
            gg = x2.dtype.type(sgx) * r            # sum(gy * xhat)
            gbeta[c] = gb
            ggamma[c] = gg
            gr = gamma[c] * r
            # gx = gr * (gy - gbeta / m - xhat * ggamma / m), xhat = (x - mean) * r
            a = gr
            b = -gr * r * gg / m
            cc = -gr * gb / m
            for l in range(L):
                a_col[(c - c0) * L + l] = a
                b_col[(c - c0) * L + l] = b
                c_col[(c - c0) * L + l] = cc
        for n in range(N):
            row = x2[n, f0:f1]
            grow = gy2[n, f0:f1]
            orow = gx2[n, f0:f1]
            for k in range(Fb):
                orow[k] = a_col[k] * grow[k] + b_col[k] * (row[k] - mu_col[k]) + c_col[k]


def _as_matrix(a: np.ndarray) -> tuple[np.ndarray, int]:
    """(the matrix the compiled loops take, a view, and its L): (N, C*L) for a C-contiguous
    (N, C, *spatial) array, L = prod(spatial); (N*H*W, C) and L = 1 for a channels-last one."""
    C = a.shape[1]
    if not a.flags.c_contiguous:       # channels-last (the only other layout taken)
        return nhwc(a).reshape(-1, C), 1
    L = 1
    for d in a.shape[2:]:
        L *= int(d)
    return a.reshape(a.shape[0], C * L), L


def batch_norm_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and biased variance of x (N, C, ...): two arrays of shape (C,)."""
    dtype, (xc,) = check_inputs("batch_norm_stats", channels_last=True, x=x)
    if x.ndim < 2:
        raise ValueError(f"batch norm needs x of shape (N, C, ...), got {x.shape}")
    C = x.shape[1]
    x2, L = _as_matrix(xc)
    mean, var = np.empty(C), np.empty(C)
    _stats(x2, L, _block_channels(L), mean, var)
    return mean.astype(dtype), var.astype(dtype)


def batch_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                       out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, mean, var): y normalized with the batch statistics, then scaled and shifted."""
    _check(x, gamma)
    if beta.shape != gamma.shape:
        raise ValueError(f"batch norm: beta has shape {beta.shape}, expected ({x.shape[1]},)")
    dtype, (xc, gc, bc) = check_inputs("batch_norm_forward", channels_last=True, x=x,
                                       gamma=gamma, beta=beta)
    check_out("batch_norm_forward", out, x.shape, dtype)
    C = x.shape[1]
    y = result_array(out, xc)
    x2, L = _as_matrix(xc)
    mean, var = np.empty(C), np.empty(C)
    _forward(x2, L, _block_channels(L), gc, bc, dtype.type(eps), _as_matrix(y)[0], mean, var)
    return into(out, y), mean.astype(dtype), var.astype(dtype)


def batch_norm_backward(x: np.ndarray, gamma: np.ndarray, gy: np.ndarray, eps: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gx, ggamma, gbeta) of training-mode batch norm (statistics differentiated too)."""
    _check(x, gamma)
    if gy.shape != x.shape:
        raise ValueError(f"batch norm backward: gy has shape {gy.shape}, x has {x.shape}")
    dtype, (xc, gc, gyc) = check_inputs("batch_norm_backward", channels_last=True, x=x,
                                        gamma=gamma, gy=gy)
    C = x.shape[1]
    gx = np.empty_like(xc)
    ggamma, gbeta = np.empty(C, dtype), np.empty(C, dtype)
    x2, L = _as_matrix(xc)
    _backward(x2, _as_matrix(like(gyc, xc))[0], L, _block_channels(L), gc, dtype.type(eps),
              _as_matrix(gx)[0], ggamma, gbeta)
    return gx, ggamma, gbeta
