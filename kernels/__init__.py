"""scratchgan_kernels: the hot array kernels of scratchgan, one signature per kernel.

Backends:
    ``numpy`` (alias ``reference``): plain NumPy, the oracle the others are tested against.
    ``numba``: CPU kernels compiled with Numba (module ``scratchgan_kernels.cpu``).
    ``cuda``:  CUDA C kernels through CuPy (module ``scratchgan_kernels.cuda``); listed by
               ``available_backends()`` only where CuPy imports and ``cupy.is_available()``.

A backend module lists its kernels in ``KERNELS`` (a dict name -> callable). A kernel that
a backend does not list comes from ``scratchgan_kernels.portable`` (array-generic
implementations, the reference on NumPy arrays) when it is there.
This package never imports scratchgan, and importing it never imports CuPy (the ``cuda``
backend is imported when it is first asked for).
"""
from __future__ import annotations

import importlib
import os
from typing import Callable

from scratchgan_kernels import portable

_BACKEND_MODULES = {
    "numpy": "scratchgan_kernels.reference",
    "numba": "scratchgan_kernels.cpu",
    "cuda": "scratchgan_kernels.cuda",
}
BACKENDS = tuple(_BACKEND_MODULES)     # every backend's name, available here or not
_ALIASES = {"reference": "numpy"}
_loaded: dict[str, dict[str, Callable]] = {}
_errors: dict[str, str] = {}


class BackendUnavailable(RuntimeError):
    """The requested kernel backend cannot be imported on this machine."""


def _numba_environment_error() -> str | None:
    """Why Numba cannot be imported with this environment, or None. Numba reads
    NUMBA_NUM_THREADS at import: a value that is not an integer >= 1 makes the import fail
    (0) or print a traceback inside a warning (``abc``), so the backend is not imported."""
    value = os.environ.get("NUMBA_NUM_THREADS")
    if value is None:
        return None
    try:
        if int(value) >= 1:
            return None
    except ValueError:
        pass
    return f"NUMBA_NUM_THREADS={value!r} is not a thread count, an integer >= 1"


_ENVIRONMENT_CHECKS = {"numba": _numba_environment_error}


def _load(backend: str) -> dict[str, Callable] | None:
    if backend in _loaded:
        return _loaded[backend]
    if backend in _errors:
        return None
    check = _ENVIRONMENT_CHECKS.get(backend)
    reason = check() if check is not None else None
    if reason is not None:
        _errors[backend] = reason
        return None
    try:
        kernels = importlib.import_module(_BACKEND_MODULES[backend]).KERNELS
    except (ImportError, AttributeError) as e:  # not installed, or no KERNELS table
        _errors[backend] = f"{type(e).__name__}: {e}"
        return None
    _loaded[backend] = kernels
    return kernels


def unavailable_reason(backend: str) -> str | None:
    """Why ``backend`` cannot run here (the import error, or the environment variable
    that rules it out), or None when it can."""
    backend = _ALIASES.get(backend, backend)
    return None if _load(backend) is not None else _errors[backend]


def available_backends() -> list[str]:
    """The backends that can run on this machine, reference first (``cuda`` only where
    CuPy imports and sees a GPU)."""
    return [b for b in _BACKEND_MODULES if _load(b) is not None]


def get(name: str, backend: str = "numpy") -> Callable:
    """The kernel ``name`` of ``backend`` (or the portable one where the backend has none);
    a clear error if either is unknown or the backend cannot run here."""
    backend = _ALIASES.get(backend, backend)
    if backend not in _BACKEND_MODULES:
        raise ValueError(
            f"unknown kernel backend {backend!r}; known: {', '.join(_BACKEND_MODULES)}")
    kernels = _load(backend)
    if kernels is None:
        raise BackendUnavailable(
            f"kernel backend {backend!r} is not available here ({_errors[backend]})")
    try:
        return kernels[name]
    except KeyError:
        pass
    try:
        return portable.KERNELS[name]
    except KeyError:
        names = sorted(set(kernels) | set(portable.KERNELS))
        raise KeyError(
            f"backend {backend!r} has no kernel {name!r}; it has: {', '.join(names)}"
        ) from None
