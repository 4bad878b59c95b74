"""Function: one differentiable operation, arrays forward, Tensors backward.

A subclass implements

* ``forward(*arrays) -> array | tuple of arrays``: plain array code; may call kernels;
* ``backward(*gys) -> Tensor | None | tuple``: one gradient per input, built only
  from Function calls on Tensors, so that ``create_graph=True`` can differentiate
  the backward pass itself (double backward).

The only state a Function keeps for its backward is its inputs (``self.inputs``)
and its outputs (``self.output(i)``): anything else it needs it recomputes from
those with Functions, so that the recomputation is differentiated too.

A change of a saved Tensor between forward and backward would make the gradient
silently wrong, so it is caught: forward records the ``_version`` of every input that
backward reads (``saved_inputs``: all of them unless a subclass names fewer, e.g. ``()``
for add, whose backward needs only shapes), and the engine calls ``check_versions``
before backward; ``output(i)`` checks that the output is unchanged (version 0).
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from scratchgan.autograd.tensor import Tensor, as_array
from scratchgan.backend import CPU, CUDA, cupy_imported, device_of, get_array_module
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
    #: the indices of the inputs whose values backward reads (None: every input); only
    #: these are version-checked, so an op that needs only shapes names none
    saved_inputs: tuple[int, ...] | None = None
    _versions: tuple[int, ...] = ()            # their versions at forward time

    def __call__(self, *inputs: Any) -> Tensor | tuple[Tensor, ...]:
        tensors = self._as_tensors(inputs)
        ys = self.forward(*[x._data for x in tensors])   # _data: .data without the property
        if monitor is not None:
            monitor.after_forward(self, tensors, ys)
        multiple = isinstance(ys, tuple)
        wrap = Tensor._from_array
        outputs = tuple([wrap(y) for y in ys]) if multiple else (wrap(ys),)
        self.needs_input_grad = needs = tuple([x.requires_grad for x in tensors])
        if Config.enable_backprop and True in needs:
            self.generation = generation = max([x.generation for x in tensors])
            self.inputs = tensors
            saved = self.saved_inputs
            self._versions = tuple([x._version for x in tensors] if saved is None
                                   else [tensors[i]._version for i in saved])
            self._outputs = tuple([weakref.ref(y) for y in outputs])
            self.output_meta = tuple([(y._data.shape, y._data.dtype) for y in outputs])
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
            if isinstance(x, Tensor) and x._data.dtype.kind == "f":
                if dtype is None:
                    dtype = x._data.dtype
                elif x._data.dtype != dtype:
                    raise TypeError(f"{self.name}: inputs have different dtypes ({dtype} and "
                                    f"{x.data.dtype}); cast one of them with .astype() first")
        # no input can live on a GPU unless something imported CuPy
        gpu = None if not cupy_imported() else next(
            (x for x in inputs if isinstance(x, Tensor) and device_of(x).is_gpu), None)
        if gpu is None:
            if self.promotes_integers and dtype is not None:
                return tuple(x if isinstance(x, Tensor) and x._data.dtype.kind == "f"
                             else Tensor(x, dtype=dtype) for x in inputs)
            return tuple(x if isinstance(x, Tensor) else Tensor(x, dtype=dtype) for x in inputs)
        return tuple(self._on_gpu(x, dtype, get_array_module(gpu)) for x in inputs)

    def _on_gpu(self, x: Any, dtype: Any, xp: Any) -> Tensor:
        """``x`` as a Tensor on the GPU, where another input of this call lives."""
        if isinstance(x, Tensor):
            if device_of(x).is_gpu:
                return x
            if x.ndim > 0 or x.requires_grad:
                raise TypeError(f"{self.name}: inputs live on different devices ({CPU} and "
                                f"{CUDA}); move them to one with .to('{CUDA}') or .to('{CPU}') "
                                "first")
            return Tensor._from_array(xp.asarray(x.data))
        a = as_array(x, dtype)
        if not isinstance(a, np.ndarray):   # a device array of the caller's: copied
            return Tensor(a)
        # a host constant, copied to the device: a scalar is filled in there
        return Tensor._from_array(xp.full((), a.item(), a.dtype) if a.ndim == 0 else xp.asarray(a))

    @property
    def name(self) -> str:
        return type(self).__name__

    def output(self, i: int = 0) -> Tensor:
        """The i-th output, for a backward that needs it (e.g. exp, tanh); a RuntimeError
        if it was changed in place since forward."""
        if self.inputs is None:
            raise GraphFreedError(self._freed_message())
        y = self._outputs[i]()
        if y is None:
            raise RuntimeError(f"{self.name}: output {i} was garbage-collected before backward")
        if y._version:
            raise RuntimeError(self._changed_message(f"output {i}", 0, y._version))
        return y

    def check_versions(self) -> None:
        """A RuntimeError if an input that backward reads was changed in place (its
        ``.data`` assigned, or an optimizer step) after forward: the gradient would be
        computed from the new values."""
        saved = self.saved_inputs
        for i, v in zip(range(len(self.inputs)) if saved is None else saved, self._versions):
            x = self.inputs[i]
            if x._version != v:
                name = f"{x.name!r}, " if x.name else ""
                raise RuntimeError(self._changed_message(f"input {i} ({name}shape {x.shape})",
                                                         v, x._version))

    def _changed_message(self, which: str, then: int, now: int) -> str:
        return (f"{self.name}: its {which}, needed for the backward, was changed in place "
                f"after forward (version {then} -> {now}); compute the forward again after "
                "the change, or change a copy")

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
