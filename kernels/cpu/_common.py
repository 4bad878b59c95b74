"""What every Numba kernel module shares: jit options, argument checks, a scratch workspace.

Argument policy (the same in every kernel of this backend):

* Shapes are checked first, with the shared checks of ``scratchgan_kernels.shapes`` and
  the reference kernels' own checks, so the messages are the reference's.
* Then the arrays, with the checks of ``scratchgan_kernels.checks`` for NumPy arrays
  (``ARRAYS``): float32 or float64, all of one dtype, else a ``TypeError`` (the reference
  would run on integers or mixed dtypes with NumPy's promotion; the compiled loops do
  not). Arrays the kernel only *reads* may have any strides (a non-contiguous one is
  copied once with ``np.ascontiguousarray`` before it enters compiled code); arrays it
  *writes* (``out=``, and ``param``, ``m``, ``v`` of ``adam_update``) must be
  C-contiguous, writable and of the right dtype and shape, else a ``ValueError``.
"""
from __future__ import annotations

import threading
from math import prod
from typing import Any

import numpy as np
from numba import njit as _njit

from scratchgan_kernels.checks import ArrayKind

# Compiled once per dtype and cached on disk; error_model="numpy" keeps Python's
# ZeroDivisionError checks out of the loops (a float division by zero gives inf/nan,
# as in NumPy). FASTMATH is fastmath without 'nnan'/'ninf': NaN and Inf still propagate;
# it lets reductions reassociate (and so vectorise) and multiply-adds contract.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


def njit(*args: Any, **kwargs: Any):
    """``numba.njit`` with this backend's defaults: ``cache=True, error_model="numpy"``."""
    kwargs.setdefault("cache", True)
    kwargs.setdefault("error_model", "numpy")
    return _njit(*args, **kwargs)


FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: The arrays these kernels take, and the checks of them (a NumPy scalar counts as a 0-d array).
ARRAYS = ArrayKind("NumPy", np.ndarray, FLOATS,
                   "the numba kernels take float32 or float64 arrays (cast it first, "
                   "or use the 'numpy' backend)", np.ascontiguousarray, (np.generic,))
check_inputs, check_out = ARRAYS.check_inputs, ARRAYS.check_out


# -- scratch workspace -----------------------------------------------------------
# Large temporaries (column matrices, channels-last copies) are taken from one buffer
# per (thread, slot), grown on demand and kept: a fresh multi-MB np.empty is often
# served by a new mmap and page-faulted in on every call (see shared/reference/README:
# 1.6-4.5x slower calls). No kernel returns a view of it.
_tls = threading.local()


def scratch(slot: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-contiguous array from this thread's buffer ``slot``."""
    dtype = np.dtype(dtype)
    nbytes = prod(shape) * dtype.itemsize
    bufs = _tls.__dict__.setdefault("bufs", {})
    buf = bufs.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 64), np.uint8)
        bufs[slot] = buf
    return buf[:nbytes].view(dtype).reshape(shape)


def clear_workspace() -> None:
    """Free this thread's scratch buffers (they are re-created on the next kernel call)."""
    _tls.__dict__.pop("bufs", None)
