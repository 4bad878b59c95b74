"""Pictures of a run, written as PNG files: sample grids, one PNG per sample, 2-D scatter
plots, loss and D(x)/D(G(z)) curves, per-layer gradient norms. matplotlib's Agg canvas draws them
(no window ever opens), and each file is written atomically.
"""
from scratchgan.viz.curves import plot_grad_norms, plot_training_curves
from scratchgan.viz.files import save_figure, save_images
from scratchgan.viz.grids import image_grid, save_image_grid
from scratchgan.viz.points import plot_points

__all__ = ["image_grid", "save_image_grid", "plot_points", "plot_training_curves",
           "plot_grad_norms", "save_figure", "save_images"]
