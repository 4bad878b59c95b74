"""Writing a figure to a PNG file atomically.

Figures here are plain ``matplotlib.figure.Figure`` objects drawn by the Agg
canvas: pyplot is never imported, so no window opens, no global figure list
holds them, and a figure is freed as soon as the function that made it returns.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scratchgan.io import PNG_METADATA, atomic_write


def save_figure(figure: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Render ``figure`` to a PNG at ``path`` with ``atomic_write``, so a crash never
    leaves half a picture under ``path``; the PNG carries scratchgan's mark
    (``io.PNG_METADATA``)."""
    path = Path(path)
    FigureCanvasAgg(figure)
    with atomic_write(path) as file:
        figure.savefig(file, format="png", dpi=dpi, metadata=PNG_METADATA)
    return path


def save_images(images: np.ndarray, paths: list[Path]) -> list[Path]:
    """Each image (C, H, W) in [-1, 1] of ``images`` as a PNG of its own at the path of
    the same index (grey for C = 1, RGB for C = 3), pixel for pixel, atomically and with
    scratchgan's mark: the layout FID tools (torch-fidelity, clean-fid) read."""
    for image, path in zip(images, paths):
        pixels = (np.clip(image, -1, 1) + 1) / 2
        pixels = pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0)
        with atomic_write(path) as fh:
            matplotlib.image.imsave(fh, pixels, format="png", cmap="gray", vmin=0, vmax=1,
                                    metadata=PNG_METADATA)
    return list(paths)
