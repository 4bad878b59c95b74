"""Which array module and which kernel backend apply to given arrays.

The backend follows the array: a CuPy array runs the ``cuda`` kernels, a NumPy
array the backend named by ``Config.cpu_kernels``. Ops never branch on it; they
ask :func:`kernel` for the implementation.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np

import scratchgan_kernels
from scratchgan.config import Config

try:  # CuPy is an optional extra.
    import cupy as _cupy
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None


def _is_cupy(x: Any) -> bool:
    return _cupy is not None and isinstance(x, _cupy.ndarray)


def _array(x: Any) -> Any:
    """The array of a Tensor, or x itself (a raw CuPy array's ``.data`` is a pointer)."""
    return x if isinstance(x, np.ndarray) or _is_cupy(x) else getattr(x, "data", x)


def get_array_module(*xs: Any) -> ModuleType:
    """``cupy`` if any of ``xs`` (arrays or Tensors) lives on a GPU, else ``numpy``."""
    for x in xs:
        if _is_cupy(_array(x)):
            return _cupy
    return np


def kernel_backend(*xs: Any) -> str:
    """The kernel backend name for these arrays."""
    return "cuda" if get_array_module(*xs) is not np else Config.cpu_kernels


def kernel(name: str, *xs: Any) -> Callable:
    """The implementation of kernel ``name`` for the backend these arrays select."""
    return scratchgan_kernels.get(name, kernel_backend(*xs))


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy (or view) of an array or Tensor, wherever it lives."""
    x = _array(x)
    return _cupy.asnumpy(x) if _is_cupy(x) else np.asarray(x)
