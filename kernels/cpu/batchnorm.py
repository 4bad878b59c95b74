"""Batch normalization over the channel axis 1 of (N, C, *spatial) arrays, compiled with Numba.

Same formulas as the reference (``scratchgan_kernels.reference.batchnorm``). Layout: the
values of one channel are a column of the matrix (R, C) whose rows are the pixels: a
channels-last x (N, C, H, W) *is* that matrix (N*H*W, C) in memory, and so is a 2-D
(N, C) input (BatchNorm1d); a C-order x with spatial axes is copied to channels-last
first (a conv's output in a network already is channels-last). Results keep x's layout
(gy is brought to it).

The rows are cut into blocks of about ``BLOCK_VALUES`` values (the boundaries depend on
the shape only), run on the workers of ``scratchgan_kernels.parallel``:

* statistics: each block its column means and sums of squared deviations, two passes
  over the block while it is in cache (no cancellation), merged in block order with
  Chan's formula (n = n_a + n_b, d = mean_b - mean_a, mean = mean_a + d n_b / n,
  M2 = M2_a + M2_b + d^2 n_a n_b / n), all in float64;
* forward: y = x * scale + shift per block, scale = gamma r, shift = beta - mean gamma r,
  r = 1 / sqrt(var + eps), in x's dtype (the reference's arithmetic);
* backward: each block, in the same pass, its moments (as above) and its column sums of
  gy and gy x (float64); the blocks' moments merged and their sums added in block order,
  sum gy (x - mu) = sum gy x - mu sum gy with mu the mean rounded to x's dtype, the mu of
  the last pass (one mean for both, or the projection that cancels in gx does not cancel
  for tiny batches); then gx = a gy + b (x - mu) + c per block: two passes over x and gy,
  where recomputing the statistics first took three.

The fused pair ``batch_norm_leaky_relu_forward`` / ``_backward`` is batch norm followed by
a leaky ReLU of slope s in the same passes: the forward writes leaky(x * scale + shift)
(one pass over the activation instead of two), the backward reads the activation's output
y and masks gy on the fly, g = gy where y > 0 else s gy (the sign of y is that of the
batch norm's output), instead of writing the masked gradient and reading it back. Plain
batch norm is the same code with s = 1 (where the mask is the identity).

So a result is the same for any number of workers. ``out`` of ``batch_norm_forward``
may be ``x`` itself.
"""
from __future__ import annotations

import numpy as np

from scratchgan_kernels.cpu._common import (FASTMATH, check_inputs, check_out, into, like, njit,
                                            result_array)
from scratchgan_kernels.parallel import parallel_for
from scratchgan_kernels.reference.batchnorm import _check

BLOCK_VALUES = 1 << 16      # values of x per row block (256 KiB in float32)


@njit(fastmath=FASTMATH)
def _block_m2(x2, r0, r1, mean, m2):
    """m2[c] = sum of (x - mean[c])^2 over the rows r0 <= r < r1 (float64): the second pass
    over a block, which finds it in cache."""
    C = x2.shape[1]
    m2[:] = 0.0
    for r in range(r0, r1):
        row = x2[r]
        for c in range(C):
            d = row[c] - mean[c]
            m2[c] += d * d


@njit(fastmath=FASTMATH)
def _block_moments(x2, r0, r1, mean, m2):
    """mean[c] and m2[c] = sum of (x - mean)^2 over the rows r0 <= r < r1 (float64)."""
    C = x2.shape[1]
    mean[:] = 0.0
    for r in range(r0, r1):
        row = x2[r]
        for c in range(C):
            mean[c] += row[c]
    for c in range(C):
        mean[c] /= r1 - r0
    _block_m2(x2, r0, r1, mean, m2)


@njit
def _merge_moments(counts, means, m2s, mean, var):
    """The blocks' moments merged in order (Chan et al.): mean and biased var (float64)."""
    n = counts[0]
    mean[:] = means[0]
    M2 = m2s[0].copy()
    for b in range(1, counts.shape[0]):
        nb = counts[b]
        tot = n + nb
        for c in range(mean.shape[0]):
            d = means[b, c] - mean[c]
            mean[c] += d * nb / tot
            M2[c] += m2s[b, c] + d * d * n * nb / tot
        n = tot
    for c in range(mean.shape[0]):
        var[c] = M2[c] / n


@njit(fastmath=FASTMATH)
def _block_affine(x2, r0, r1, scale, shift, slope, y2):
    """y = leaky(x * scale + shift, slope) over the block's rows (slope 1: no activation)."""
    C = x2.shape[1]
    for r in range(r0, r1):
        row = x2[r]
        yrow = y2[r]
        for c in range(C):
            v = row[c] * scale[c] + shift[c]
            yrow[c] = v if v > 0 else v * slope


