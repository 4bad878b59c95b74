"""The inputs of the built-in paired sets, made from their target images in NumPy.

Both take a batch of images (N, C, H, W), float32 in [-1, 1] with bright strokes on a
dark (-1) background, as every image Dataset holds them, and return the same shape.
"""
from __future__ import annotations

import numpy as np

from scratchgan.data.imageops import max_filter

EDGE_THRESHOLD = 0.5      # in [0, 1] intensity: a pixel at least this much darker than a neighbour
BLOCK_FILL = 0.0          # mid-grey: neither background (-1) nor ink (1), so the hole is visible


def edge_map(images: np.ndarray) -> np.ndarray:
    """The outer outline of the strokes: +1 where a pixel is at least EDGE_THRESHOLD darker
    (on a [0, 1] scale) than the brightest of its four edge neighbours (a plus-shaped
    dilation minus the image), -1 elsewhere. The strokes themselves stay dark, so the
    translation has to fill them in."""
    n, c, h, w = images.shape
    unit = (images.reshape(n * c, h, w) + np.float32(1)) / np.float32(2)
    outline = (max_filter(unit, 1) - unit) >= EDGE_THRESHOLD
    return np.where(outline, np.float32(1), np.float32(-1)).reshape(n, c, h, w)


def default_block(size: int) -> int:
    """The side of the removed block for images of ``size`` pixels: 3/8 of it (10 at 28)."""
    return max(1, round(size * 3 / 8))


def remove_blocks(images: np.ndarray, rng: np.random.Generator,
                  block: int | None = None) -> np.ndarray:
    """A copy of ``images`` with one square of side ``block`` (default :func:`default_block`
    of the height) per image set to BLOCK_FILL in every channel. The square's top-left corner
    is drawn uniformly where its centre falls in the middle half of the image, where
    centred digits have their strokes."""
    n, _, h, w = images.shape
    block = default_block(h) if block is None else int(block)
    if not 1 <= block <= min(h, w):
        raise ValueError(f"block side {block} does not fit images of {h}x{w}")
    tops = _corners(rng, n, h, block)
    lefts = _corners(rng, n, w, block)
    rows = np.arange(h)[None, :] - tops[:, None]
    cols = np.arange(w)[None, :] - lefts[:, None]
    hole = ((rows >= 0) & (rows < block))[:, :, None] & ((cols >= 0) & (cols < block))[:, None, :]
    return np.where(hole[:, None], np.float32(BLOCK_FILL), images).astype(np.float32)


def _corners(rng: np.random.Generator, n: int, size: int, block: int) -> np.ndarray:
    """n corners in [0, size - block] whose block centre lies in [size/4, 3 size/4] when
    the block leaves room for it."""
    low = min(max(0, size // 4 - block // 2), size - block)
    high = max(low, min(size - block, (3 * size) // 4 - block // 2))
    return rng.integers(low, high + 1, n)
