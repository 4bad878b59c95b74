"""Global switches, read by the autograd engine, the ops and the layers.

Keys:
    enable_backprop: record the graph of Function calls (off inside ``no_grad``).
    train:           layers such as batch norm use batch statistics when True.
    cpu_kernels:     kernel backend for NumPy arrays: ``"numba"`` (compiled, the default
                     where Numba imports) or ``"numpy"`` (the reference; the default,
                     with one warning, where it does not).
    allow_tf32:      let cuBLAS round float32 matrix products on the GPU to TF32 on tensor
                     cores (faster, about 3 decimal digits): False by default, so GPU
                     float32 results keep float32 precision. Applied before the next GPU op;
                     no effect on CPU, float64, or GPUs before compute capability 8.0.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

import scratchgan_kernels


def _default_cpu_kernels() -> str:
    """``"numba"`` where that backend imports, else ``"numpy"`` and one warning that says
    why (numba is not installed, or e.g. NUMBA_NUM_THREADS is not a thread count)."""
    reason = scratchgan_kernels.unavailable_reason("numba")
    if reason is None:
        return "numba"
    warnings.warn(f"scratchgan: the numba kernel backend cannot be used here ({reason}); "
                  "using the NumPy reference kernels, which are much slower",
                  RuntimeWarning, stacklevel=2)
    return "numpy"


class Config:
    enable_backprop: bool = True
    train: bool = True
    cpu_kernels: str = _default_cpu_kernels()
    allow_tf32: bool = False


_KEYS = ("enable_backprop", "train", "cpu_kernels", "allow_tf32")


@contextlib.contextmanager
def using_config(name: str, value: Any) -> Iterator[None]:
    """Set ``Config.<name>`` to ``value`` inside the block; restore it after."""
    if name not in _KEYS:
        raise KeyError(f"unknown config key {name!r}; known keys: {', '.join(_KEYS)}")
    old = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old)


def no_grad() -> contextlib.AbstractContextManager:
    """Run without recording the graph (usable as ``with`` or as a decorator)."""
    return using_config("enable_backprop", False)


def enable_grad() -> contextlib.AbstractContextManager:
    """Record the graph again inside a ``no_grad`` block."""
    return using_config("enable_backprop", True)
