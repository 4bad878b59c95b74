"""``digits``: an MNIST-like set of 28x28 handwritten-looking digits, rendered from
the fonts matplotlib ships and deformed at random, deterministic from a seed.

Each (font, digit) glyph is drawn once at 2x resolution (56 px, the digit's
larger side 40 px, as MNIST fits digits in a 20 px box of 28). Per sample, all
vectorised over the batch:

1. stroke width: the glyph is thinned or thickened by a grey-level min/max
   filter (a few fixed radii, precomputed once per glyph);
2. an affine map (rotation, anisotropic scale, shear, translation) resamples it
   bilinearly onto the 28x28 grid;
3. a Gaussian blur of random width softens the pen, and the result is scaled so
   its brightest pixel is 1.

Images are white strokes on black, stored as uint8 and returned as float32 in
[-1, 1] (N, 1, 28, 28) with int64 labels, classes balanced.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from scratchgan.data.glyphs import render_digit_glyphs
from scratchgan.data.imageops import bilinear_sample, gaussian_blur, max_filter, min_filter

VERSION = 1
CANVAS, BOX = 56, 40             # glyph resolution: 2x of 28 and of MNIST's 20 px box
STROKE_RADII = (-1, 0, 1, 2)     # min (negative) or max filter radius at 56 px
ROTATION_DEG, SHEAR, SCALE, ASPECT, SHIFT_PX = 14.0, 0.3, (0.8, 1.08), (0.75, 1.1), 1.5
BLUR_SIGMA = (0.35, 0.9)
_CHUNK = 4000


def cache_folder() -> Path:
    """``$SCRATCHGAN_CACHE`` or ``~/.cache/scratchgan``."""
    return Path(os.environ.get("SCRATCHGAN_CACHE", Path.home() / ".cache" / "scratchgan"))


def _stroke_variants() -> np.ndarray:
    """(len(STROKE_RADII) * fonts * 10, CANVAS, CANVAS): every glyph at every stroke
    width; glyph g (= font * 10 + digit) at stroke s is entry s * fonts * 10 + g."""
    glyphs, _ = render_digit_glyphs(CANVAS, BOX)
    flat = glyphs.reshape(-1, CANVAS, CANVAS)
    return np.concatenate([min_filter(flat, -r) if r < 0 else max_filter(flat, r) if r else flat
                           for r in STROKE_RADII])


def _inverse_affines(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, t) per sample, mapping output coordinates (centred, in 28-px units) to
    glyph coordinates (centred, in 28-px units): src = M @ out + t."""
    angle = np.deg2rad(rng.uniform(-ROTATION_DEG, ROTATION_DEG, n))
    shear = rng.uniform(-SHEAR, SHEAR, n)
    scale = rng.uniform(*SCALE, n)
    aspect = rng.uniform(*ASPECT, n)
    cos, sin = np.cos(angle), np.sin(angle)
    # forward map A = R(angle) @ Shear @ diag(scale * aspect, scale), on (x, y)
    a11, a12 = scale * aspect * cos, scale * (shear * cos - sin)
    a21, a22 = scale * aspect * sin, scale * (shear * sin + cos)
    det = a11 * a22 - a12 * a21
    M = np.stack([np.stack([a22, -a12], -1), np.stack([-a21, a11], -1)], -2) / det[:, None, None]
    shift = rng.uniform(-SHIFT_PX, SHIFT_PX, (n, 2))
    t = -np.einsum("nij,nj->ni", M, shift)
    return M, t


def _render(variants: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 images (n, 28, 28) of the given labels."""
    n = len(labels)
    glyphs_per_stroke = len(variants) // len(STROKE_RADII)
    glyph = rng.integers(0, glyphs_per_stroke // 10, n) * 10 + labels
    which = rng.integers(0, len(STROKE_RADII), n) * glyphs_per_stroke + glyph
    M, t = _inverse_affines(rng, n)
    sigma = rng.uniform(*BLUR_SIGMA, n)
    grid = np.arange(28) + 0.5 - 14                                # pixel centres, centred
    gy, gx = np.meshgrid(grid, grid, indexing="ij")
    out_xy = np.stack([gx.ravel(), gy.ravel()])                    # (2, 784)
    src = np.einsum("nij,jp->nip", M, out_xy) + t[:, :, None]      # (n, 2, 784)
    to_px = CANVAS / 28
    xs, ys = src[:, 0] * to_px + CANVAS / 2 - 0.5, src[:, 1] * to_px + CANVAS / 2 - 0.5
    images = gaussian_blur(bilinear_sample(variants, which, ys, xs).reshape(n, 28, 28), sigma)
    images /= np.maximum(images.max(axis=(1, 2), keepdims=True), 1e-6)
    return np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)


def generate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (n, 28, 28), int64 labels (n,)), balanced classes, from ``seed``."""
    rng = np.random.default_rng([seed, 2024])
    labels = rng.permutation(np.arange(n) % 10).astype(np.int64)
    variants = _stroke_variants()
    images = np.empty((n, 28, 28), np.uint8)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        images[start:stop] = _render(variants, labels[start:stop], rng)
    return images, labels


def _cache_path(n: int, seed: int) -> Path:
    params = {"version": VERSION, "n": n, "seed": seed, "canvas": CANVAS, "box": BOX,
              "fonts": render_digit_glyphs(CANVAS, BOX)[1],
              "strokes": STROKE_RADII, "rotation": ROTATION_DEG, "shear": SHEAR, "scale": SCALE,
              "aspect": ASPECT, "shift": SHIFT_PX, "blur": BLUR_SIGMA}
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return cache_folder() / f"digits-{key}.npz"


def load_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``generate(n, seed)``, from the cache when there, else generated and cached
    (written atomically; a corrupted cache file is regenerated with a warning)."""
    path = _cache_path(n, seed)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                images, labels = f["images"], f["labels"]
            if images.shape == (n, 28, 28) and labels.shape == (n,):
                return images, labels
            raise ValueError(f"shapes {images.shape}, {labels.shape}")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            warnings.warn(f"digits cache {path} is unreadable ({e}); regenerating it")
    images, labels = generate(n, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, images=images, labels=labels)
    os.replace(tmp, path)
    return images, labels
