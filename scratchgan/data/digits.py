"""``digits``: an MNIST-like set of 28x28 handwritten-looking digits, made on the spot.

How a sample is made:

1. Every digit of every font matplotlib ships (:mod:`scratchgan.data.glyphs`;
   DejaVu Sans Mono's dotted zero excepted) is drawn once at 128x128,
   thickened or thinned with a max or min filter to a few stroke widths (the
   same widths for every font, so a bold face and a hairline serif both reach
   thin and thick pens), and box-averaged to a 32x32 "glyph bank".
2. Each sample picks a glyph and a stroke width, and a random affine map
   (rotation, shear, scale, aspect, translation) plus a smooth random
   displacement field (a wobbly hand). Its 28x28 pixels are read from the bank
   with bilinear interpolation, all samples of a chunk at once.
3. A Gaussian blur of random width softens the strokes; each image is then
   stretched so its strokes saturate, like MNIST's.

As in MNIST, the digit's larger side fills a 20x20 box and its centre of mass
sits at the centre of the 28x28 frame (before the random translation); strokes
are white (255) on black (0). The result depends only on (split, seed, n), the
fonts, matplotlib's version and :data:`DIGITS_VERSION` (raise it whenever the
images change), and is cached as .npz (see
:mod:`scratchgan.data.cache`).
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import matplotlib
import numpy as np

from scratchgan.data import cache
from scratchgan.data.glyphs import available_digit_fonts, render_digit_glyphs
from scratchgan.data.imageops import (bilinear_sample, box_downsample, gaussian_blur,
                                      linear_resize_matrix, max_filter, min_filter)
from scratchgan.data.splits import split_rng

DIGITS_VERSION = "2"
IMAGE_SIZE = 28
DIGIT_BOX = 20
SPLIT_SIZES = {"train": 60000, "test": 10000}

_CANVAS = 128                 # glyphs are drawn on a 128x128 canvas ...
_GLYPH_BOX = 96               # ... with their larger side 96 pixels long,
_BANK_FACTOR = 4              # then box-averaged to the 32x32 bank.
_STROKE_WIDTHS = (1.5, 2.0, 2.5, 3.0, 3.6)    # pen widths, in output pixels
_BLACK_BELOW, _WHITE_ABOVE = 0.1, 0.7     # contrast stretch of the blurred strokes
_CHUNK = 4096                 # samples rendered per vectorised pass


def _stroke_width(glyphs: np.ndarray) -> np.ndarray:
    """Mean stroke width of each glyph (G, H, W) in pixels: 2 * ink area / outline length."""
    area = glyphs.sum(axis=(1, 2))
    outline = (np.abs(np.diff(glyphs, axis=1)).sum(axis=(1, 2))
               + np.abs(np.diff(glyphs, axis=2)).sum(axis=(1, 2)))
    # The summed |differences| along the two axes overestimate a curve's length by
    # 4/pi on average over directions.
    return 2 * area / (outline * np.pi / 4)


@lru_cache(maxsize=1)
def glyph_bank() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bank every sample is read from.

    Returns ``(bank, digit, centre)``: bank float32 (G, S, 32, 32) holds glyph g at
    stroke width ``_STROKE_WIDTHS[s]``; ``digit[g]`` is its digit; ``centre[g, s]``
    its centre of mass (row, column) in bank pixels. Cached per process.
    """
    glyphs, digit, _ = render_digit_glyphs(_CANVAS, _GLYPH_BOX)
    width = _stroke_width(glyphs)
    target = np.array(_STROKE_WIDTHS) * (_GLYPH_BOX / DIGIT_BOX)
    # Dilating by r widens a stroke by 2r. Erosion stops at a sixth of the mean
    # width (a third of it in all), or a serif font's hairlines would vanish.
    radius = np.rint((target[None, :] - width[:, None]) / 2).astype(int)
    radius = np.maximum(radius, -np.floor(width / 6).astype(int)[:, None])
    side = _CANVAS // _BANK_FACTOR
    bank = np.zeros((len(glyphs), len(target), side, side), dtype=np.float32)
    for r in np.unique(radius):
        g, s = np.nonzero(radius == r)
        morphed = max_filter(glyphs[g], r) if r > 0 else min_filter(glyphs[g], -r)
        bank[g, s] = box_downsample(morphed, _BANK_FACTOR)
    position = np.arange(side, dtype=np.float32)
    mass = bank.sum(axis=(2, 3))
    centre = np.stack([(bank.sum(axis=3) * position).sum(axis=2) / mass,
                       (bank.sum(axis=2) * position).sum(axis=2) / mass], axis=-1)
    return bank, digit, centre


def _pick_glyphs(rng: np.random.Generator, labels: np.ndarray, digit: np.ndarray) -> np.ndarray:
    """For each label, a uniformly drawn glyph index among the glyphs of that digit."""
    counts = np.bincount(digit, minlength=10)
    by_digit = np.zeros((10, counts.max()), dtype=np.int64)
    for d in range(10):
        by_digit[d, :counts[d]] = np.nonzero(digit == d)[0]
    slot = (rng.random(labels.shape[0]) * counts[labels]).astype(np.int64)
    return by_digit[labels, slot]


