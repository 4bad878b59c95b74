"""Batch image operations in plain NumPy, used to render the digits dataset.

The image functions work on a batch of grayscale images shaped (N, H, W) and
are vectorised over the batch: one call transforms N images with per-image
parameters, no Python loop over images.
"""
from __future__ import annotations

import numpy as np


def bilinear_sample(bank: np.ndarray, which: np.ndarray, ys: np.ndarray,
                    xs: np.ndarray) -> np.ndarray:
    """Read image ``which[n]`` of ``bank`` (B, H, W) at real-valued pixel coordinates
    (ys[n], xs[n]), both (N, P); pixel (i, j) sits at coordinate (i, j).

    A point between pixels mixes its four neighbours with bilinear weights. The
    bank is framed with zeros (one ring above and left, two below and right) and
    every coordinate is clamped into the frame, so points outside the image read
    as 0 without any masking, and the bank is indexed in place (no per-sample
    copy of its images). Returns (N, P) float32.
    """
    _, h, w = bank.shape
    row = w + 3
    framed = np.pad(bank.astype(np.float32, copy=False), ((0, 0), (1, 2), (1, 2))).reshape(-1)
    ys = np.clip(ys + 1, 0, h + 1).astype(np.float32)
    xs = np.clip(xs + 1, 0, w + 1).astype(np.float32)
    y0, x0 = np.floor(ys), np.floor(xs)
    wy, wx = ys - y0, xs - x0
    top_left = ((np.asarray(which, dtype=np.int64) * ((h + 3) * row))[:, None]
                + y0.astype(np.int64) * row + x0.astype(np.int64))
    top = (1 - wx) * framed[top_left] + wx * framed[top_left + 1]
    bottom = (1 - wx) * framed[top_left + row] + wx * framed[top_left + row + 1]
    return (1 - wy) * top + wy * bottom


def linear_resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """The (size_out, size_in) matrix of 1-D linear interpolation whose end points
    meet the input's end points; ``M @ image @ M.T`` resizes a square image."""
    position = np.arange(size_out) * (size_in - 1) / (size_out - 1)
    left = np.minimum(np.floor(position).astype(np.int64), size_in - 2)
    weight = position - left
    matrix = np.zeros((size_out, size_in))
    matrix[np.arange(size_out), left] = 1 - weight
    matrix[np.arange(size_out), left + 1] = weight
    return matrix


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


def box_downsample(images: np.ndarray, factor: int) -> np.ndarray:
    """Average non-overlapping factor x factor blocks: (N, H, W) -> (N, H/f, W/f)."""
    n, h, w = images.shape
    if h % factor or w % factor:
        raise ValueError(f"image size {h}x{w} is not a multiple of {factor}")
    return images.reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))
