"""Tensor: an array (NumPy or CuPy) with the links reverse-mode autograd needs.

A Tensor made by the user is a *leaf*: ``creator`` is None and, when
``requires_grad`` is set, ``backward`` accumulates into its ``grad``. A Tensor
returned by a Function while the graph is recorded has that Function as its
``creator``; its gradient is passed on, not stored (unless ``retain_grad()``).

``Tensor(array)`` copies the array, as ``torch.tensor`` does: editing the array later
does not change the Tensor. The library wraps the arrays it makes itself (op outputs,
gradients) without a copy, through ``Tensor._from_array``.

In-place changes are counted: ``_version`` goes up on every assignment to ``.data``
(``t.data = a``, ``t.data -= a``), every optimizer step, ``nn.init`` fill and
``load_state_dict`` that writes into a Parameter. A Function records the versions of the
inputs its backward reads, and backward refuses (a RuntimeError naming the Function, the
input and both versions) when one has changed since, where the gradient would silently be
wrong. Code that writes into ``t.data[...]`` itself should add one to ``t._version``.
"""
from __future__ import annotations

from numbers import Number
from typing import Any

import numpy as np

from scratchgan.backend import CPU, CUDA, Device, as_device, device_of, get_array_module, to_numpy

DEFAULT_DTYPE = np.float32


_FUNCTIONS = None


def _functions():
    """scratchgan.functions, imported on first use (it builds on Tensor) and kept."""
    global _FUNCTIONS
    if _FUNCTIONS is None:
        from scratchgan import functions
        _FUNCTIONS = functions
    return _FUNCTIONS


def as_array(data: Any, dtype: Any = None) -> Any:
    """An ndarray for ``data``: Python floats become float32 (the default dtype),
    arrays keep their dtype unless ``dtype`` is given."""
    if dtype is None and type(data) is np.ndarray:    # the common case, first
        return data
    if isinstance(data, Tensor):
        data = data.data
    xp = get_array_module(data)
    if dtype is not None:
        return xp.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)) or xp is not np:
        return xp.asarray(data)
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        arr = arr.astype(DEFAULT_DTYPE)
    elif arr.dtype == object:
        raise TypeError(f"cannot make a Tensor from {type(data).__name__}: {data!r:.80}")
    return arr


def _owned_array(data: Any, dtype: Any) -> Any:
    """``as_array(data, dtype)``, never sharing memory with ``data``: an array (or a
    Tensor's array) is copied, once, in ``dtype``."""
    if isinstance(data, (Number, list, tuple)):    # Python data: a fresh array anyway
        return as_array(data, dtype)
    source = data.data if isinstance(data, Tensor) else data
    xp = get_array_module(source)
    if isinstance(source, np.ndarray) or xp is not np:
        return xp.array(source, dtype=dtype, copy=True)
    return as_array(data, dtype)


