"""Module: the base class of every layer and model.

A Module owns three ordered collections, filled by attribute assignment:

* parameters: ``self.weight = Parameter(...)``: trained by optimizers;
* buffers: ``self.register_buffer("running_mean", array)``: plain arrays that are
  part of the state (saved, loaded, cast) but never trained;
* children: ``self.net = Sequential(...)``: their parameters and buffers are
  reached under dotted names, ``"net.0.weight"``.

Iteration, ``state_dict`` and ``repr`` follow the order of assignment: a module's
own parameters, then its own buffers, then each child in turn.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import CPU, CUDA, as_device, cuda_module, get_array_module, to_numpy
from scratchgan.nn.parameter import Parameter

_STORES = ("_parameters", "_buffers", "_modules")


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` left out."""
    missing_keys: list[str]
    unexpected_keys: list[str]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(f"a parameter, buffer or child module needs a non-empty name "
                       f"without dots, got {name!r}")


def _as_buffer(name: str, value: Any) -> Any:
    if isinstance(value, Tensor):
        raise TypeError(f"buffer {name!r}: buffers are plain arrays, got a Tensor "
                        "(pass tensor.data, or register a Parameter if it should train)")
    return get_array_module(value).asarray(value)


def _cuda_module() -> Any:
    """CuPy, when it imports and sees a GPU; a clear RuntimeError otherwise (it names what
    is missing: CuPy, or a GPU CuPy can use)."""
    return cuda_module()


def _to_host(a: Any) -> np.ndarray:
    """``a`` itself when it is a NumPy array, else a host copy of the device array."""
    return a if isinstance(a, np.ndarray) else to_numpy(a)


def _array_converter(device: str | None, dtype: Any) -> Callable[[Any], Any]:
    """A function that moves an array to ``device`` and casts it to ``dtype``
    (floating arrays only: counters such as num_batches_tracked stay integers)."""
    target = None if device is None else as_device(device)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"modules hold floating-point parameters; cannot cast to {dtype}")
    move = None if target is None else _cuda_module().asarray if target.is_gpu else _to_host

    def convert(a: Any) -> Any:
        a = move(a) if move else a
        return a.astype(dtype, copy=False) if dtype is not None and a.dtype.kind == "f" else a

    return convert


