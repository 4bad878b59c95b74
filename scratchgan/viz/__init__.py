"""Plots of a run, written as PNG files with matplotlib's Agg backend (no window)."""
from scratchgan.viz.plots import (image_grid, plot_grad_norms, plot_points, plot_training_curves,
                                  save_image_grid)

__all__ = ["image_grid", "save_image_grid", "plot_points", "plot_training_curves",
           "plot_grad_norms"]
