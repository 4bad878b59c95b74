"""2-D convolution, transposed convolution, the weight gradient and the column kernels,
compiled with Numba around BLAS matrix products.

Same signatures, semantics, argument checks and messages as the reference
(``scratchgan_kernels.reference.conv``; shape letters and output sizes of
``scratchgan_kernels.shapes``). Numba does the layout work (transposes, columns,
scatter-adds, direct loops); every large matrix product is one ``np.matmul`` on
contiguous 2-D arrays, i.e. OpenBLAS (a hand-written Numba GEMM reaches 9-17% of it).

Each op picks one of four layouts from the shapes and x's layout (``_pick_*``; the
thresholds are the constants below, measured):

``rows`` (channels-last, the default for layers with many channels)
    x, channels-last (n, H, W, C) (its own memory when it already is, else copied once),
    is zero-padded; a receptive field is then KH runs of KW*C contiguous values, copied
    into a row of the column matrix (n*OH*OW, KH*KW*C). One GEMM with the weight as
    (OC, KH*KW*C) (transposed by BLAS, not copied) writes the output channels-last
    (n*OH*OW, OC), straight into the result. The transposed conv runs it backwards: x's
    pixels (n*H*W, C) @ W (C, KH*KW*OC) gives per input pixel a (KH, KW, OC) patch,
    scatter-added as KH contiguous runs of KW*OC onto the channels-last output (what lands
    on the padding is dropped); the weight gradient is gy's pixels, transposed, times the
    same column matrix.
``cols`` (the reference's layout, for few channels: C*KH*KW <= 64, e.g. the C = 1 layer)
    columns (N, C, KH, KW, OH, OW) from the compiled ``im2col`` and one GEMM per sample
    (both operands read transposed by BLAS, so its output rows are channels-last); the
    transposed conv likewise with ``col2im`` (OC*KH*KW <= 64; output in C order). With
    C*KH*KW small the columns are small and the GEMM cheap.
``direct`` (stride 1, few output channels: the 64 -> 1 last layer)
    no column matrix at all (it would be KH*KW times the input, for a GEMV). Each
    (sample, channel) plane is copied into the interior of a small zero-bordered buffer
    of row length Wp = W + 2PW; with that row length, kernel tap (i, j) is one constant
    shift i*Wp + j of the flat plane, so an output plane accumulates W[o, c, i, j]
    times a shifted slice: long contiguous (vectorised) loops, four taps per pass; the
    Wp - OW extra columns per row are computed and dropped. The weight gradient is the
    matching dot products, summed over samples in float64. Used for C-order x.
``taps`` (stride 1, few output channels, channels-last x: the 64 -> 1 last layer in a
    channels-last network)
    x's pixels (n*H*W, C) @ W as (C, KH*KW*OC) gives every pixel's product with every
    tap, and each output pixel sums its KH*KW taps; the weight gradient scatters gy into
    (n*H*W, KH*KW*OC) and multiplies by x's pixels. No column matrix, no conversion.

A stride-1 transposed conv with fewer input than output channels is computed as the
conv2d it equals (kernel flipped, in/out axes swapped, padding KH-1-PH), whose columns
are C/OC times smaller.

Memory layouts: x and gy may be C-contiguous or channels-last. The outputs of "rows",
"taps" and the conv2d "cols" layout are channels-last (an (N, C, H, W) array over
(N, H, W, C) memory), so in a network the activations stay channels-last from one conv
to the next and nothing is converted per call; batch norm and leaky ReLU keep the layout.

Threads: every layout cuts the batch into chunks of whole samples (``_chunks``: at most
``CHUNK_ELEMENTS`` values of column matrix each, so the temporaries stay in cache, and at
least ``MIN_CHUNKS``), run by ``scratchgan_kernels.parallel.parallel_for`` on its workers,
each chunk's products on one BLAS thread; a weight gradient sums its chunks' partial
products in chunk order. The result is the same for any number of workers.

Temporaries come from a per-thread scratch workspace (``_common.scratch``); outputs are
fresh arrays (or ``out``). Inputs with other strides are copied to C order once.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan_kernels.checks import is_channels_last
from scratchgan_kernels.cpu._common import (FASTMATH, check_inputs, check_out,
                                            empty_channels_last, into, nhwc, njit, scratch)
from scratchgan_kernels.parallel import parallel_for
from scratchgan_kernels.shapes import (check_col2im, check_conv2d, check_conv2d_grad_weight,
                                       check_conv_transpose2d, check_im2col)

Pair = tuple[int, int]

# Layout thresholds, measured at batch 64 on 2 cores (float32): "cols" beats "rows" up to
# C*KH*KW = 64 and loses from 128 on (by 2x at 256); "direct" beats "rows" up to OC = 8
# (by 1.2-4x) and loses at 16 ("taps" takes its place for channels-last inputs).
CHUNK_ELEMENTS = 1 << 20      # values of the column matrix per chunk (at most)
MIN_CHUNKS = 8                # chunks per call where the batch allows (for the workers)
COLS_MAX_K = 64               # conv2d / grad-weight: "cols" layout while C*KH*KW <= this
COLS_MAX_TRANSPOSE_K = 64     # conv_transpose2d: "cols" layout while OC*KH*KW <= this
DIRECT_MAX_OC = 8             # stride-1 conv2d / grad-weight: "direct" while OC <= this


# -- compiled layout kernels ---------------------------------------------------------

@njit
def _valid(o_count, k, s, p, size):
    """[o0, o1): the outputs o whose input index o*s + k - p lies in [0, size)."""
    o0 = max(0, -((k - p) // s))                    # ceil((p - k) / s)
    o1 = min(o_count, (size - 1 + p - k) // s + 1)
    return o0, max(o0, o1)


@njit
def _im2col_nchw(x, KH, KW, SH, SW, PH, PW, cols):
    """cols (N, C, KH, KW, OH, OW) of x (N, C, H, W), the reference layout."""
    N, C, H, W = x.shape
    OH, OW = cols.shape[4], cols.shape[5]
    for n in range(N):
        for c in range(C):
            plane = x[n, c]
            for i in range(KH):
                oh0, oh1 = _valid(OH, i, SH, PH, H)
                for j in range(KW):
                    ow0, ow1 = _valid(OW, j, SW, PW, W)
                    dst = cols[n, c, i, j]
                    dst[:oh0, :] = 0
                    dst[oh1:, :] = 0
                    L = ow1 - ow0
                    for oh in range(oh0, oh1):
                        drow = dst[oh]
                        drow[:ow0] = 0
                        drow[ow1:] = 0
                        d = drow[ow0:ow1]
                        s0 = ow0 * SW + j - PW
                        src = plane[oh * SH + i - PH, s0:s0 + (L - 1) * SW + 1]
                        if SW == 1:
                            for t in range(L):
                                d[t] = src[t]
                        else:
                            for t in range(L):
                                d[t] = src[t * SW]
    return cols


@njit
def _col2im_nchw(cols, SH, SW, PH, PW, x):
    """x (N, C, H, W) = the scatter-add of cols (N, C, KH, KW, OH, OW); x is zeroed first."""
    N, C, H, W = x.shape
    KH, KW, OH, OW = cols.shape[2:]
    x[:] = 0
    for n in range(N):
        for c in range(C):
            plane = x[n, c]
            for i in range(KH):
                oh0, oh1 = _valid(OH, i, SH, PH, H)
                for j in range(KW):
                    ow0, ow1 = _valid(OW, j, SW, PW, W)
                    L = ow1 - ow0
                    s0 = ow0 * SW + j - PW
                    for oh in range(oh0, oh1):
                        src = cols[n, c, i, j, oh, ow0:ow1]
                        dst = plane[oh * SH + i - PH, s0:s0 + (L - 1) * SW + 1]
                        if SW == 1:
                            for t in range(L):
                                dst[t] += src[t]
                        else:
                            for t in range(L):
                                dst[t * SW] += src[t]
    return x


@njit
def _to_channels_last(x, xl):
    """xl (N, H, W, C) = x (N, C, H, W) in channels-last order. Contiguous writes, reads
    strided by H*W (measured faster than the other way round)."""
    N, C, H, W = x.shape
    for n in range(N):
        xn = x[n]
        for h in range(H):
            dst = xl[n, h]
            for w in range(W):
                d = dst[w]
                for c in range(C):
                    d[c] = xn[c, h, w]
    return xl


@njit
def _swap_last_two(a, out):
    """out (A, C, B) = a (A, B, C) with its last two axes swapped (weight layouts)."""
    A, B, C = a.shape
    for i in range(A):
        for k in range(C):
            d = out[i, k]
            for j in range(B):
                d[j] = a[i, j, k]
    return out


@njit
def _im2col_rows(xl, KH, KW, SH, SW, PH, PW, OH, OW, cf):
    """Rows (n, oh, ow) x columns (i, j, c) of the channels-last xl (n, H, W, C), zero
    outside it (the padding is never materialised), into the flat cf: per row and tap row
    i, one contiguous run of up to KW*C values, zeros around it at the borders."""
    n_count, H, W, C = xl.shape
    xf = xl.reshape(-1)
    L = KW * C
    K = KH * L
    for n in range(n_count):
        for oh in range(OH):
            for ow in range(OW):
                d = ((n * OH + oh) * OW + ow) * K
                c0 = ow * SW - PW
                j0 = max(0, -c0)
                j1 = max(j0, min(KW, W - c0))
                for i in range(KH):
                    dst = cf[d + i * L:d + i * L + L]
                    h = oh * SH + i - PH
                    if h < 0 or h >= H:
                        dst[:] = 0
                        continue
                    dst[:j0 * C] = 0
                    dst[j1 * C:] = 0
                    s = ((n * H + h) * W + c0 + j0) * C
                    src = xf[s:s + (j1 - j0) * C]
                    run = dst[j0 * C:j1 * C]
                    for t in range((j1 - j0) * C):
                        run[t] = src[t]


@njit
def _col2im_rows_cropped(cf, H, W, KH, KW, SH, SW, PH, PW, yl):
    """yl (n, OH, OW, OC) = zero, then the scatter-add of the rows (n, h, w) x columns
    (i, j, oc) of the flat cf onto output pixel (h SH + i - PH, w SW + j - PW); what lands
    outside the output is dropped. Per row and tap row i, one contiguous run of up to
    KW*OC values."""
    n_count, OH, OW, OC = yl.shape
    yf = yl.reshape(-1)
    yf[:] = 0
    L = KW * OC
    for n in range(n_count):
        for h in range(H):
            for w in range(W):
                s = ((n * H + h) * W + w) * KH * L
                c0 = w * SW - PW
                j0 = max(0, -c0)
                j1 = min(KW, OW - c0)
                if j1 <= j0:
                    continue
                for i in range(KH):
                    r = h * SH + i - PH
                    if r < 0 or r >= OH:
                        continue
                    d = ((n * OH + r) * OW + c0 + j0) * OC
                    dst = yf[d:d + (j1 - j0) * OC]
                    src = cf[s + i * L + j0 * OC:s + i * L + j1 * OC]
                    for t in range((j1 - j0) * OC):
                        dst[t] += src[t]


@njit
def _fill_plane(src, H, W, PH, PW, Wp, flat):
    """Copy the flat (H*W) plane src into the interior of the padded flat plane buffer
    (row length Wp); the border is zero from the start and never written."""
    for h in range(H):
        d = flat[(PH + h) * Wp + PW:(PH + h) * Wp + PW + W]
        s = src[h * W:h * W + W]
        for w in range(W):
            d[w] = s[w]


@njit
def _tap_offsets(KH, KW, Wp):
    offs = np.empty(KH * KW, np.int64)
    for i in range(KH):
        for j in range(KW):
            offs[i * KW + j] = i * Wp + j
    return offs


@njit(fastmath=FASTMATH)
def _direct_conv2d(x, Wt, PH, PW, y):
    """Stride-1 conv2d by shifted flat planes (see the module docstring): per (sample,
    input channel) the padded plane, then per output channel four taps per pass."""
    N, C, H, W = x.shape
    OC, _, KH, KW = Wt.shape
    OH, OW = y.shape[2], y.shape[3]
    Wp = W + 2 * PW
    Q = OH * Wp
    T = KH * KW
    offs = _tap_offsets(KH, KW, Wp)
    flat = np.zeros((H + 2 * PH + 1) * Wp, x.dtype)   # one spare zero row at the bottom
    acc = np.empty((OC, Q), x.dtype)
    xf = x.reshape(N, C, H * W)
    for n in range(N):
        acc[:] = 0
        for c in range(C):
            _fill_plane(xf[n, c], H, W, PH, PW, Wp, flat)
            for o in range(OC):
                a = acc[o]
                wv = Wt[o, c].reshape(-1)
                t = 0
                while t + 4 <= T:
                    w0, w1, w2, w3 = wv[t], wv[t + 1], wv[t + 2], wv[t + 3]
                    s0 = flat[offs[t]:offs[t] + Q]
                    s1 = flat[offs[t + 1]:offs[t + 1] + Q]
                    s2 = flat[offs[t + 2]:offs[t + 2] + Q]
                    s3 = flat[offs[t + 3]:offs[t + 3] + Q]
                    for q in range(Q):
                        a[q] += (w0 * s0[q] + w1 * s1[q]) + (w2 * s2[q] + w3 * s3[q])
                    t += 4
                while t < T:
                    w0 = wv[t]
                    s0 = flat[offs[t]:offs[t] + Q]
                    for q in range(Q):
                        a[q] += w0 * s0[q]
                    t += 1
        for o in range(OC):
            for oh in range(OH):
                y[n, o, oh] = acc[o, oh * Wp:oh * Wp + OW]
    return y


@njit(fastmath=FASTMATH)
def _direct_grad_weight(x, gy, PH, PW, gW):
    """Stride-1 conv2d weight gradient: dot products of gy (row length Wp, zero in the
    extra columns) with shifted flat planes, four taps per pass, summed over samples in
    float64. One thread writes every gW entry, so there is no race to guard."""
    N, C, H, W = x.shape
    OC, _, KH, KW = gW.shape
    OH, OW = gy.shape[2], gy.shape[3]
    Wp = W + 2 * PW
    Q = OH * Wp
    T = KH * KW
    offs = _tap_offsets(KH, KW, Wp)
    flat = np.zeros((H + 2 * PH + 1) * Wp, x.dtype)
    g = np.zeros((OC, Q), x.dtype)
    acc = np.zeros((OC, C, T))
    xf = x.reshape(N, C, H * W)
    zero = x.dtype.type(0)
    for n in range(N):
        for o in range(OC):
            for oh in range(OH):
                g[o, oh * Wp:oh * Wp + OW] = gy[n, o, oh]
        for c in range(C):
            _fill_plane(xf[n, c], H, W, PH, PW, Wp, flat)
            for o in range(OC):
                go = g[o]
                t = 0
                while t + 4 <= T:
                    s0 = flat[offs[t]:offs[t] + Q]
                    s1 = flat[offs[t + 1]:offs[t + 1] + Q]
                    s2 = flat[offs[t + 2]:offs[t + 2] + Q]
                    s3 = flat[offs[t + 3]:offs[t + 3] + Q]
                    d0 = d1 = d2 = d3 = zero
                    for q in range(Q):
                        v = go[q]
                        d0 += v * s0[q]
                        d1 += v * s1[q]
                        d2 += v * s2[q]
                        d3 += v * s3[q]
                    acc[o, c, t] += d0
                    acc[o, c, t + 1] += d1
                    acc[o, c, t + 2] += d2
                    acc[o, c, t + 3] += d3
                    t += 4
                while t < T:
                    s0 = flat[offs[t]:offs[t] + Q]
                    d0 = zero
                    for q in range(Q):
                        d0 += go[q] * s0[q]
                    acc[o, c, t] += d0
                    t += 1
    gf = gW.reshape(OC, C, T)
    for o in range(OC):
        for c in range(C):
            for t in range(T):
                gf[o, c, t] = acc[o, c, t]
    return gW


@njit
def _gather_taps(T, KH, KW, PH, PW, yl):
    """Stride-1 conv2d from per-pixel tap products: yl (N, OH, OW, OC) with
    yl[n, oh, ow, o] = sum_{i,j} T[n, oh + i - PH, ow + j - PW, (i*KW + j)*OC + o] over the
    taps that land inside T's H x W (the rest is zero padding)."""
    N, H, W = T.shape[:3]
    OH, OW, OC = yl.shape[1:]
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                d = yl[n, oh, ow]
                d[:] = 0
                for i in range(KH):
                    h = oh + i - PH
                    if h < 0 or h >= H:
                        continue
                    for j in range(KW):
                        w = ow + j - PW
                        if w < 0 or w >= W:
                            continue
                        t = T[n, h, w]
                        for o in range(OC):
                            d[o] += t[(i * KW + j) * OC + o]
    return yl


