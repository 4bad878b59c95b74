"""Function: one differentiable operation, arrays forward, Tensors backward.

A subclass implements

* ``forward(*arrays) -> array | tuple of arrays``: plain array code; may call kernels;
* ``backward(*gys) -> Tensor | None | tuple``: one gradient per input, built only
  from Function calls on Tensors, so that ``create_graph=True`` can differentiate
  the backward pass itself (double backward).

The only state a Function keeps for its backward is its inputs (``self.inputs``)
and its outputs (``self.output(i)``): anything else it needs it recomputes from
those with Functions, so that the recomputation is differentiated too.
"""
from __future__ import annotations

import sys
import weakref
from typing import Any

import numpy as np

from scratchgan.autograd.tensor import Tensor, as_array
from scratchgan.backend import get_array_module
from scratchgan.config import Config


#: set by ``scratchgan.inspect.detect_anomaly`` (an object with ``after_forward`` and the
#: engine's ``run_backward`` / ``check_gradient``); None, the fast path, everywhere else
monitor = None


class GraphFreedError(RuntimeError):
    """Backward reached a Function whose saved Tensors were freed by an earlier backward."""


class Function:
    """Base class of every differentiable op; see the module docstring."""

    inputs: tuple[Tensor, ...] | None = None  # saved only while the graph is recorded
    #: element-wise arithmetic: integer and bool Tensors combined with a floating Tensor
    #: take its dtype (float32 + int64 stays float32, as constants always did)
    promotes_integers: bool = False
    _outputs: tuple | None = None              # weak references to the outputs
    generation: int = 0

    def __call__(self, *inputs: Any) -> Tensor | tuple[Tensor, ...]:
        tensors = self._as_tensors(inputs)
        ys = self.forward(*[x.data for x in tensors])
        if monitor is not None:
            monitor.after_forward(self, tensors, ys)
        multiple = isinstance(ys, tuple)
        outputs = tuple([Tensor(y) for y in ys]) if multiple else (Tensor(ys),)
        self.needs_input_grad = needs = tuple([x.requires_grad for x in tensors])
        if Config.enable_backprop and True in needs:
            self.generation = generation = max([x.generation for x in tensors])
            self.inputs = tensors
            self._outputs = tuple([weakref.ref(y) for y in outputs])
            self.output_meta = tuple([(y.data.shape, y.data.dtype) for y in outputs])
            for y in outputs:
                y.creator = self
                y.requires_grad = True
                y.generation = generation + 1
        return outputs if multiple else outputs[0]

    def _as_tensors(self, inputs: tuple[Any, ...]) -> tuple[Tensor, ...]:
        """Wrap constants as Tensors in the dtype of the floating Tensor inputs, and on their
        device; reject floating Tensors of different dtypes, and Tensors on different
        devices (a 0-d constant Tensor on the host is moved), with a clear message."""
        dtype = None
        for x in inputs:
            if isinstance(x, Tensor) and x.data.dtype.kind == "f":
                if dtype is None:
                    dtype = x.data.dtype
                elif x.data.dtype != dtype:
                    raise TypeError(f"{self.name}: inputs have different dtypes ({dtype} and "
                                    f"{x.data.dtype}); cast one of them with .astype() first")
        # no input can live on a GPU unless something imported CuPy
        gpu = None if "cupy" not in sys.modules else next(
            (x for x in inputs if isinstance(x, Tensor) and x.device == "cuda"), None)
        if gpu is None:
            if self.promotes_integers and dtype is not None:
                return tuple(x if isinstance(x, Tensor) and x.data.dtype.kind == "f"
                             else Tensor(as_array(x, dtype)) for x in inputs)
            return tuple(x if isinstance(x, Tensor) else Tensor(as_array(x, dtype))
                         for x in inputs)
        return tuple(self._on_gpu(x, dtype, get_array_module(gpu)) for x in inputs)

    def _on_gpu(self, x: Any, dtype: Any, xp: Any) -> Tensor:
        """``x`` as a Tensor on the GPU, where another input of this call lives."""
        if isinstance(x, Tensor):
            if x.device == "cuda":
                return x
            if x.ndim > 0 or x.requires_grad:
                raise TypeError(f"{self.name}: inputs live on different devices (cpu and "
                                "cuda); move them to one with .to('cuda') or .to('cpu') first")
            return Tensor(xp.asarray(x.data))
        a = as_array(x, dtype)
        if isinstance(a, np.ndarray):   # a host constant: a scalar is filled in on the device
            a = xp.full((), a.item(), a.dtype) if a.ndim == 0 else xp.asarray(a)
        return Tensor(a)

    @property
    def name(self) -> str:
        return type(self).__name__

    def output(self, i: int = 0) -> Tensor:
        """The i-th output, for a backward that needs it (e.g. exp, tanh)."""
        if self.inputs is None:
            raise GraphFreedError(self._freed_message())
        y = self._outputs[i]()
        if y is None:
            raise RuntimeError(f"{self.name}: output {i} was garbage-collected before backward")
        return y

    def release(self) -> None:
        """Drop the saved Tensors (after a backward without retain_graph)."""
        self.inputs = None
        self._outputs = None

    def _freed_message(self) -> str:
        return (f"backward reached {self.name} a second time, but the first backward freed its "
                "saved Tensors; pass retain_graph=True to the first backward if you need to "
                "backward through the graph twice")

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError(f"{self.name} does not implement forward")

    def backward(self, *gys: Tensor) -> Any:
        raise NotImplementedError(f"{self.name} does not implement backward")
