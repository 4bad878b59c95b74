"""Digit glyphs rendered from the fonts that ship inside matplotlib.

Only the TrueType files in matplotlib's own ``mpl-data/fonts/ttf`` folder are
used, never the system's fonts, so every machine with the same matplotlib draws
the same glyphs. Each (font, digit) pair is drawn once, at high resolution, with
the digit's larger side filling a fixed box in the middle of a square canvas.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

# Regular, bold and slanted faces of the families with plain lining digits.
# (cmmi10's digits are old-style figures that hang below the line: left out.)
DIGIT_FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmb10.ttf", "cmti10.ttf", "cmss10.ttf", "cmtt10.ttf",
)
# Glyphs no hand writes: DejaVu Sans Mono's zero has a dot inside (it reads as a theta).
UNHANDWRITTEN_GLYPHS = frozenset((stem, 0) for stem in (
    "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique", "DejaVuSansMono-BoldOblique"))


def font_folder() -> Path:
    """matplotlib's bundled TrueType folder."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def available_digit_fonts() -> tuple[Path, ...]:
    """The files of :data:`DIGIT_FONT_FILES` present in this matplotlib, in that order."""
    folder = font_folder()
    found = tuple(folder / name for name in DIGIT_FONT_FILES if (folder / name).is_file())
    if not found:
        raise RuntimeError(f"none of the digit fonts were found in {folder}")
    return found


@lru_cache(maxsize=4)
def render_digit_glyphs(canvas: int, box: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Every digit in every available font, white ink on black, minus :data:`UNHANDWRITTEN_GLYPHS`.

    Returns ``(glyphs, digits, fonts)``: glyphs float32 (G, canvas, canvas) in
    [0, 1], each glyph's larger side ``box`` pixels long and its bounding box
    centred on the canvas; digits int64 (G,) says which digit each one is, fonts
    (G,) which font file (its stem) drew it. Cached per process.
    """
    figure = Figure(figsize=(1, 1), dpi=canvas, facecolor="black")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(0, canvas)
    axes.set_ylim(0, canvas)
    glyphs, digits, fonts = [], [], []
    for font in available_digit_fonts():
        prop = FontProperties(fname=str(font))
        for digit in range(10):
            if (font.stem, digit) in UNHANDWRITTEN_GLYPHS:
                continue
            path = TextPath((0, 0), str(digit), size=1, prop=prop)
            (x0, y0), (x1, y1) = path.get_extents().get_points()
            scale = box / max(x1 - x0, y1 - y0)
            shift = (canvas - scale * np.array([x1 - x0, y1 - y0])) / 2 - scale * np.array([x0, y0])
            placed = path.transformed(Affine2D().scale(scale).translate(*shift))
            patch = axes.add_patch(PathPatch(placed, facecolor="white", edgecolor="none", lw=0))
            figure.canvas.draw()
            glyphs.append(np.asarray(figure.canvas.buffer_rgba())[:, :, 0] / np.float32(255))
            patch.remove()
            digits.append(digit)
            fonts.append(font.stem)
    return np.stack(glyphs).astype(np.float32), np.array(digits, dtype=np.int64), tuple(fonts)
