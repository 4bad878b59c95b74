"""Scatter plots of generated 2-D points against the true modes (ring8, grid25)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from scratchgan.viz.files import save_figure


def _view(samples: np.ndarray, centres: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of a view that shows the modes and the bulk of the samples
    (the 0.5..99.5 percentiles), so a few far outliers do not shrink the picture."""
    finite = samples[np.all(np.isfinite(samples), axis=1)]
    parts = [np.percentile(finite, [0.5, 99.5], axis=0)] if len(finite) else []
    if centres is not None:
        parts.append(np.stack([centres.min(axis=0), centres.max(axis=0)]))
    if not parts:
        return np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    low = np.min([p[0] for p in parts], axis=0)
    high = np.max([p[1] for p in parts], axis=0)
    margin = np.maximum(0.1 * (high - low), 0.25)
    return low - margin, high + margin


def plot_points(samples: np.ndarray, path: str | Path, centres: np.ndarray | None = None,
                title: str | None = None) -> Path:
    """Write a scatter plot of ``samples`` (N, 2), with ``centres`` (K, 2) as red crosses.

    Points outside the view (far outliers, NaNs) are counted in a note.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    centres = None if centres is None else np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    low, high = _view(samples, centres)
    figure = Figure(figsize=(5.5, 5.5))
    axes = figure.add_subplot()
    axes.scatter(samples[:, 0], samples[:, 1], s=3, alpha=0.3, linewidths=0, color="tab:blue",
                 label="generated")
    if centres is not None:
        axes.scatter(centres[:, 0], centres[:, 1], s=60, marker="x", color="red", label="true modes")
    axes.set_xlim(low[0], high[0])
    axes.set_ylim(low[1], high[1])
    axes.set_aspect("equal")
    outside = int(np.sum(~np.all((samples >= low) & (samples <= high), axis=1)))
    if outside:
        axes.text(0.01, 0.01, f"{outside} of {len(samples)} points outside the view",
                  transform=axes.transAxes, fontsize=8, color="gray")
    axes.legend(loc="upper right", fontsize=8, markerscale=2)
    if title:
        axes.set_title(title, fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)
