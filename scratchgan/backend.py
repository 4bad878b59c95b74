"""Which array module and which kernel backend apply to given arrays, and moving arrays
between the host and the GPU.

The backend follows the array: a CuPy array runs the ``cuda`` kernels, a NumPy array the
backend named by ``Config.cpu_kernels``. Ops never branch on it; they ask :func:`kernel`
for the implementation.

CuPy is optional and never imported here unless the GPU is asked for (:func:`cuda_module`):
an array can only be a CuPy array once something imported CuPy, so the checks below look
CuPy up in ``sys.modules`` and cost nothing on machines without it.
"""
from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, Callable

import numpy as np

import scratchgan_kernels
from scratchgan.config import Config

DEVICES = ("cpu", "cuda")
_tf32_applied: bool | None = None    # the Config.allow_tf32 value last given to CuPy


def _cupy() -> ModuleType | None:
    """CuPy if it has been imported (by anyone), else None."""
    return sys.modules.get("cupy")


def _is_cupy(x: Any) -> bool:
    cp = _cupy()
    return cp is not None and isinstance(x, cp.ndarray)


def _array(x: Any) -> Any:
    """The array of a Tensor, or x itself (a raw CuPy array's ``.data`` is a pointer)."""
    return x if isinstance(x, np.ndarray) or _is_cupy(x) else getattr(x, "data", x)


def _sync_tf32() -> None:
    """Give CuPy the current ``Config.allow_tf32`` (once per change)."""
    global _tf32_applied
    wanted = bool(Config.allow_tf32)
    if _tf32_applied is None or _tf32_applied != wanted:
        from scratchgan_kernels import cuda
        cuda.set_tf32(wanted)
        _tf32_applied = wanted


def get_array_module(*xs: Any) -> ModuleType:
    """``cupy`` if any of ``xs`` (arrays or Tensors) lives on a GPU, else ``numpy``."""
    for x in xs:
        if _is_cupy(_array(x)):
            _sync_tf32()
            return _cupy()
    return np


def kernel_backend(*xs: Any) -> str:
    """The kernel backend name for these arrays."""
    return "cuda" if get_array_module(*xs) is not np else Config.cpu_kernels


def kernel(name: str, *xs: Any) -> Callable:
    """The implementation of kernel ``name`` for the backend these arrays select."""
    return scratchgan_kernels.get(name, kernel_backend(*xs))


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy (or view) of an array or Tensor, wherever it lives (a device array is
    copied to the host: this waits for the GPU)."""
    x = _array(x)
    return x.get() if _is_cupy(x) else np.asarray(x)


def device_of(x: Any) -> str:
    """``"cuda"`` for a CuPy array (or a Tensor holding one), else ``"cpu"``."""
    return "cuda" if _is_cupy(_array(x)) else "cpu"


def check_device(device: Any) -> str:
    """``device`` if it names a device (``"cpu"`` or ``"cuda"``), else a ValueError."""
    if device not in DEVICES:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return device


class DeviceUnavailable(RuntimeError, ValueError):
    """The GPU was asked for, but CuPy or a GPU is missing (the message says which). Also a
    ValueError, so code that reports bad configuration values (the CLI) reports this one."""


_cuda_found = False         # a GPU was found once: later calls skip the check


def cuda_module() -> ModuleType:
    """CuPy, when it imports and sees a GPU; otherwise a :class:`DeviceUnavailable` error
    (a RuntimeError) that says which of the two is missing and how to fix it."""
    global _cuda_found
    if not _cuda_found:
        from scratchgan_kernels.cuda import unavailable_reason
        reason = unavailable_reason()
        if reason is not None:
            raise DeviceUnavailable(f"device 'cuda' is not available: {reason}")
        _cuda_found = True
    import cupy
    return cupy


def to_device(x: Any, device: str) -> Any:
    """The array of ``x`` on ``device`` (``"cpu"``: a NumPy array, ``"cuda"``: a CuPy
    array); ``x``'s own array when it is already there, else a copy."""
    a = _array(x)
    if check_device(device) == "cpu":
        return a if isinstance(a, np.ndarray) else to_numpy(a)
    if _is_cupy(a):
        return a
    return cuda_module().asarray(a)
