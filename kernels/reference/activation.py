"""Leaky ReLU, forward and backward, in plain NumPy (the reference)."""
from __future__ import annotations

import numpy as np


def leaky_relu(x: np.ndarray, slope: float, out: np.ndarray | None = None) -> np.ndarray:
    """y = x where x > 0, else slope * x. ``slope = 0`` gives ReLU."""
    return np.multiply(x, np.where(x > 0, 1, slope).astype(x.dtype, copy=False), out=out)


def leaky_relu_grad(x: np.ndarray, gy: np.ndarray, slope: float,
                    out: np.ndarray | None = None) -> np.ndarray:
    """gx = gy where x > 0, else slope * gy."""
    if x.shape != gy.shape:
        raise ValueError(f"leaky_relu_grad: x has shape {x.shape} but gy has shape {gy.shape}")
    return np.multiply(gy, np.where(x > 0, 1, slope).astype(gy.dtype, copy=False), out=out)