@njit(fastmath=FASTMATH)
def _block_grad_moments(x2, gy2, y2, r0, r1, slope, mean, m2, s_g, s_gx):
    """Over the block's rows: the moments of ``_block_moments`` and s_g[c] = sum g,
    s_gx[c] = sum g x (float64, each product exact for float32 values), with
    g = gy where y > 0 else slope gy (slope 1: g = gy);
    x and gy are read from memory once (the second pass finds the block in cache)."""
    C = x2.shape[1]
    mean[:] = 0.0
    s_g[:] = 0.0
    s_gx[:] = 0.0
    for r in range(r0, r1):
        row = x2[r]
        grow = gy2[r]
        yrow = y2[r]
        for c in range(C):
            v = row[c]
            g = grow[c] if yrow[c] > 0 else grow[c] * slope
            mean[c] += v
            s_g[c] += g
            s_gx[c] += np.float64(g) * np.float64(v)   # exact for float32 inputs: the
            # later sum g x - mu sum g cancels to the few digits that matter
    for c in range(C):
        mean[c] /= r1 - r0
    _block_m2(x2, r0, r1, mean, m2)


@njit(fastmath=FASTMATH)
def _block_grad_apply(x2, gy2, y2, r0, r1, a, b, cc, mu, slope, gx2):
    """gx = a g + b (x - mu) + cc over the block's rows, g as in ``_block_grad_sums``."""
    C = x2.shape[1]
    for r in range(r0, r1):
        row = x2[r]
        grow = gy2[r]
        yrow = y2[r]
        orow = gx2[r]
        for c in range(C):
            g = grow[c] if yrow[c] > 0 else grow[c] * slope
            orow[c] = a[c] * g + b[c] * (row[c] - mu[c]) + cc[c]


@njit
def _affine(mean, var, gamma, beta, eps, scale, shift):
    """scale = gamma r, shift = beta - mu gamma r, r = 1 / sqrt(var + eps): the reference's
    arithmetic, in x's dtype."""
    one = scale.dtype.type(1)
    for c in range(mean.shape[0]):
        mu = scale.dtype.type(mean[c])
        r = one / np.sqrt(scale.dtype.type(var[c]) + eps)
        scale[c] = gamma[c] * r
        shift[c] = beta[c] - mu * gamma[c] * r


@njit
def _grad_coefficients(var, sg, sgx, gamma, eps, m, a, b, cc, ggamma, gbeta):
    """gx = gamma r (gy - gbeta / m - xhat ggamma / m) as a gy + b (x - mu) + cc, with
    gbeta = sum gy and ggamma = sum gy xhat = r sum gy (x - mu); in x's dtype."""
    one = a.dtype.type(1)
    for c in range(var.shape[0]):
        r = one / np.sqrt(a.dtype.type(var[c]) + eps)
        gb = a.dtype.type(sg[c])
        gg = a.dtype.type(sgx[c]) * r
        gbeta[c] = gb
        ggamma[c] = gg
        gr = gamma[c] * r
        a[c] = gr
        b[c] = -gr * r * gg / m
        cc[c] = -gr * gb / m


