"""Sample grids, 2-D scatter plots, loss curves and gradient-norm plots.

Each function writes a PNG atomically (temporary file, then rename: a crash never
leaves half a picture) and closes its figure.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    FigureCanvasAgg(fig).print_png(str(tmp))
    os.replace(tmp, path)
    return path


def image_grid(images: np.ndarray, nrow: int = 10, gap: int = 2) -> np.ndarray:
    """Tile images (N, C, H, W) in [-1, 1] into one (rows, cols[, 3]) array in [0, 1];
    image k sits at row k // nrow, column k % nrow, with ``gap`` pixels between tiles."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, 1 or 3, H, W), got {images.shape}")
    n, c, h, w = images.shape
    rows = -(-n // nrow)
    grid = np.ones((c, rows * (h + gap) + gap, nrow * (w + gap) + gap), np.float32)
    for k in range(n):
        r, col = divmod(k, nrow)
        top, left = gap + r * (h + gap), gap + col * (w + gap)
        grid[:, top:top + h, left:left + w] = (np.clip(images[k], -1, 1) + 1) / 2
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_image_grid(images: np.ndarray, path: str | Path, nrow: int = 10,
                    title: str | None = None) -> Path:
    grid = image_grid(images, nrow)
    fig = Figure(figsize=(6, 6 * grid.shape[0] / grid.shape[1] + (0.4 if title else 0)))
    ax = fig.add_axes((0, 0, 1, 1 if not title else 0.93))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_points(samples: np.ndarray, path: str | Path, centres: np.ndarray | None = None,
                title: str | None = None) -> Path:
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, label="generated")
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], s=40, marker="x", c="red", label="modes")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_training_curves(records: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """The two losses, and mean D(x) and D(G(z)), against the step."""
    steps = [r["step"] for r in records]
    fig = Figure(figsize=(10, 4))
    losses, probs = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for key, label in (("loss_d", "loss D"), ("loss_g", "loss G")):
        losses.plot(steps, [r[key] for r in records], label=label)
    for key, label in (("d_real", "D(x)"), ("d_fake", "D(G(z))")):
        probs.plot(steps, [r[key] for r in records], label=label)
    losses.set_title("losses")
    probs.set_title("discriminator output on real and generated data")
    for ax in (losses, probs):
        ax.set_xlabel("step")
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def plot_grad_norms(records: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """One panel per network, one line per parameter: keys ``grad_norm/<net>/<param>``."""
    steps = [r["step"] for r in records]
    nets: dict[str, list[str]] = {}
    for key in records[-1] if records else {}:
        if key.startswith("grad_norm/"):
            _, net, _ = key.split("/", 2)
            nets.setdefault(net, []).append(key)
    fig = Figure(figsize=(6 * max(len(nets), 1), 4))
    for i, (net, keys) in enumerate(sorted(nets.items())):
        ax = fig.add_subplot(1, len(nets), i + 1)
        for key in keys:
            ax.plot(steps, [r.get(key, np.nan) for r in records], label=key.split("/", 2)[2])
        ax.set_yscale("log")
        ax.set_title(f"gradient norm per layer: {net}")
        ax.set_xlabel("step")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return _save(fig, path)
