"""Writing a figure to a PNG file atomically.

Figures here are plain ``matplotlib.figure.Figure`` objects drawn by the Agg
canvas: pyplot is never imported, so no window opens, no global figure list
holds them, and a figure is freed as soon as the function that made it returns.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def save_figure(figure: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Render ``figure`` to a PNG at ``path``, via a temporary file in the same folder
    and a rename, so a crash never leaves half a picture under ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    # A unique name beside the target (same file system, so the rename is atomic);
    # open() rather than mkstemp so the file gets the usual umask permissions.
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "xb") as file:
            figure.savefig(file, format="png", dpi=dpi)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
