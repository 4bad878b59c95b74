"""What every Numba kernel module shares: jit options, argument checks, a scratch workspace.

Argument policy (the same in every kernel of this backend):

* Shapes are checked first, with the shared checks of ``scratchgan_kernels.shapes`` and
  the reference kernels' own checks, so the messages are the reference's.
* Arrays must be NumPy arrays of float32 or float64, all of one dtype; anything else is a
  ``TypeError`` naming the kernel, the argument and its dtype. (The reference would run
  on integers or mixed dtypes with NumPy's promotion; the compiled loops do not.)
* Arrays the kernel only *reads* may have any strides: a non-contiguous one is copied
  once with ``np.ascontiguousarray`` before it enters compiled code (free when it is
  already C-contiguous). Arrays the kernel *writes* (``out=``, and ``param``, ``m``,
  ``v`` of ``adam_update``, which are updated in place) must be C-contiguous and of the
  right dtype and shape, or the kernel raises a ``ValueError`` saying which one and why:
  a copy would silently drop the result.
"""
from __future__ import annotations

import threading
from math import prod
from typing import Any

import numpy as np
from numba import njit as _njit

from scratchgan_kernels.shapes import check_same_dtype

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


def as_input(op: str, name: str, a: Any) -> np.ndarray:
    """``a`` as a C-contiguous float32/float64 array (copied only if strided), or a TypeError.
    A NumPy scalar counts as a 0-d array."""
    if isinstance(a, np.generic):
        a = np.asarray(a)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype not in FLOATS:
        raise TypeError(f"{op}: {name} has dtype {a.dtype}; the numba kernels take float32 "
                        f"or float64 arrays (cast it first, or use the 'numpy' backend)")
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def check_inputs(op: str, **arrays: Any) -> tuple[np.dtype, list[np.ndarray]]:
    """Type checks, then one shared dtype, then contiguous copies: (dtype, arrays in order)."""
    for name, a in arrays.items():
        if not isinstance(a, (np.ndarray, np.generic)):
            raise TypeError(f"{op}: {name} must be a NumPy array, got {type(a).__name__}")
    dtype = check_same_dtype(op, **arrays)
    return dtype, [as_input(op, name, a) for name, a in arrays.items()]


def check_writable(op: str, name: str, a: Any, shape: tuple[int, ...], dtype: np.dtype,
                   why: str = "") -> None:
    """``a`` (an array the kernel writes) is a C-contiguous ``dtype`` array of ``shape``."""
    problems = []
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a NumPy array, got {type(a).__name__}")
    if a.shape != tuple(shape):
        problems.append(f"has shape {a.shape}, expected {tuple(shape)}")
    if a.dtype != dtype:
        problems.append(f"has dtype {a.dtype}, expected {dtype}")
    if not a.flags.c_contiguous:
        problems.append("is not C-contiguous" + (f" ({why})" if why else ""))
    if not a.flags.writeable:
        problems.append("is read-only")
    if problems:
        raise ValueError(f"{op}: {name} " + " and ".join(problems))


def check_out(op: str, out: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """The reference's ``out=`` rule and message: None, or a C-contiguous (writable) array
    of this shape and dtype (the kernel writes into it; a copy would lose the result)."""
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{op}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"{op}: out must be a C-contiguous {dtype} array of shape "
                         f"{tuple(shape)}, got {out.dtype} {out.shape}"
                         f"{'' if out.flags.c_contiguous else ' (not contiguous)'}")
    if not out.flags.writeable:
        raise ValueError(f"{op}: out is read-only")


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
