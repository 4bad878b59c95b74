"""Batch image operations in plain NumPy, used to render the digits dataset.

Every function works on a batch of grayscale images shaped (N, H, W) and is
vectorised over the batch: one call transforms N images with per-image
parameters, no Python loop over images.
"""
from __future__ import annotations

import numpy as np


def bilinear_sample(bank: np.ndarray, which: np.ndarray, ys: np.ndarray,
                    xs: np.ndarray) -> np.ndarray:
    """Read image ``which[n]`` of ``bank`` (B, H, W) at real-valued pixel coordinates
    (ys[n], xs[n]), both (N, P); pixel (i, j) sits at coordinate (i, j).

    A point between pixels mixes its four neighbours with bilinear weights; the
    bank is padded with one ring of zeros, so points outside read as 0. Indexes
    the bank in place (no per-sample copy of the images). Returns (N, P) float32.
    """
    b, h, w = bank.shape
    padded = np.pad(bank.astype(np.float32, copy=False), ((0, 0), (1, 1), (1, 1))).reshape(-1)
    ys = np.clip(ys + 1, 0, h).astype(np.float32)   # +1: the zero ring; clip onto it
    xs = np.clip(xs + 1, 0, w).astype(np.float32)
    y0, x0 = np.floor(ys), np.floor(xs)
    wy, wx = ys - y0, xs - x0
    top = (which.astype(np.int64) * ((h + 2) * (w + 2)))[:, None] + y0.astype(np.int64) * (w + 2) \
        + x0.astype(np.int64)
    row = w + 2
    return ((1 - wy) * ((1 - wx) * padded[top] + wx * padded[top + 1])
            + wy * ((1 - wx) * padded[top + row] + wx * padded[top + row + 1]))


def _shifted(images: np.ndarray, shift: int, axis: int, fill: float) -> np.ndarray:
    """images moved by ``shift`` pixels along ``axis``; vacated pixels hold ``fill``."""
    out = np.full_like(images, fill)
    size = images.shape[axis]
    if abs(shift) >= size:
        return out
    src = [slice(None)] * images.ndim
    dst = [slice(None)] * images.ndim
    src[axis] = slice(max(-shift, 0), size - max(shift, 0))
    dst[axis] = slice(max(shift, 0), size - max(-shift, 0))
    out[tuple(dst)] = images[tuple(src)]
    return out


def _rank_step(images: np.ndarray, reduce, fill: float, square: bool) -> np.ndarray:
    """One 3x3 max or min step (``reduce`` is np.maximum or np.minimum).

    ``square`` uses the full 3x3 window; otherwise the plus-shaped one (the
    centre and its four edge neighbours). Alternating the two grows an octagon,
    which is closer to a round pen than either shape alone.
    """
    if square:
        rows = reduce(reduce(images, _shifted(images, 1, -2, fill)), _shifted(images, -1, -2, fill))
        return reduce(reduce(rows, _shifted(rows, 1, -1, fill)), _shifted(rows, -1, -1, fill))
    out = images
    for axis in (-2, -1):
        for shift in (1, -1):
            out = reduce(out, _shifted(images, shift, axis, fill))
    return out


def max_filter(images: np.ndarray, radius: int) -> np.ndarray:
    """Grey-level dilation by an octagon of the given radius (thickens bright strokes).

    Built from ``radius`` alternating 3x3 square and plus-shaped max steps;
    pixels beyond the border count as minus infinity, so they never win.
    """
    out = images
    for step in range(radius):
        out = _rank_step(out, np.maximum, -np.inf, square=step % 2 == 1)
    return out


def min_filter(images: np.ndarray, radius: int) -> np.ndarray:
    """Grey-level erosion by an octagon of the given radius (thins bright strokes).

    The dual of :func:`max_filter`; pixels beyond the border count as plus
    infinity, so the border does not eat into strokes that touch it.
    """
    out = images
    for step in range(radius):
        out = _rank_step(out, np.minimum, np.inf, square=step % 2 == 1)
    return out


def gaussian_kernels(sigma: np.ndarray, radius: int) -> np.ndarray:
    """Normalised 1-D Gaussian taps at offsets -radius..radius, one row per sigma: (N, 2r+1)."""
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64).reshape(-1, 1), 1e-6)
    taps = np.exp(-0.5 * (offsets / sigma) ** 2)
    return taps / taps.sum(axis=1, keepdims=True)


def gaussian_blur(images: np.ndarray, sigma) -> np.ndarray:
    """Blur each image (N, H, W) with its own Gaussian of std ``sigma`` (scalar or (N,)).

    Separable: a 1-D pass along rows then along columns, with taps out to
    3 sigma of the widest kernel and zeros beyond the border.
    """
    n = images.shape[0]
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n,))
    radius = max(1, int(np.ceil(3 * sigma.max())))
    taps = gaussian_kernels(sigma, radius).astype(images.dtype)
    out = images
    for axis in (-2, -1):
        blurred = np.zeros_like(out)
        for k, offset in enumerate(range(-radius, radius + 1)):
            blurred += taps[:, k, None, None] * _shifted(out, offset, axis, 0.0)
        out = blurred
    return out
