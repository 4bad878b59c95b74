"""The reverse-mode engine: walk the graph from outputs to inputs.

Functions are processed in decreasing ``generation`` (a Function's generation is
the largest generation of its inputs, a Tensor's is its creator's plus one), so a
Tensor's gradient is complete, summed over all its consumers, before its creator
runs: diamonds and shared subgraphs come out right. The backward calls run with
``enable_backprop = create_graph``: with ``create_graph=True`` every gradient has
a graph of its own and can be differentiated again.
"""
from __future__ import annotations

import heapq
from typing import Any, Sequence

from scratchgan.autograd import function as function_module
from scratchgan.autograd.function import Function, GraphFreedError
from scratchgan.autograd.tensor import Tensor, as_array
from scratchgan.backend import get_array_module
from scratchgan.config import using_config


def _as_list(xs: Any) -> list:
    if xs is None:
        return []
    return list(xs) if isinstance(xs, (list, tuple)) else [xs]


def _initial_grads(outputs: list[Tensor], grad_outputs: list) -> list[Tensor]:
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise ValueError(f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    gys = []
    for i, y in enumerate(outputs):
        if not isinstance(y, Tensor):
            raise TypeError(f"outputs[{i}] is a {type(y).__name__}, not a Tensor")
        if not y.requires_grad:
            raise RuntimeError(f"outputs[{i}] does not require grad: no input of the "
                               "computation had requires_grad=True (or it ran under no_grad)")
        gy = grad_outputs[i] if grad_outputs else None
        if gy is None:
            if y.size != 1:
                raise RuntimeError(
                    f"the gradient can be implied only for a one-element output, but outputs[{i}] "
                    f"has shape {y.shape}: pass gy, an array of that shape")
            gy = Tensor._from_array(get_array_module(y.data).ones(y.shape, y.dtype))
        elif not isinstance(gy, Tensor):
            gy = Tensor(get_array_module(y.data).asarray(as_array(gy, y.dtype)))
        elif gy.device != y.device:
            raise TypeError(f"gy lives on {gy.device} but outputs[{i}] on {y.device}; "
                            f"move it with .to({y.device!r})")
        if gy.shape != y.shape:
            raise ValueError(f"gy has shape {gy.shape} but outputs[{i}] has shape {y.shape}")
        gys.append(gy)
    return gys


def functions_leading_to(outputs: list[Tensor], targets: list[Tensor]) -> set[int]:
    """The ids of the Functions of the graph behind ``outputs`` that have one of
    ``targets`` among their inputs or upstream of them: the Functions a gradient with
    respect to ``targets`` goes through (``grad`` runs only these; ``check_graph``
    checks only these). A GraphFreedError where the graph was freed by a backward."""
    target_ids = {id(t) for t in targets}
    post_order: list[Function] = []   # every Function after the creators of its inputs
    seen: set[int] = set()
    stack = [(y.creator, False) for y in outputs if y.creator is not None]
    while stack:
        f, expanded = stack.pop()
        if expanded:
            post_order.append(f)
        elif id(f) not in seen:
            if f.inputs is None:
                raise GraphFreedError(f._freed_message())
            seen.add(id(f))
            stack.append((f, True))
            stack.extend((x.creator, False) for x in f.inputs if x.creator is not None)
    needed: set[int] = set()
    for f in post_order:
        if any(id(x) in target_ids or id(x.creator) in needed for x in f.inputs):
            needed.add(id(f))
    return needed


def _run(outputs: list[Tensor], grad_outputs: list, retain_graph: bool | None,
         create_graph: bool, targets: list[Tensor] | None
         ) -> tuple[dict[int, Tensor], dict[int, Tensor]]:
    """Propagate gradients from ``outputs``.

    Returns ``({id(tensor): gradient}, {id(tensor): tensor})``: the gradients of
    the ``targets`` when given (then only the Functions leading to them run), else
    of every leaf reached.
    """
    retain_graph = create_graph if retain_graph is None else retain_graph
    gys = _initial_grads(outputs, grad_outputs)
    needed = None if targets is None else functions_leading_to(outputs, targets)
    target_ids = {id(t) for t in targets or ()}
    grads: dict[int, Tensor] = {}
    holders: dict[int, Tensor] = {}  # keeps every Tensor keyed in ``grads`` alive: once a
    heap: list[tuple[int, int, Function]] = []  # consumer is released, nothing else may
    queued: set[int] = set()

    def accumulate(x: Tensor, gx: Tensor) -> None:
        grads[id(x)] = gx if id(x) not in grads else grads[id(x)] + gx
        holders[id(x)] = x

    hooked: set[int] = set()    # targets whose hooks ran when their creator ran

    def push(f: Function | None) -> None:
        if f is None or id(f) in queued or (needed is not None and id(f) not in needed):
            return
        queued.add(id(f))
        heapq.heappush(heap, (-f.generation, len(queued), f))

    monitor = function_module.monitor   # inspect.detect_anomaly's, else None
    with using_config("enable_backprop", create_graph):
        for y, gy in zip(outputs, gys):
            if monitor is not None:
                monitor.check_gradient(gy, None, None, y)
            accumulate(y, gy)
            push(y.creator)
        while heap:
            f = heapq.heappop(heap)[2]
            if f.inputs is None:
                raise GraphFreedError(f._freed_message())
            ys = [ref() for ref in f._outputs]  # alive while f.backward may use them
            fgys = [_take_output_grad(f, i, y, grads, holders, target_ids, hooked)
                    for i, y in enumerate(ys)]
            if all(g is None for g in fgys):
                continue
            f.check_versions()
            if monitor is None:
                gxs = f.backward(*fgys)
            else:
                gxs = monitor.run_backward(f, fgys)
            if create_graph:
                f.differentiated = True   # its backward is part of a graph (inspect.check_graph)
            gxs = gxs if isinstance(gxs, tuple) else (gxs,)
            if len(gxs) != len(f.inputs):
                raise RuntimeError(f"{f.name}.backward returned {len(gxs)} gradients "
                                   f"for {len(f.inputs)} inputs")
            for i, (x, gx) in enumerate(zip(f.inputs, gxs)):
                if gx is None or not x.requires_grad:
                    continue
                if gx.shape != x.shape:
                    raise RuntimeError(f"{f.name}.backward returned a gradient of shape "
                                       f"{gx.shape} for input {i} of shape {x.shape}")
                if monitor is not None:
                    monitor.check_gradient(gx, f, i, x)
                accumulate(x, gx)
                push(x.creator)
            if not retain_graph:
                f.release()
        if targets is not None:
            found = {k: g for k, g in grads.items() if k in target_ids}
        else:
            found = {k: g for k, g in grads.items() if holders[k].creator is None}
        for k, g in found.items():   # leaves, and targets whose creator did not run
            x = holders[k]
            if x._grad_hooks and (x.creator is None or k not in hooked):
                found[k] = _run_hooks(x, g)
    return found, holders


def _run_hooks(x: Tensor, g: Tensor) -> Tensor:
    """The gradient ``g`` of ``x`` passed through x's hooks, in the order registered."""
    for (hook,) in list(x._grad_hooks):
        r = hook(g)
        if r is None:
            continue
        if not isinstance(r, Tensor):
            r = Tensor(get_array_module(g.data).asarray(as_array(r, g.dtype)))
        if r.shape != g.shape:
            raise RuntimeError(f"a hook on a Tensor of shape {x.shape} returned a gradient of "
                               f"shape {r.shape}")
        g = r
    return g


def _take_output_grad(f: Function, i: int, y: Tensor | None, grads: dict[int, Tensor],
                      holders: dict[int, Tensor], target_ids: set[int],
                      hooked: set[int]) -> Tensor | None:
    """The finished gradient of f's i-th output y (zeros if another output has one),
    passed through y's hooks."""
    g = None if y is None else grads.get(id(y))
    if y is not None and g is not None:
        if y._grad_hooks:
            g = _run_hooks(y, g)
            hooked.add(id(y))
        if y.retains_grad:
            y.grad = g
        if id(y) not in target_ids:
            del grads[id(y)], holders[id(y)]
        else:
            grads[id(y)] = g
    if g is None and len(f.output_meta) > 1:
        shape, dtype = f.output_meta[i]
        g = Tensor._from_array(get_array_module(f.inputs[0].data).zeros(shape, dtype))
    return g


def backward(outputs: Sequence[Tensor], grad_outputs: Sequence | None = None,
             retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate the gradients of ``outputs`` (weighted by ``grad_outputs``) into
    the ``.grad`` of every leaf that requires grad. See ``Tensor.backward``."""
    grads, tensors = _run(_as_list(outputs), _as_list(grad_outputs), retain_graph,
                          create_graph, None)
    for key, gx in grads.items():
        x = tensors[key]
        if not create_graph:
            gx = Tensor._from_array(gx.data)
        if x.grad is None:
            x.grad = gx
        elif create_graph:
            x.grad = x.grad + gx
        else:
            x.grad = Tensor._from_array(x.grad.data + gx.data)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, create_graph: bool = False,
         retain_graph: bool | None = None, allow_unused: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``sum_i <outputs[i], grad_outputs[i]>`` w.r.t. each of ``inputs``.

    Leaves' ``.grad`` are not touched. ``inputs`` may be intermediate Tensors.
    With ``create_graph=True`` the returned gradients can be differentiated again
    (this is how gradient penalties are built). An input the outputs do not
    depend on is an error unless ``allow_unused``, which returns None for it, or
    ``materialize_grads``, which returns zeros of its shape and dtype (e.g. the bias of a
    critic's last layer, which no input gradient depends on, under a gradient penalty).
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise ValueError(f"inputs[{i}] must be a Tensor with requires_grad=True")
    found, _ = _run(outputs, _as_list(grad_outputs), retain_graph, create_graph, inputs)
    result = []
    for i, x in enumerate(inputs):
        gx = found.get(id(x))
        if gx is None and materialize_grads:
            gx = Tensor._from_array(get_array_module(x.data).zeros(x.shape, x.dtype))
        elif gx is None and not allow_unused:
            raise RuntimeError(f"inputs[{i}] (shape {x.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it, or "
                               "materialize_grads=True to get zeros")
        result.append(gx)
    return tuple(result)
