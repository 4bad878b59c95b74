"""Which array module and which kernel backend apply to given arrays, and moving arrays
between the host and the GPU.

The backend follows the array: a CuPy array runs the ``cuda`` kernels, a NumPy array the
backend named by ``Config.cpu_kernels``. Ops never branch on it; they ask :func:`kernel`
for the implementation.

CuPy is optional and never imported here unless the GPU is asked for (:func:`cuda_module`):
an array can only be a CuPy array once something imported CuPy, so the checks below look
CuPy up in ``sys.modules`` and cost nothing on machines without it.

The devices are spelled here only: :class:`Device` (``CPU``, ``CUDA``; ``DEVICE_NAMES``
lists their names) parses a user's string (:func:`as_device`), names an array's device
(:func:`device_of`) and moves arrays; other modules compare devices through it, never
through the literals.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np

import scratchgan_kernels
from scratchgan.config import Config

_CUPY = "cupy"              # the module name of CuPy
GPU_BACKEND = "cuda"        # the kernel backend of GPU arrays (scratchgan_kernels' name)
_tf32_applied: bool | None = None    # the Config.allow_tf32 value last given to CuPy


def _cupy() -> ModuleType | None:
    """CuPy if it has been imported (by anyone), else None."""
    return sys.modules.get(_CUPY)


def cupy_imported() -> bool:
    """Whether anything imported CuPy: until then no array lives on a GPU, so a caller may
    skip every device check (this imports nothing)."""
    return _CUPY in sys.modules


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
    return GPU_BACKEND if get_array_module(*xs) is not np else Config.cpu_kernels


def cpu_backends() -> list[str]:
    """The CPU kernel backends that run here, reference first; probing them never imports
    CuPy (the GPU backend is left out, not tried)."""
    return [b for b in scratchgan_kernels.BACKENDS
            if b != GPU_BACKEND and scratchgan_kernels.unavailable_reason(b) is None]


def kernel(name: str, *xs: Any) -> Callable:
    """The implementation of kernel ``name`` for the backend these arrays select."""
    return scratchgan_kernels.get(name, kernel_backend(*xs))


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy (or view) of an array or Tensor, wherever it lives (a device array is
    copied to the host: this waits for the GPU)."""
    x = _array(x)
    return x.get() if _is_cupy(x) else np.asarray(x)


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
            raise DeviceUnavailable(f"device {CUDA.name!r} is not available: {reason}")
        _cuda_found = True
    import cupy
    return cupy


@dataclass(frozen=True)
class Device:
    """Where arrays live: ``name`` is the user's word for it (``Tensor.device``, config key
    ``device``, ``.to(name)``), ``is_gpu`` whether its arrays are CuPy arrays."""
    name: str
    is_gpu: bool

    def __str__(self) -> str:
        return self.name

    @property
    def xp(self) -> ModuleType:
        """The array module of this device: NumPy, or CuPy (imported on first use; a
        :class:`DeviceUnavailable` error where CuPy or a GPU is missing)."""
        return cuda_module() if self.is_gpu else np

    def move(self, x: Any) -> Any:
        """The array of ``x`` (an array or a Tensor) on this device: ``x``'s own array when
        it is already there, else a copy."""
        a = _array(x)
        if not self.is_gpu:
            return a if isinstance(a, np.ndarray) else to_numpy(a)
        return a if _is_cupy(a) else cuda_module().asarray(a)


CPU = Device("cpu", is_gpu=False)
CUDA = Device("cuda", is_gpu=True)
_BY_NAME = {d.name: d for d in (CPU, CUDA)}
DEVICE_NAMES = tuple(_BY_NAME)      # the names a user may give, e.g. as CLI choices


def as_device(device: str | Device) -> Device:
    """The :class:`Device` a user's string names (a Device is returned as it is); a
    ValueError that lists the names otherwise."""
    if isinstance(device, Device):
        return device
    found = _BY_NAME.get(device) if isinstance(device, str) else None
    if found is None:
        raise ValueError(f"device must be {' or '.join(map(repr, DEVICE_NAMES))}, "
                         f"got {device!r}")
    return found


def device_of(x: Any) -> Device:
    """``CUDA`` for a CuPy array (or a Tensor holding one), else ``CPU``."""
    return CUDA if _is_cupy(_array(x)) else CPU


def to_device(x: Any, device: str | Device) -> Any:
    """The array of ``x`` on ``device`` (a name or a Device; see :meth:`Device.move`)."""
    return as_device(device).move(x)