@njit
def _scatter_taps(gy, KH, KW, PH, PW, H, W, G):
    """The adjoint of ``_gather_taps``: G (N, H, W, KH*KW*OC) with
    G[n, h, w, (i*KW + j)*OC + o] = gy[n, o, h - i + PH, w - j + PW] (0 outside gy)."""
    N, OC, OH, OW = gy.shape
    for n in range(N):
        for h in range(H):
            for w in range(W):
                g = G[n, h, w]
                for i in range(KH):
                    oh = h - i + PH
                    for j in range(KW):
                        ow = w - j + PW
                        inside = 0 <= oh < OH and 0 <= ow < OW
                        for o in range(OC):
                            g[(i * KW + j) * OC + o] = gy[n, o, oh, ow] if inside else 0
    return G


# -- the layouts, in Python around np.matmul ------------------------------------------

def _chunks(N: int, per_sample: int) -> list[tuple[int, int]]:
    """The sample ranges [n0, n1) of the chunks: at most ``CHUNK_ELEMENTS`` values of the
    column matrix each (so the temporaries stay in cache), and at least ``MIN_CHUNKS``
    where N allows (so that the workers of ``parallel_for`` share the work). They depend
    on the shapes only, never on the number of workers."""
    ns = max(1, min(N, CHUNK_ELEMENTS // max(per_sample, 1), -(-N // MIN_CHUNKS)))
    return [(n0, min(N, n0 + ns)) for n0 in range(0, N, ns)]


def _channels_last_of(a, slot):
    """a (n, C, H, W) as a channels-last (n, H, W, C) array: a's memory when it is
    channels-last, else a copy into the scratch workspace ``slot``."""
    n, C, H, W = a.shape
    if is_channels_last(a):
        return nhwc(a)
    return _to_channels_last(a, scratch(slot, (n, H, W, C), a.dtype))


def _rows_of(a, slot):
    """a (n, C, H, W) as the channels-last matrix of its pixels (n*H*W, C)."""
    return _channels_last_of(a, slot).reshape(-1, a.shape[1])


def _per_sample(a):
    """a (n, C, H, W) as (n, C, H*W): a view, BLAS reading it transposed where a is
    channels-last."""
    n, C, H, W = a.shape
    if a.flags.c_contiguous:
        return a.reshape(n, C, H * W)
    return nhwc(a).reshape(n, H * W, C).transpose(0, 2, 1)


def _nchw(a):
    """a (N, C, H, W) in C order (a copy only for a channels-last a with C > 1): for the
    per-plane layouts."""
    return np.ascontiguousarray(a)


def _sum_partials(parts, out):
    """out = parts[0] + parts[1] + ..., in chunk order, on the workers in blocks of the
    summed values (each value is added up alike in any block: the same sum for any thread
    count)."""
    p, o = parts.reshape(parts.shape[0], -1), out.reshape(-1)
    n = o.size
    step = max(1 << 14, -(-n // MIN_CHUNKS))
    parallel_for(-(-n // step), lambda k: np.sum(p[:, k * step:(k + 1) * step], axis=0,
                                                 out=o[k * step:(k + 1) * step]))
    return out


def _conv2d_rows(x, W, SH, SW, PH, PW, OH, OW, yl):
    N, C, H, Wd = x.shape
    OC, _, KH, KW = W.shape
    K, P = C * KH * KW, OH * OW
    # W as (OC, (i, j, c)), used transposed by BLAS (a copy of W.transpose(2, 3, 1, 0) is
    # a slow full reversal of the axes)
    Wr = _swap_last_two(W.reshape(OC, C, KH * KW),
                        np.empty((OC, KH * KW, C), x.dtype)).reshape(OC, K)
    chunks = _chunks(N, P * K)

    def chunk(k):
        n0, n1 = chunks[k]
        cols = scratch("cols", ((n1 - n0) * P, K), x.dtype)
        _im2col_rows(_channels_last_of(x[n0:n1], "xh"), KH, KW, SH, SW, PH, PW, OH, OW,
                     cols.reshape(-1))
        np.matmul(cols, Wr.T, out=yl[n0:n1].reshape(-1, OC))   # the output, channels-last
    parallel_for(len(chunks), chunk)
    return yl


def _conv2d_cols(x, W, SH, SW, PH, PW, OH, OW, yl):
    N, C = x.shape[:2]
    OC, _, KH, KW = W.shape
    K, P = C * KH * KW, OH * OW
    x = _nchw(x)
    Wm = W.reshape(OC, K)
    chunks = _chunks(N, P * K)

    def chunk(k):
        n0, n1 = chunks[k]
        cols = _im2col_nchw(x[n0:n1], KH, KW, SH, SW, PH, PW,
                            scratch("cols", (n1 - n0, C, KH, KW, OH, OW), x.dtype))
        # per sample (P, K) @ (K, OC): channels-last, both operands transposed by BLAS
        np.matmul(cols.reshape(n1 - n0, K, P).transpose(0, 2, 1), Wm.T,
                  out=yl[n0:n1].reshape(n1 - n0, P, OC))
    parallel_for(len(chunks), chunk)
    return yl


def _conv2d_taps(x, W, PH, PW, yl):
    """Stride 1, few output channels, channels-last x: one GEMM of x's pixels (n*H*W, C)
    with W as (C, (i, j, o)) gives every tap's product, then each output pixel sums its
    KH*KW taps (``_gather_taps``); no column matrix, no layout conversion."""
    N, C, H, Wd = x.shape
    OC, _, KH, KW = W.shape
    M = KH * KW * OC
    Wt = np.ascontiguousarray(W.transpose(1, 2, 3, 0)).reshape(C, M)
    chunks = _chunks(N, H * Wd * M)

    def chunk(k):
        n0, n1 = chunks[k]
        T = np.matmul(_rows_of(x[n0:n1], "xh"), Wt,
                      out=scratch("cols", ((n1 - n0) * H * Wd, M), x.dtype))
        _gather_taps(T.reshape(n1 - n0, H, Wd, M), KH, KW, PH, PW, yl[n0:n1])
    parallel_for(len(chunks), chunk)
    return yl


def _conv_transpose2d_rows(x, W, SH, SW, PH, PW, OH, OW, yl):
    N, C, H, Wd = x.shape
    OC, KH, KW = W.shape[1:]
    M = KH * KW * OC
    Wr = _swap_last_two(W.reshape(C, OC, KH * KW),
                        np.empty((C, KH * KW, OC), x.dtype)).reshape(C, M)
    chunks = _chunks(N, H * Wd * M)

    def chunk(k):
        n0, n1 = chunks[k]
        cols = np.matmul(_rows_of(x[n0:n1], "xh"), Wr,
                         out=scratch("cols", ((n1 - n0) * H * Wd, M), x.dtype))
        _col2im_rows_cropped(cols.reshape(-1), H, Wd, KH, KW, SH, SW, PH, PW, yl[n0:n1])
    parallel_for(len(chunks), chunk)
    return yl


def _conv_transpose2d_cols(x, W, SH, SW, PH, PW, OH, OW, y):
    N, C, H, Wd = x.shape
    OC, KH, KW = W.shape[1:]
    Wm = W.reshape(C, OC * KH * KW).T
    chunks = _chunks(N, OC * KH * KW * H * Wd)

    def chunk(k):
        n0, n1 = chunks[k]
        cols = np.matmul(Wm, _per_sample(x[n0:n1]),
                         out=scratch("cols", (n1 - n0, OC * KH * KW, H * Wd), x.dtype))
        _col2im_nchw(cols.reshape(n1 - n0, OC, KH, KW, H, Wd), SH, SW, PH, PW, y[n0:n1])
    parallel_for(len(chunks), chunk)
    return y


def _grad_weight_rows(x, gy, KH, KW, SH, SW, PH, PW, gW):
    N, C, H, Wd = x.shape
    OC, OH, OW = gy.shape[1:]
    K, P = C * KH * KW, OH * OW
    chunks = _chunks(N, P * K)
    parts = scratch("parts", (len(chunks), OC, K), x.dtype)

    def chunk(k):
        n0, n1 = chunks[k]
        cols = scratch("cols", ((n1 - n0) * P, K), x.dtype)
        _im2col_rows(_channels_last_of(x[n0:n1], "xh"), KH, KW, SH, SW, PH, PW, OH, OW,
                     cols.reshape(-1))
        np.matmul(_rows_of(gy[n0:n1], "yr").T, cols, out=parts[k])
    parallel_for(len(chunks), chunk)
    acc = _sum_partials(parts, np.empty((OC, K), x.dtype))
    _swap_last_two(acc.reshape(OC, KH * KW, C), gW.reshape(OC, C, KH * KW))
    return gW


def _grad_weight_cols(x, gy, KH, KW, SH, SW, PH, PW, gW):
    N, C = x.shape[:2]
    OC, OH, OW = gy.shape[1:]
    K, P = C * KH * KW, OH * OW
    x = _nchw(x)
    part = scratch("parts", (N, OC, K), x.dtype)      # one product per sample
    chunks = _chunks(N, P * K)

    def chunk(k):
        n0, n1 = chunks[k]
        cols = _im2col_nchw(x[n0:n1], KH, KW, SH, SW, PH, PW,
                            scratch("cols", (n1 - n0, C, KH, KW, OH, OW), x.dtype))
        np.matmul(_per_sample(gy[n0:n1]), cols.reshape(n1 - n0, K, P).transpose(0, 2, 1),
                  out=part[n0:n1])
    parallel_for(len(chunks), chunk)
    _sum_partials(part, gW.reshape(OC, K))
    return gW


def _grad_weight_taps(x, gy, KH, KW, PH, PW, gW):
    """The adjoint of ``_conv2d_taps`` in W: per chunk G (n*H*W, (i, j, o)) from gy
    (``_scatter_taps``) and G^T @ x's pixels (n*H*W, C); the chunks' sums added up."""
    N, C, H, Wd = x.shape
    OC = gy.shape[1]
    M = KH * KW * OC
    chunks = _chunks(N, H * Wd * M)
    parts = scratch("parts", (len(chunks), M, C), x.dtype)

    def chunk(k):
        n0, n1 = chunks[k]
        G = _scatter_taps(gy[n0:n1], KH, KW, PH, PW, H, Wd,
                          scratch("cols", (n1 - n0, H, Wd, M), x.dtype))
        np.matmul(G.reshape(-1, M).T, _rows_of(x[n0:n1], "xh"), out=parts[k])
    parallel_for(len(chunks), chunk)
    gWt = _sum_partials(parts, np.empty((M, C), x.dtype))
    gW[...] = gWt.reshape(KH, KW, OC, C).transpose(2, 3, 0, 1)
    return gW


def _pick_conv2d(C: int, OC: int, KH: int, KW: int, SH: int, SW: int,
                 c_order: bool) -> str:
    if SH == SW == 1 and OC <= DIRECT_MAX_OC:
        return "direct" if c_order else "taps"
    return "cols" if C * KH * KW <= COLS_MAX_K else "rows"


def _pick_conv_transpose2d(C: int, OC: int, KH: int, KW: int, SH: int, SW: int, PH: int,
                           PW: int) -> str:
    if SH == SW == 1 and C < OC and PH < KH and PW < KW:
        return "as_conv2d"
    return "cols" if OC * KH * KW <= COLS_MAX_TRANSPOSE_K else "rows"


# -- the public kernels ------------------------------------------------------------------

def im2col(x: np.ndarray, KH: int, KW: int, SH: int, SW: int, PH: int, PW: int,
           out: np.ndarray | None = None) -> np.ndarray:
    """The receptive fields of x as columns.

    Shapes: x (N, C, H, W) -> cols (N, C, KH, KW, OH, OW), with
    cols[n, c, i, j, oh, ow] = x[n, c, oh*SH + i - PH, ow*SW + j - PW] (0 outside x)
    and OH, OW = conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW).
    """
    SH, SW, PH, PW, OH, OW = check_im2col(x.shape, KH, KW, SH, SW, PH, PW)
    dtype, (xc,) = check_inputs("im2col", x=x)
    N, C = x.shape[:2]
    check_out("im2col", out, (N, C, KH, KW, OH, OW), dtype)
    cols = np.empty((N, C, KH, KW, OH, OW), dtype) if out is None else out
    return _im2col_nchw(xc, KH, KW, SH, SW, PH, PW, cols)


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
    dtype, (cc,) = check_inputs("col2im", cols=cols)
    check_out("col2im", out, x_shape, dtype)
    x = np.empty(x_shape, dtype) if out is None else out
    return _col2im_nchw(cc, SH, SW, PH, PW, x)


def conv2d(x: np.ndarray, W: np.ndarray, stride: Any = 1, padding: Any = 0,
           out: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation, no bias: y[n, o, oh, ow] = sum_{c,i,j} W[o, c, i, j] *
    x[n, c, oh*SH + i - PH, ow*SW + j - PW].

    Shapes: x (N, C, H, W), W (OC, C, KH, KW) -> y (N, OC, OH, OW),
    OH = (H + 2 PH - KH) // SH + 1 (and likewise OW). x may be C-contiguous or
    channels-last; y is channels-last, except in the "direct" layout (C order).
    """
    (SH, SW), (PH, PW), (OH, OW) = check_conv2d(x.shape, W.shape, stride, padding)
    dtype, (x, W) = check_inputs("conv2d", channels_last=True, x=x, W=W)
    W = np.ascontiguousarray(W)
    (N, C), (OC, _, KH, KW) = x.shape[:2], W.shape
    check_out("conv2d", out, (N, OC, OH, OW), dtype)
    layout = _pick_conv2d(C, OC, KH, KW, SH, SW, x.flags.c_contiguous)
    if layout == "direct":
        return _direct_conv2d(_nchw(x), W, PH, PW,
                              np.empty((N, OC, OH, OW), dtype) if out is None else out)
    y = empty_channels_last((N, OC, OH, OW), dtype)
    if layout == "taps":
        _conv2d_taps(x, W, PH, PW, nhwc(y))
    else:
        compute = _conv2d_cols if layout == "cols" else _conv2d_rows
        compute(x, W, SH, SW, PH, PW, OH, OW, nhwc(y))
    return into(out, y)


def conv_transpose2d(x: np.ndarray, W: np.ndarray, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, out: np.ndarray | None = None) -> np.ndarray:
    """Transposed convolution, no bias: the adjoint of u -> conv2d(u, W) applied to x,
    y[n, o, h*SH + i - PH, w*SW + j - PW] += sum_c W[c, o, i, j] * x[n, c, h, w].

    Shapes: x (N, C, H, W), W (C, OC, KH, KW) -> y (N, OC, OH, OW),
    OH = (H - 1) SH - 2 PH + KH + OPH with 0 <= OPH < SH (and likewise OW). x may be
    C-contiguous or channels-last; y is channels-last, except in the "cols" layout (C order).
    """
    (SH, SW), (PH, PW), _, (OH, OW) = check_conv_transpose2d(
        x.shape, W.shape, stride, padding, output_padding)
    dtype, (x, W) = check_inputs("conv_transpose2d", channels_last=True, x=x, W=W)
    W = np.ascontiguousarray(W)
    (N, C), (OC, KH, KW) = x.shape[:2], W.shape[1:]
    check_out("conv_transpose2d", out, (N, OC, OH, OW), dtype)
    layout = _pick_conv_transpose2d(C, OC, KH, KW, SH, SW, PH, PW)
    if layout == "as_conv2d":   # stride 1 (so no output padding): a conv2d, kernel flipped
        Wf = np.ascontiguousarray(W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        return conv2d(x, Wf, 1, (KH - 1 - PH, KW - 1 - PW), out=out)
    if layout == "cols":
        return _conv_transpose2d_cols(x, W, SH, SW, PH, PW, OH, OW,
                                      np.empty((N, OC, OH, OW), dtype) if out is None else out)
    y = empty_channels_last((N, OC, OH, OW), dtype)
    _conv_transpose2d_rows(x, W, SH, SW, PH, PW, OH, OW, nhwc(y))
    return into(out, y)


def conv2d_grad_weight(x: np.ndarray, gy: np.ndarray, kernel_size: Any, stride: Any = 1,
                       padding: Any = 0, out: np.ndarray | None = None) -> np.ndarray:
    """The weight gradient of conv2d: gW[o, c, i, j] = sum_{n,oh,ow} gy[n, o, oh, ow] *
    x[n, c, oh*SH + i - PH, ow*SW + j - PW].

    Shapes: x (N, C, H, W), gy (N, OC, OH, OW) (conv2d's output shape) -> gW (OC, C, KH, KW).
    x and gy may each be C-contiguous or channels-last.
    """
    (KH, KW), (SH, SW), (PH, PW) = check_conv2d_grad_weight(
        x.shape, gy.shape, kernel_size, stride, padding)
    dtype, (x, gy) = check_inputs("conv2d_grad_weight", channels_last=True, x=x, gy=gy)
    C, OC = x.shape[1], gy.shape[1]
    check_out("conv2d_grad_weight", out, (OC, C, KH, KW), dtype)
    gW = np.empty((OC, C, KH, KW), dtype) if out is None else out
    layout = _pick_conv2d(C, OC, KH, KW, SH, SW, x.flags.c_contiguous)   # same products
    if layout == "direct":
        return _direct_grad_weight(_nchw(x), _nchw(gy), PH, PW, gW)
    if layout == "taps":
        return _grad_weight_taps(x, gy, KH, KW, PH, PW, gW)
    if layout == "cols":
        return _grad_weight_cols(x, gy, KH, KW, SH, SW, PH, PW, gW)
    return _grad_weight_rows(x, gy, KH, KW, SH, SW, PH, PW, gW)
