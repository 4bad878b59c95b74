"""Checks of the arrays a kernel is given (type, dtype, memory layout), shared by the backends.

The reference (``numpy``) backend checks only what its NumPy code needs: ``check_out_layout``
and ``check_adam_args`` (with the shape checks of ``scratchgan_kernels.shapes``). The
compiled backends (``numba``, ``cuda``) add the rules of compiled code, written once in
``ArrayKind``; each backend makes one for its array type, so this module never imports CuPy:

* arrays must be of the backend's array type and dtype (float32 or float64), all of one
  dtype; anything else is a ``TypeError`` naming the kernel, the argument and its type or
  dtype;
* arrays the kernel only reads may have any strides: a strided one is copied to C order once,
  except that a kernel which computes in the channels-last layout takes a 4-D array whose
  memory is channels-last (``is_channels_last``) as it is;
* arrays the kernel writes (``out=``, and ``param``, ``m``, ``v`` of ``adam_update``) must be
  C-contiguous, writable and of the right shape and dtype, else a ``ValueError`` saying
  which one and why: a copy would silently drop the result.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from scratchgan_kernels.shapes import check_same_dtype


def is_channels_last(a: Any) -> bool:
    """True for a 4-D (N, C, H, W) array whose memory is (N, H, W, C) in C order: the view
    ``a.transpose(0, 2, 3, 1)`` is C-contiguous. An array with C = 1 or H = W = 1 is both
    channels-last and C-contiguous."""
    return a.ndim == 4 and a.transpose(0, 2, 3, 1).flags.c_contiguous


def check_out_layout(op: str, out: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """The reference's ``out=`` rule and message: None, or a C-contiguous array of this
    shape and dtype (the kernel writes into it; a copy would lose the result)."""
    if out is None:
        return
    if out.shape != tuple(shape) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"{op}: out must be a C-contiguous {dtype} array of shape "
                         f"{tuple(shape)}, got {out.dtype} {out.shape}"
                         f"{'' if out.flags.c_contiguous else ' (not contiguous)'}")


def check_adam_args(param: Any, grad: Any, m: Any, v: Any, step: int) -> None:
    """The reference's ``adam_update`` checks: ``grad``, ``m`` and ``v`` have ``param``'s
    shape and dtype, and ``step`` counts from 1."""
    for name, a in (("grad", grad), ("m", m), ("v", v)):
        if a.shape != param.shape or a.dtype != param.dtype:
            raise ValueError(f"adam_update: {name} is {a.dtype}{a.shape}, param is "
                             f"{param.dtype}{param.shape}")
    if step < 1:
        raise ValueError(f"adam_update: step counts from 1, got {step}")


def _writeable(a: Any) -> bool:
    """False only for an array flagged read-only (CuPy arrays have no such flag)."""
    return getattr(a.flags, "writeable", True)


@dataclass(frozen=True)
class ArrayKind:
    """The arrays a compiled backend takes, and its checks of them (the rules above).

    ``name`` is the array library as the messages name it ("x must be a NumPy array");
    ``array_type`` the array class; ``dtypes`` the dtypes the compiled code takes;
    ``dtype_rule`` ends the message for any other dtype; ``contiguous`` copies an array to
    C order (``numpy.ascontiguousarray``); an instance of ``scalars`` (NumPy's scalar types)
    is taken as a 0-d array where the kernel only reads it.
    """

    name: str
    array_type: type
    dtypes: tuple[np.dtype, ...]
    dtype_rule: str
    contiguous: Callable[[Any], Any]
    scalars: tuple[type, ...] = ()

    def require(self, op: str, name: str, a: Any) -> None:
        """A TypeError naming ``op`` and ``name`` unless ``a`` is an array of this kind."""
        if not isinstance(a, self.array_type):
            raise TypeError(f"{op}: {name} must be a {self.name} array, got {type(a).__name__}")

    def as_input(self, op: str, name: str, a: Any, channels_last: bool = False) -> Any:
        """``a`` (an array the kernel only reads) as a C-contiguous array of one of
        ``dtypes`` (or, with ``channels_last``, a channels-last one as it is), copied only
        if strided, or a TypeError."""
        if isinstance(a, self.scalars):
            a = np.asarray(a)
        self.require(op, name, a)
        if a.dtype not in self.dtypes:
            raise TypeError(f"{op}: {name} has dtype {a.dtype}; {self.dtype_rule}")
        if a.flags.c_contiguous or (channels_last and is_channels_last(a)):
            return a
        return self.contiguous(a)

    def check_inputs(self, op: str, channels_last: bool = False,
                     **arrays: Any) -> tuple[np.dtype, list[Any]]:
        """Type checks, then one shared dtype, then C-contiguous arrays (channels-last ones
        kept as they are where the kernel computes in that layout): (dtype, the arrays in
        order)."""
        for name, a in arrays.items():
            if not isinstance(a, self.scalars):
                self.require(op, name, a)
        dtype = np.dtype(check_same_dtype(op, **arrays))
        return dtype, [self.as_input(op, name, a, channels_last) for name, a in arrays.items()]

    def check_writable(self, op: str, name: str, a: Any, shape: tuple[int, ...],
                       dtype: np.dtype, why: str = "") -> None:
        """``a`` (an array the kernel writes) is a C-contiguous, writable ``dtype`` array of
        ``shape``, or a ValueError listing what is wrong (``why`` explains the C order)."""
        self.require(op, name, a)
        problems = []
        if a.shape != tuple(shape):
            problems.append(f"has shape {a.shape}, expected {tuple(shape)}")
        if a.dtype != dtype:
            problems.append(f"has dtype {a.dtype}, expected {dtype}")
        if not a.flags.c_contiguous:
            problems.append("is not C-contiguous" + (f" ({why})" if why else ""))
        if not _writeable(a):
            problems.append("is read-only")
        if problems:
            raise ValueError(f"{op}: {name} " + " and ".join(problems))

    def check_out(self, op: str, out: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
        """``check_out_layout`` for an ``out=`` of this kind: None, or an array of this kind
        (TypeError otherwise) with that layout, and writable."""
        if out is None:
            return
        self.require(op, "out", out)
        check_out_layout(op, out, shape, dtype)
        if not _writeable(out):
            raise ValueError(f"{op}: out is read-only")

    def check_adam_update(self, param: Any, grad: Any, m: Any, v: Any, step: int) -> Any:
        """Every check of ``adam_update``'s arrays: all four of this kind, then
        ``check_adam_args``, then ``param``'s dtype, then ``param``, ``m`` and ``v``
        writable (they are updated in place). Returns ``grad`` as a C-contiguous input."""
        op = "adam_update"
        for name, a in (("param", param), ("grad", grad), ("m", m), ("v", v)):
            self.require(op, name, a)
        check_adam_args(param, grad, m, v, step)
        self.as_input(op, "param", param)
        for name, a in (("param", param), ("m", m), ("v", v)):
            self.check_writable(op, name, a, param.shape, param.dtype, "it is updated in place")
        return self.as_input(op, "grad", grad)