def _random_maps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-sample 2x2 maps from output offsets (row, column) to bank offsets: (n, 2, 2).

    The forward map (bank to output) is rotation @ shear @ diag(height, width
    scale) times the bank-to-output size ratio; this returns its inverse.
    """
    angle = np.clip(rng.normal(0.0, np.deg2rad(9), n), -np.deg2rad(22), np.deg2rad(22))
    shear = np.clip(rng.normal(0.0, 0.18, n), -0.4, 0.4)
    scale = rng.uniform(0.88, 1.02, n)
    aspect = np.exp(np.clip(rng.normal(0.0, 0.15, n), -0.35, 0.35))
    size_ratio = (_GLYPH_BOX / _BANK_FACTOR) / DIGIT_BOX
    cos, sin = np.cos(angle), np.sin(angle)
    unrotate = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
    # Shear slants the column with the row: column' = column - shear * row.
    unshear = np.stack([np.stack([np.ones(n), np.zeros(n)], -1),
                        np.stack([-shear, np.ones(n)], -1)], -2)
    unscale = np.zeros((n, 2, 2))
    unscale[:, 0, 0] = size_ratio / scale
    unscale[:, 1, 1] = size_ratio / (scale * aspect)
    return unscale @ unshear @ unrotate


def _wobble(rng: np.random.Generator, n: int, grid: int = 4) -> np.ndarray:
    """Smooth random displacements of the 28x28 output pixels, in pixels: (n, 2, 784).

    Random offsets on a coarse grid x grid lattice spanning the frame, spread to
    every pixel by bilinear interpolation (a wobbly hand, not a shaky one).
    """
    amplitude = rng.uniform(0.0, 1.2, (n, 1, 1, 1))
    coarse = rng.standard_normal((n, 2, grid, grid)) * amplitude
    resize = linear_resize_matrix(grid, IMAGE_SIZE)
    return (resize @ coarse @ resize.T).reshape(n, 2, -1)


def _render_chunk(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """Images (n, 28, 28) uint8 of the given digit labels."""
    bank, digit, centre = glyph_bank()
    n = labels.shape[0]
    glyph = _pick_glyphs(rng, labels, digit)
    width = rng.integers(0, bank.shape[1], n)
    maps = _random_maps(rng, n).astype(np.float32)
    shift = np.clip(rng.normal(0.0, 0.7, (n, 2, 1)), -2.0, 2.0).astype(np.float32)
    wobble = _wobble(rng, n).astype(np.float32)

    pixel = np.arange(IMAGE_SIZE, dtype=np.float32) - np.float32((IMAGE_SIZE - 1) / 2)
    offsets = np.stack([np.repeat(pixel, IMAGE_SIZE), np.tile(pixel, IMAGE_SIZE)])  # (2, 784)
    offsets = offsets[None] - shift + wobble
    source = maps @ offsets + centre[glyph, width][:, :, None]
    flat_bank = bank.reshape(-1, *bank.shape[2:])
    images = bilinear_sample(flat_bank, glyph * bank.shape[1] + width, source[:, 0], source[:, 1])
    images = gaussian_blur(images.reshape(n, IMAGE_SIZE, IMAGE_SIZE), rng.uniform(0.3, 0.6, n))
    # Stretch each image so that its faint halo goes to black and its stroke
    # cores saturate, as in MNIST.
    relative = images / np.maximum(images.max(axis=(1, 2), keepdims=True), 1e-6)
    images = np.clip((relative - _BLACK_BELOW) / (_WHITE_ABOVE - _BLACK_BELOW), 0.0, 1.0)
    return np.rint(images * 255).astype(np.uint8)


def make_digits(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` digit images with balanced labels, no cache.

    Returns ``(images, labels)``: uint8 (n, 28, 28), 0 background and 255 ink, and
    int64 (n,) in 0..9 with every class count within one of n / 10.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    labels = rng.permutation(np.arange(n, dtype=np.int64) % 10)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        images[start:stop] = _render_chunk(rng, labels[start:stop])
    return images, labels


def _valid(arrays: dict[str, np.ndarray], n: int) -> bool:
    """Whether cached arrays have the shapes, dtypes and label range of n digits."""
    images, labels = arrays.get("images"), arrays.get("labels")
    return (images is not None and labels is not None
            and images.shape == (n, IMAGE_SIZE, IMAGE_SIZE) and images.dtype == np.uint8
            and labels.shape == (n,) and labels.dtype == np.int64
            and bool(np.all((labels >= 0) & (labels <= 9))))


def load_digits(split: str = "train", seed: int = 0,
                n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The digits of one split, from the cache or freshly made (then cached).

    ``split`` is "train" (60000 by default) or "test" (10000); the two draw from
    different random streams of the same ``seed``. Returns uint8 images
    (n, 28, 28) and int64 labels (n,). A cache file that cannot be read or holds
    the wrong arrays is made again, with a warning; so is one that cannot be
    written (the data is then returned uncached).
    """
    rng = split_rng(seed, split)
    n = SPLIT_SIZES[split] if n is None else int(n)
    params = {"dataset": "digits", "version": DIGITS_VERSION, "split": split, "seed": int(seed),
              "n": n, "fonts": [font.name for font in available_digit_fonts()],
              "matplotlib": matplotlib.__version__}
    path = cache.cache_path(f"digits-{split}-n{n}-seed{seed}", params)
    try:
        arrays = cache.read_arrays(path)
        if arrays is not None and not _valid(arrays, n):
            raise ValueError(f"cache file {path} does not hold {n} digit images and labels")
    except ValueError as error:
        warnings.warn(f"{error}; regenerating it", RuntimeWarning, stacklevel=2)
        arrays = None
    if arrays is not None:
        return arrays["images"], arrays["labels"]
    images, labels = make_digits(n, rng)
    try:
        cache.write_arrays(path, {"images": images, "labels": labels})
    except OSError as error:
        warnings.warn(f"could not cache the digits at {path}: {error}", RuntimeWarning, stacklevel=2)
    return images, labels
