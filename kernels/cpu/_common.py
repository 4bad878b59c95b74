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

from scratchgan_kernels.checks import ArrayKind, is_channels_last
from scratchgan_kernels.parallel import parallel_for

# Compiled once per dtype and cached on disk; error_model="numpy" keeps Python's
# ZeroDivisionError checks out of the loops (a float division by zero gives inf/nan,
# as in NumPy). FASTMATH is fastmath without 'nnan'/'ninf': NaN and Inf still propagate;
# it lets reductions reassociate (and so vectorise) and multiply-adds contract.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


def njit(*args: Any, **kwargs: Any):
    """``numba.njit`` with this backend's defaults: ``cache=True, error_model="numpy"`` and
    ``nogil=True`` (so the chunks of ``parallel.parallel_for`` run at the same time)."""
    kwargs.setdefault("cache", True)
    kwargs.setdefault("error_model", "numpy")
    kwargs.setdefault("nogil", True)
    return _njit(*args, **kwargs)


FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: The arrays these kernels take, and the checks of them (a NumPy scalar counts as a 0-d array).
ARRAYS = ArrayKind("NumPy", np.ndarray, FLOATS,
                   "the numba kernels take float32 or float64 arrays (cast it first, "
                   "or use the 'numpy' backend)", np.ascontiguousarray, (np.generic,))
check_inputs, check_out = ARRAYS.check_inputs, ARRAYS.check_out


# -- memory layouts ---------------------------------------------------------------
# A 4-D (N, C, H, W) array is either C-contiguous (NCHW memory) or channels-last: the
# same logical shape over (N, H, W, C) memory, ``np.empty((N, H, W, C)).transpose(0, 3,
# 1, 2)``. NumPy's own operations work on either (element-wise ufuncs keep the layout);
# the kernels here take both, and the conv kernels return channels-last outputs, so a
# network's activations stay channels-last from one conv to the next with no conversion.

def nhwc(a: np.ndarray) -> np.ndarray:
    """The (N, H, W, C) view of a 4-D (N, C, H, W) array (C-contiguous for channels-last)."""
    return a.transpose(0, 2, 3, 1)


def empty_channels_last(shape: tuple[int, int, int, int], dtype: Any) -> np.ndarray:
    """An uninitialised (N, C, H, W) array with channels-last memory."""
    N, C, H, W = shape
    return np.empty((N, H, W, C), dtype).transpose(0, 3, 1, 2)


def flat(a: np.ndarray) -> np.ndarray:
    """The 1-D view of the memory of a C-contiguous or channels-last array."""
    return a.reshape(-1) if a.flags.c_contiguous else nhwc(a).reshape(-1)


def like(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``a`` with the memory layout of ``ref`` (same shape): ``a`` itself when the layouts
    agree, else a copy, so that the two can be walked in one flat loop (``flat``)."""
    if (a.flags.c_contiguous and ref.flags.c_contiguous) or (
            not ref.flags.c_contiguous and is_channels_last(a)):
        return a
    out = np.empty_like(ref)
    out[...] = a
    return out


def result_array(out: np.ndarray | None, ref: np.ndarray) -> np.ndarray:
    """The array a kernel computes into: ``out`` when it has ``ref``'s layout, else a fresh
    array like ``ref`` (copied into ``out`` afterwards by ``into``)."""
    return out if out is not None and like(out, ref) is out else np.empty_like(ref)


def into(out: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """``y``, or ``out`` filled with it when the caller gave an ``out=`` that is not ``y``."""
    if out is None or out is y:
        return y
    out[...] = y
    return out


# -- element-wise work on the workers -----------------------------------------------

BLOCK = 1 << 16     # values per block of an element-wise kernel's parallel loop


def blockwise(kernel: Any, arrays: tuple[np.ndarray, ...], *args: Any) -> None:
    """kernel(*arrays, *args) over flat arrays of one size, in blocks of BLOCK values on
    the workers of ``parallel_for`` (directly when there is only one block). Every value
    is computed alike whatever the block, so the result is the same for any thread count."""
    n = arrays[0].size
    if n <= BLOCK:
        kernel(*arrays, *args)
        return
    parallel_for(-(-n // BLOCK), lambda k: kernel(
        *[a[k * BLOCK:(k + 1) * BLOCK] for a in arrays], *args))


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