class Module:
    """Base class of layers and models: subclass it, assign Parameters and child
    Modules in ``__init__`` (after ``super().__init__()``) and define ``forward``.

    ``module(*args)`` runs the forward pre-hooks, then ``forward(*args)``, then the
    forward hooks (``register_forward_hook``).
    """

    training: bool
    _forward_hooks: Any = ()   # an instance list once a forward hook is registered

    def __init__(self) -> None:
        for store in _STORES:
            object.__setattr__(self, store, OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for hook in self._forward_pre_hooks:
            hook(self, args)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for (hook,) in list(self._forward_hooks):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> Any:
        """Call ``hook(module, args, output)`` after every forward; a value it returns
        replaces the output (None keeps it). Hooks run in the order registered. A
        ``Sequential`` does not fuse a hooked BatchNorm with the activation after it, so the
        hook sees the batch norm's own output. Returns a handle with ``remove()``."""
        from scratchgan.autograd.hooks import add_hook
        return add_hook(self, "_forward_hooks", hook)

    def register_parameter_grad_hook(self, hook: Callable[[Module, str, Tensor], Any]) -> Any:
        """Call ``hook(module, name, grad)`` with the gradient of each of this module's
        parameters (``name`` dotted as in ``named_parameters``) once per backward that
        reaches it, before it is accumulated into ``.grad`` or returned by ``grad``; a
        Tensor it returns replaces that gradient. Registers one Tensor hook per parameter
        present now; the returned handle removes them all."""
        from scratchgan.autograd.hooks import RemovableHandle

        def bound(name: str) -> Callable[[Tensor], Any]:
            return lambda g: hook(self, name, g)

        handles = [p.register_hook(bound(name)) for name, p in self.named_parameters()]

        def remove() -> None:
            for h in handles:
                h.remove()
        return RemovableHandle(remove)

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], None]) -> Callable:
        """Run ``hook(module, args)`` before every forward (spectral norm uses one);
        returns the hook."""
        self._forward_pre_hooks.append(hook)
        return hook

    # -- registration --------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)):
            if "_parameters" not in self.__dict__:
                raise AttributeError(f"cannot assign {name!r} before {type(self).__name__}."
                                     "__init__ has called super().__init__()")
            self._discard(name)
            store = self._parameters if isinstance(value, Parameter) else self._modules
            store[name] = value
        elif name in self.__dict__.get("_parameters", ()):
            raise TypeError(f"{type(self).__name__}.{name} is a Parameter; assign a Parameter "
                            f"(not a {type(value).__name__}), change its .data in place, or "
                            f"`del module.{name}` first")
        elif name in self.__dict__.get("_modules", ()):
            raise TypeError(f"{type(self).__name__}.{name} is a child Module; assign a Module "
                            f"(not a {type(value).__name__}) or `del module.{name}` first")
        elif name in self.__dict__.get("_buffers", ()):
            self._buffers[name] = _as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:  # called only when normal lookup fails
        d = self.__dict__
        for store in _STORES:
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for store in _STORES:
            if name in self.__dict__.get(store, ()):
                del self.__dict__[store][name]
                return
        object.__delattr__(self, name)

    def _discard(self, name: str) -> None:
        """Forget ``name`` wherever it is registered or set."""
        for store in _STORES:
            self.__dict__[store].pop(name, None)
        self.__dict__.pop(name, None)

    def register_parameter(self, name: str, param: Parameter) -> None:
        """Same as ``setattr(self, name, param)``, with the name checked."""
        _check_name(name)
        if not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter, "
                            f"got {type(param).__name__}")
        setattr(self, name, param)

    def register_buffer(self, name: str, array: Any) -> None:
        """Register a non-trainable array (e.g. running statistics) that is part of the
        state: saved by ``state_dict``, cast and moved by ``to``. Read it as
        ``self.<name>``; assigning ``self.<name> = array`` replaces it."""
        _check_name(name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"register_buffer: {type(self).__name__} already has an attribute "
                           f"{name!r}")
        self._buffers[name] = _as_buffer(name, array)

    # -- traversal -----------------------------------------------------------
    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module (name "") and every descendant,
        depth first in registration order; a module reached twice is listed once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(reversed([(_join(name, k), m) for k, m in module._modules.items()]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) of every parameter, each one once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield _join(prefix, name), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        for prefix, module in self.named_modules():
            for name, b in module._buffers.items():
                yield _join(prefix, name), b

    def buffers(self) -> Iterator[Any]:
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(m)`` on every descendant, then on this module; returns self.
        ``model.apply(scratchgan.gan.init.dcgan_init)`` re-initialises a model."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def num_parameters(self) -> int:
        """The number of trainable values (elements of all parameters)."""
        return sum(int(p.size) for p in self.parameters())

    # -- modes and gradients --------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set the training flag of this module and every descendant; returns self.
        Batch norm normalizes with batch statistics in training mode and with the
        running statistics in eval mode; spectral norm updates u, v only in training."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """``train(False)``; returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.parameters():
            p.grad = None

    # -- state -----------------------------------------------------------------
    def _state_entries(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, array) of every parameter and buffer, in state_dict order."""
        for prefix, module in self.named_modules():
            for name, p in module._parameters.items():
                yield _join(prefix, name), p.data
            for name, b in module._buffers.items():
                yield _join(prefix, name), b

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An ordered dict: dotted name -> NumPy copy of every parameter and buffer."""
        return OrderedDict((key, np.array(_to_host(a), copy=True))
                           for key, a in self._state_entries())

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of ``state`` into the parameters and buffers, in place
        (Parameters keep their identity, so optimizers keep working).

        Nothing is copied unless everything fits: with ``strict`` every key must
        match; shapes and dtypes must match always, and each module must accept its
        values (``_state_problems``: batch norm refuses impossible running statistics).
        The ValueError names every missing key, unexpected key and mismatching array.
        Returns the keys that ``strict=False`` skipped. Each Parameter written gets a new
        ``_version`` (a graph built before the load cannot be backpropagated through).
        """
        entries = dict(self._state_entries())
        missing = [key for key in entries if key not in state]
        unexpected = [key for key in state if key not in entries]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        values = {}
        for key in (k for k in entries if k in state):
            value = state[key]
            value = value.data if isinstance(value, Tensor) else value
            if not (hasattr(value, "dtype") and hasattr(value, "shape")):
                value = np.asarray(value)
            target = entries[key]
            if tuple(value.shape) != target.shape:
                problems.append(f"{key} has shape {tuple(value.shape)} in the checkpoint but "
                                f"{target.shape} in the model")
            elif value.dtype != target.dtype:
                problems.append(f"{key} has dtype {value.dtype} in the checkpoint but "
                                f"{target.dtype} in the model (cast the model with .to(dtype=...))")
            else:
                values[key] = value
        for prefix, module in self.named_modules():
            problems += module._state_problems(prefix, values)
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: " + "; ".join(problems))
        params = {_join(prefix, name): p for prefix, module in self.named_modules()
                  for name, p in module._parameters.items()}
        for key, value in values.items():
            entries[key][...] = get_array_module(entries[key]).asarray(value)
            if key in params:
                params[key]._version += 1
        return IncompatibleKeys(missing, unexpected)

    def _state_problems(self, prefix: str, values: dict[str, Any]) -> list[str]:
        """What is wrong with the values that ``load_state_dict`` would give this module's
        own parameters and buffers (``values``: dotted key -> array of the right shape and
        dtype; this module's keys start with ``prefix``), one line per problem. The base
        class accepts every value; a subclass with rules on its state (batch norm) refuses."""
        return []

    def to(self, device: str | None = None, dtype: Any = None) -> Module:
        """Cast (``dtype``, floating arrays only) and move (``device``: ``"cpu"`` or
        ``"cuda"``, the latter through CuPy) every parameter, gradient and buffer, in
        place: Parameters keep their identity, their ``.data`` is replaced. Returns self.
        """
        convert = _array_converter(device, dtype)
        for p in self.parameters():
            p.data = convert(p.data)
            if p.grad is not None:
                p.grad = Tensor._from_array(convert(p.grad.data))
        for module in self.modules():
            for name, b in module._buffers.items():
                module._buffers[name] = convert(b)
        return self

    def cuda(self) -> Module:
        """``to("cuda")``."""
        return self.to(CUDA)

    def cpu(self) -> Module:
        """``to("cpu")``."""
        return self.to(CPU)

    # -- printing --------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown inside the parentheses of ``repr``."""
        return ""

    def _repr(self, total: bool) -> str:
        n = self.num_parameters()
        if total and (n or self._modules):
            count = f"  # total {n:,} parameters"
        else:
            count = f"  # {n:,} parameters" if n else ""
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not self._modules:
            return head + ")" + count
        lines = [f"  ({name}): " + child._repr(False).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        return head + "\n" + "\n".join(lines) + "\n)" + count

    def __repr__(self) -> str:
        """The nested structure, each layer's parameter count and the total."""
        return self._repr(total=True)