def _row_blocks(R: int, C: int) -> list[tuple[int, int]]:
    rb = max(1, BLOCK_VALUES // max(C, 1))
    return [(r0, min(R, r0 + rb)) for r0 in range(0, R, rb)]


def _channels_minor(a: np.ndarray) -> np.ndarray:
    """a (N, C, *spatial) with the channel axis varying fastest in memory: a itself when it
    is (2-D, or channels-last), else a copy in that layout (same logical shape)."""
    moved = np.moveaxis(a, 1, -1)
    if moved.flags.c_contiguous:
        return a
    return np.moveaxis(np.ascontiguousarray(moved), -1, 1)


def _pixel_matrix(a: np.ndarray) -> np.ndarray:
    """A channels-minor a (N, C, *spatial) as its (pixels, C) matrix, a view."""
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _merged(blocks, means: np.ndarray, m2s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, biased var), float64, of the blocks' moments merged in block order."""
    counts = np.array([r1 - r0 for r0, r1 in blocks], np.float64)
    mean, var = np.empty(means.shape[1]), np.empty(means.shape[1])
    _merge_moments(counts, means, m2s, mean, var)
    return mean, var


def _statistics(x2: np.ndarray, blocks) -> tuple[np.ndarray, np.ndarray]:
    """(mean, biased var) of x2's columns, float64, from its row blocks in parallel."""
    B, C = len(blocks), x2.shape[1]
    means, m2s = np.empty((B, C)), np.empty((B, C))
    parallel_for(B, lambda k: _block_moments(x2, *blocks[k], means[k], m2s[k]))
    return _merged(blocks, means, m2s)


def batch_norm_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and biased variance of x (N, C, ...): two arrays of shape (C,)."""
    dtype, (xc,) = check_inputs("batch_norm_stats", channels_last=True, x=x)
    if x.ndim < 2:
        raise ValueError(f"batch norm needs x of shape (N, C, ...), got {x.shape}")
    x2 = _pixel_matrix(_channels_minor(xc))
    mean, var = _statistics(x2, _row_blocks(*x2.shape))
    return mean.astype(dtype), var.astype(dtype)


def _forward(op, x, gamma, beta, eps, slope, out):
    _check(x, gamma)
    if beta.shape != gamma.shape:
        raise ValueError(f"batch norm: beta has shape {beta.shape}, expected ({x.shape[1]},)")
    dtype, (xc, gc, bc) = check_inputs(op, channels_last=True, x=x, gamma=gamma, beta=beta)
    check_out(op, out, x.shape, dtype)
    xc = _channels_minor(xc)
    y = result_array(out, xc)
    x2, y2 = _pixel_matrix(xc), _pixel_matrix(y)
    blocks = _row_blocks(*x2.shape)
    mean, var = _statistics(x2, blocks)
    C = x.shape[1]
    scale, shift = np.empty(C, dtype), np.empty(C, dtype)
    _affine(mean, var, gc, bc, dtype.type(eps), scale, shift)
    s = dtype.type(slope)
    parallel_for(len(blocks), lambda k: _block_affine(x2, *blocks[k], scale, shift, s, y2))
    return into(out, y), mean.astype(dtype), var.astype(dtype)


def _backward(op, x, gamma, y, gy, eps, slope):
    _check(x, gamma)
    for name, a in (("gy", gy), ("y", y)):
        if a is not None and a.shape != x.shape:
            raise ValueError(f"batch norm backward: {name} has shape {a.shape}, x has {x.shape}")
    arrays = dict(x=x, gamma=gamma, gy=gy) if y is None else dict(x=x, gamma=gamma, y=y, gy=gy)
    dtype, checked = check_inputs(op, channels_last=True, **arrays)
    xc, gc, gyc = checked[0], checked[1], checked[-1]
    C = x.shape[1]
    xc = _channels_minor(xc)
    gx = np.empty_like(xc)
    x2, gy2, gx2 = _pixel_matrix(xc), _pixel_matrix(like(gyc, xc)), _pixel_matrix(gx)
    y2 = gy2 if y is None else _pixel_matrix(like(checked[2], xc))   # slope 1: any y will do
    s = dtype.type(slope)
    blocks = _row_blocks(*x2.shape)
    parts = np.empty((4, len(blocks), C))           # means, m2s, sums of g and of g x
    parallel_for(len(blocks), lambda k: _block_grad_moments(
        x2, gy2, y2, *blocks[k], s, parts[0, k], parts[1, k], parts[2, k], parts[3, k]))
    mean, var = _merged(blocks, parts[0], parts[1])
    mu = mean.astype(dtype)      # the mean of the apply pass, x - mu in x's dtype
    sg = parts[2].sum(axis=0)
    sgx = parts[3].sum(axis=0) - mu * sg   # sum g (x - mu) about that same mu (float64)
    a, b, cc = np.empty(C, dtype), np.empty(C, dtype), np.empty(C, dtype)
    ggamma, gbeta = np.empty(C, dtype), np.empty(C, dtype)
    _grad_coefficients(var, sg, sgx, gc, dtype.type(eps), x2.shape[0], a, b, cc, ggamma, gbeta)
    parallel_for(len(blocks), lambda k: _block_grad_apply(x2, gy2, y2, *blocks[k], a, b, cc,
                                                          mu, s, gx2))
    return gx, ggamma, gbeta


def batch_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                       out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, mean, var): y normalized with the batch statistics, then scaled and shifted."""
    return _forward("batch_norm_forward", x, gamma, beta, eps, 1.0, out)


def batch_norm_backward(x: np.ndarray, gamma: np.ndarray, gy: np.ndarray, eps: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gx, ggamma, gbeta) of training-mode batch norm (statistics differentiated too)."""
    return _backward("batch_norm_backward", x, gamma, None, gy, eps, 1.0)


def batch_norm_leaky_relu_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                                  eps: float, slope: float, out: np.ndarray | None = None
                                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, mean, var): y = leaky_relu(batch norm of x, slope), in one pass."""
    return _forward("batch_norm_leaky_relu_forward", x, gamma, beta, eps, slope, out)


def batch_norm_leaky_relu_backward(x: np.ndarray, gamma: np.ndarray, y: np.ndarray,
                                   gy: np.ndarray, eps: float, slope: float
                                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gx, ggamma, gbeta) of y = leaky_relu(batch norm of x, slope), given that y: batch
    norm's backward of g = gy where y > 0 else slope gy, the mask applied on the fly."""
    return _backward("batch_norm_leaky_relu_backward", x, gamma, y, gy, eps, slope)
