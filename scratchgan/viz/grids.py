"""Sample grids: a batch of images tiled into one picture."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from scratchgan.viz.files import save_figure

GAP_VALUE = 0.5   # mid grey: visible between tiles on black and on white backgrounds


def image_grid(images: np.ndarray, nrow: int = 10, gap: int = 2) -> np.ndarray:
    """Tile images (N, C, H, W), C = 1 or 3, valued in [-1, 1], into one picture.

    Image k sits in tile row ``k // nrow``, tile column ``k % nrow`` (``nrow``
    images per row), ``gap`` pixels of grey between and around the tiles, and
    empty tiles at the end stay grey. Values are mapped to [0, 1] (clipped).
    Returns float32 (rows, cols) for C = 1, (rows, cols, 3) for C = 3.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"images must be shaped (N, 1 or 3, H, W) with N >= 1, got {images.shape}")
    if nrow < 1 or gap < 0:
        raise ValueError(f"need nrow >= 1 and gap >= 0, got nrow={nrow}, gap={gap}")
    n, c, h, w = images.shape
    rows = -(-n // nrow)
    tiles = np.full((rows * nrow, c, h + gap, w + gap), GAP_VALUE, dtype=np.float32)
    tiles[:n, :, gap:, gap:] = (np.clip(images, -1, 1) + 1) / 2
    # (tile row, tile column, C, H, W) -> (C, tile row, H, tile column, W)
    grid = tiles.reshape(rows, nrow, c, h + gap, w + gap).transpose(2, 0, 3, 1, 4)
    grid = grid.reshape(c, rows * (h + gap), nrow * (w + gap))
    grid = np.pad(grid, ((0, 0), (0, gap), (0, gap)), constant_values=GAP_VALUE)
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_image_grid(images: np.ndarray, path: str | Path, nrow: int = 10,
                    title: str | None = None) -> Path:
    """Write :func:`image_grid` of ``images`` as a PNG, each image pixel drawn as a
    square block of screen pixels (about 600 pixels across), with an optional title."""
    grid = image_grid(images, nrow)
    height, width = grid.shape[:2]
    zoom = max(1, round(600 / max(height, width)))
    title_px = 30 if title else 0
    dpi = 100
    figure = Figure(figsize=(width * zoom / dpi, (height * zoom + title_px) / dpi), dpi=dpi)
    image_height = height * zoom / (height * zoom + title_px)
    axes = figure.add_axes((0, 0, 1, image_height))
    axes.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes.set_axis_off()
    if title:
        figure.text(0.5, 1 - 0.5 * title_px / (height * zoom + title_px), title,
                    ha="center", va="center", fontsize=10)
    return save_figure(figure, path, dpi=dpi)
