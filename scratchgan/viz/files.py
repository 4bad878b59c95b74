"""Writing a figure to a PNG file atomically.

Figures here are plain ``matplotlib.figure.Figure`` objects drawn by the Agg
canvas: pyplot is never imported, so no window opens, no global figure list
holds them, and a figure is freed as soon as the function that made it returns.
"""
from __future__ import annotations

from pathlib import Path

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