def _preview(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."


class Tensor:
    """An n-dimensional array that records the Functions applied to it.

    Args:
        data: array-like; Python floats become float32, NumPy/CuPy arrays keep their dtype.
            An array (or a Tensor) is copied: the Tensor never shares memory with it.
        requires_grad: accumulate gradients into ``.grad`` on ``backward`` (floating dtypes only).
        name: a label shown in ``repr`` and in gradcheck messages.

    ``==`` and ``!=`` compare element-wise and return a bool Tensor (not differentiable);
    hashing stays by identity, so Tensors work as dict keys and set members. ``bool()``
    is defined for one-element Tensors only.
    """

    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator
    _grad_hooks: Any = ()   # an instance list once a hook is registered (register_hook)
    # the state of a fresh Tensor, set per instance once it changes
    requires_grad: bool = False
    name: str | None = None
    grad: Tensor | None = None
    creator: Any = None     # the Function that produced this Tensor, if recorded
    generation: int = 0     # creator.generation + 1: orders the backward pass
    retains_grad: bool = False
    _version: int = 0       # assignments to .data and in-place writes (module docstring)

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None,
                 dtype: Any = None) -> None:
        self._data = array = _owned_array(data, dtype)
        kind = array.dtype.kind
        if kind not in "biufc":
            raise TypeError(f"a Tensor holds numbers (bool, integer or floating point), not "
                            f"dtype {array.dtype}: {_preview(data)}")
        if requires_grad and kind != "f":
            raise TypeError(f"only real floating-point Tensors can require gradients, got "
                            f"dtype {array.dtype}")
        self.requires_grad = bool(requires_grad)
        self.name = name

    @classmethod
    def _from_array(cls, array: Any, requires_grad: bool = False,
                    name: str | None = None) -> Tensor:
        """A Tensor holding ``array`` itself (no copy, no checks): for arrays the library
        has just made (op outputs, gradients), which no user holds, and for ``detach``,
        which shares on purpose."""
        t = cls.__new__(cls)
        t._data = array
        if requires_grad:
            t.requires_grad = True
        if name is not None:
            t.name = name
        return t

    @property
    def data(self) -> Any:
        """The array. Assigning it (``t.data = a``, ``t.data += a``) bumps ``_version``."""
        return self._data

    @data.setter
    def data(self, array: Any) -> None:
        self._data = array
        self._version += 1

    # -- array facts -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def device(self) -> str:
        """``"cpu"`` (a NumPy array) or ``"cuda"`` (a CuPy array on the GPU)."""
        return device_of(self.data).name

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a Tensor with {self.size} elements is "
                             "ambiguous; use .data.any() or .data.all()")
        return bool(self.data)

    def _comparand(self, other: Any) -> Any:
        """The array ``other`` stands for in a comparison, or None for an object that is
        not numeric data (then ``==`` falls back to identity)."""
        if isinstance(other, Tensor):
            return other.data
        if isinstance(other, (Number, np.ndarray, np.generic, list, tuple)) \
                or get_array_module(other) is not np:
            return other
        return None

    def __eq__(self, other: Any) -> Any:
        """Element-wise ``==``: a bool Tensor of the broadcast shape, not differentiable."""
        other = self._comparand(other)
        return NotImplemented if other is None else Tensor._from_array(self.data == other)

    def __ne__(self, other: Any) -> Any:
        """Element-wise ``!=``: a bool Tensor of the broadcast shape, not differentiable."""
        other = self._comparand(other)
        return NotImplemented if other is None else Tensor._from_array(self.data != other)

    def __repr__(self) -> str:
        body = np.array2string(to_numpy(self.data), prefix="Tensor(", precision=4, threshold=20)
        extra = "".join([
            f", dtype={self.dtype}" if self.dtype != DEFAULT_DTYPE else "",
            f", name={self.name!r}" if self.name else "",
            ", requires_grad=True" if self.requires_grad else "",
        ])
        return f"Tensor({body}{extra})"

    # -- conversion --------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied to the host if it lives on a GPU)."""
        return to_numpy(self.data)

    def item(self) -> float:
        if self.size != 1:
            raise ValueError(f"item() needs a Tensor of one element, this one has shape {self.shape}")
        return self.numpy().reshape(()).item()

    def detach(self) -> Tensor:
        """The same data (the same array, not a copy), cut from the graph."""
        return Tensor._from_array(self.data, name=self.name)

    def astype(self, dtype: Any) -> Tensor:
        """A copy in ``dtype``, cut from the graph (cast parameters before building graphs)."""
        return Tensor(self.data, requires_grad=self.requires_grad, name=self.name, dtype=dtype)

    def to(self, device: str | Device | None = None, dtype: Any = None) -> Tensor:
        """This Tensor on ``device`` (``"cpu"``, ``"cuda"`` or a Device) and/or in ``dtype``:
        ``self`` when it already is both, else a copy cut from the graph that keeps
        ``requires_grad`` (move and cast leaves before building graphs, as with
        ``astype``). ``"cuda"`` needs CuPy and a GPU: a RuntimeError says which is missing."""
        data = self.data
        if device is not None:
            data = as_device(device).move(data)
        if dtype is not None and np.dtype(dtype) != data.dtype:
            data = data.astype(dtype)
        if data is self.data:
            return self
        return Tensor(data, requires_grad=self.requires_grad, name=self.name)

    def cuda(self) -> Tensor:
        """``to("cuda")``."""
        return self.to(CUDA)

    def cpu(self) -> Tensor:
        """``to("cpu")``."""
        return self.to(CPU)

    def retain_grad(self) -> None:
        """Keep this non-leaf Tensor's gradient in ``.grad`` after ``backward`` (the
        gradient the hooks returned, with its graph under ``create_graph``). Each backward
        that reaches the Tensor replaces ``.grad``; a leaf's ``.grad`` accumulates anyway."""
        self.retains_grad = True

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` with this Tensor's gradient once it is complete (summed over
        every consumer), once per backward or ``grad`` that reaches it; a Tensor it returns
        replaces the gradient (what flows on to the inputs, what a leaf accumulates, what
        ``grad`` returns); None keeps it. Hooks run in the order they were registered, each
        on the previous one's result. Under ``create_graph`` the gradient carries its graph,
        and a replacement built from Functions is differentiated with it. Returns a handle:
        ``handle.remove()`` (or ``with x.register_hook(fn): ...``)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: this Tensor does not require grad, so no "
                               "gradient will ever flow into it")
        from scratchgan.autograd.hooks import add_hook
        return add_hook(self, "_grad_hooks", hook)

    def zero_grad(self) -> None:
        self.grad = None

    # -- autograd ----------------------------------------------------------
    def backward(self, gy: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf), contracted with ``gy``, into every leaf's ``grad``.

        ``gy`` defaults to 1 for a one-element Tensor and is required otherwise.
        The graph is freed afterwards unless ``retain_graph`` (default: ``create_graph``);
        a second backward through a freed graph raises. With ``create_graph`` the
        gradients carry their own graph, so they can be differentiated again.
        """
        from scratchgan.autograd.engine import backward
        backward([self], None if gy is None else [gy], retain_graph, create_graph)

    # -- operators (each one is a Function call) ---------------------------
    def __add__(self, other): return _functions().add(self, other)
    def __radd__(self, other): return _functions().add(other, self)
    def __sub__(self, other): return _functions().sub(self, other)
    def __rsub__(self, other): return _functions().sub(other, self)
    def __mul__(self, other): return _functions().mul(self, other)
    def __rmul__(self, other): return _functions().mul(other, self)
    def __truediv__(self, other): return _functions().div(self, other)
    def __rtruediv__(self, other): return _functions().div(other, self)
    def __neg__(self): return _functions().neg(self)
    def __pow__(self, exponent): return _functions().pow(self, exponent)
    def __matmul__(self, other): return _functions().matmul(self, other)
    def __rmatmul__(self, other): return _functions().matmul(other, self)
    def __getitem__(self, index): return _functions().getitem(self, index)

    @property
    def T(self) -> Tensor:
        return _functions().transpose(self)

    def reshape(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _functions().reshape(self, shape)

    def transpose(self, *axes) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _functions().transpose(self, axes or None)

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        return _functions().sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        return _functions().mean(self, axis, keepdims)

    def flatten(self, start_dim: int = 1) -> Tensor:
        return _functions().flatten(self, start_dim)

    __hash__ = object.__hash__  # Tensors are graph nodes, hashed by identity
