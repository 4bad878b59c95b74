"""A finite-difference check at every node of a live graph.

``check_graph(loss)`` takes each Function of ``graph(loss)`` with the inputs the forward
actually gave it, copies those activations to float64, and runs the directional check of
:func:`scratchgan.testing.check_backward` on that one op (a fresh instance of the same
Function with the same settings, the Tensors that do not require grad held fixed): a
random upstream gradient, one random direction over all its differentiable inputs, the
analytic <gx, v> against the central difference. A wrong backward in a big model is named
at its node instead of showing up as one bad number at the end.

The nodes whose backward a penalty differentiated (their backward ran under
``create_graph``, e.g. the critic's ops under WGAN-GP or R1) are also checked at second
order with :func:`scratchgan.testing.check_double_backward`, on their own activations;
the backward Functions the penalty's graph is made of are ordinary nodes of that graph and
get the first-order check like every other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from scratchgan.autograd.engine import functions_leading_to
from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.config import using_config
from scratchgan.inspect.graph import Graph, Node, graph
from scratchgan.testing.gradcheck import check_backward, check_double_backward

__all__ = ["check_graph", "GraphCheck", "NodeCheck", "node_function"]

#: what a Function's __call__, the engine and detect_anomaly set on it: not its settings
_GRAPH_STATE = frozenset({"inputs", "_outputs", "generation", "needs_input_grad",
                          "output_meta", "differentiated", "created_at", "backward_of",
                          "op_site"})


def fresh_copy(f: Function) -> Function:
    """A new, unrecorded instance of ``f``'s class with ``f``'s settings (stride, slope,
    eps, index, ...), ready to be called again."""
    g = object.__new__(type(f))
    g.__dict__.update({k: v for k, v in f.__dict__.items() if k not in _GRAPH_STATE})
    return g


def node_function(f: Function) -> tuple[Callable[..., Any], list[Any], list[int]]:
    """``(call, arrays, positions)``: ``call(*tensors)`` re-runs ``f``'s op in float64 on
    its recorded inputs, with the Tensors at ``positions`` (the inputs that require grad)
    replaced by its arguments; ``arrays`` are float64 copies of those inputs."""
    if f.inputs is None:
        raise RuntimeError(f"check_graph: {f._freed_message()}")
    xs = f.inputs
    positions = [i for i, x in enumerate(xs) if x.requires_grad and x.dtype.kind == "f"]

    def as64(x: Tensor) -> Any:
        return get_array_module(x.data).asarray(x.data, dtype=np.float64)

    fixed = [Tensor(as64(x)) if x.dtype.kind == "f" else Tensor(x.data) for x in xs]

    def call(*tensors: Tensor) -> Any:
        full = list(fixed)
        for i, t in zip(positions, tensors):
            full[i] = t
        return fresh_copy(f)(*full)

    return call, [as64(xs[i]) for i in positions], positions


@dataclass
class NodeCheck:
    """The check of one node at one order."""
    node: Node
    order: int
    ok: bool
    rel_err: float
    abs_err: float
    message: str = ""
    skipped: str = ""              # why it was not checked (no input requires grad)

    def row(self) -> str:
        n = self.node
        if self.skipped:
            return f"{'#' + str(n.id):>5}  {n.name:<24} {self.order:>5}  {'':>9}  {'':>9}  " \
                   f"skipped: {self.skipped}"
        return (f"{'#' + str(n.id):>5}  {n.name:<24} {self.order:>5}  {self.rel_err:>9.1e}  "
                f"{self.abs_err:>9.1e}  {'ok' if self.ok else 'FAIL'}")


@dataclass
class GraphCheck:
    """Every node's check; ``failures`` are the nodes whose backward disagrees."""
    graph: Graph
    results: list[NodeCheck] = field(default_factory=list)

    @property
    def failures(self) -> list[NodeCheck]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def worst(self, order: int = 1) -> float:
        """The largest relative error at one order."""
        errs = [r.rel_err for r in self.results if r.order == order and not r.skipped]
        return max(errs, default=0.0)

    def to_text(self) -> str:
        first = [r for r in self.results if r.order == 1 and not r.skipped]
        second = [r for r in self.results if r.order == 2]
        lines = [f"live gradient check: {len(first)} nodes at first order"
                 + (f", {len(second)} at second order (the nodes a penalty differentiates)"
                    if second else "")
                 + "; float64 copies of the activations the forward produced, central "
                   "differences along one random direction, a random upstream gradient",
                 f"{'node':>5}  {'Function':<24} {'order':>5}  {'rel err':>9}  "
                 f"{'abs err':>9}  result"]
        lines += [r.row() for r in self.results]
        bad = self.failures
        if bad:
            lines.append(f"{len(bad)} node(s) FAILED:")
            lines += [f"  #{r.node.id} {r.node.name} (order {r.order}): {r.message}"
                      for r in bad]
        else:
            lines.append(f"all nodes agree: worst relative error {self.worst(1):.1e} "
                         f"(first order)" + (f", {self.worst(2):.1e} (second order)"
                                             if second else ""))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def check_graph(loss: Tensor, inputs: Sequence[Tensor] | None = None, *,
                names: Mapping[str, Any] | None = None, second_order: bool = True,
                eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4,
                atol2: float = 1e-5, rtol2: float = 1e-3, seed: int = 0,
                raise_on_failure: bool = False) -> GraphCheck:
    """Check every node of ``loss``'s backward graph against finite differences.

    Args:
        loss: a Tensor whose graph is still recorded (call before ``backward``, or after
            one with ``retain_graph=True``).
        inputs: only the nodes that lead to these Tensors (as ``grad`` prunes); default all.
        names: labels for leaves, as for :func:`~scratchgan.inspect.graph`.
        second_order: also check at second order the nodes whose backward ran under
            ``create_graph`` (a gradient penalty's critic).
        eps, atol, rtol: the first-order check's step and tolerances; ``atol2``, ``rtol2``:
            the second order's.
        raise_on_failure: raise ``GradcheckError`` naming the failing nodes.
    Returns:
        A :class:`GraphCheck`: one :class:`NodeCheck` per node and order, ``.to_text()``.
    """
    g = graph(loss, names)
    keep = None
    if inputs is not None:
        keep = functions_leading_to([loss], list(inputs))
    report = GraphCheck(g)
    with using_config("enable_backprop", True):
        for node in g.nodes:
            f = node.function
            if keep is not None and id(f) not in keep:
                continue
            call, arrays, _ = node_function(f)
            if not arrays:
                report.results.append(NodeCheck(node, 1, True, 0.0, 0.0,
                                                skipped="no input requires grad"))
                continue
            r = check_backward(call, arrays, eps=eps, atol=atol, rtol=rtol,
                               seed=seed + node.id, raise_on_failure=False, locate=False)
            report.results.append(NodeCheck(node, 1, r.ok, r.max_rel_err, r.max_abs_err,
                                            r.message))
            if second_order and node.double:
                r = check_double_backward(call, arrays, eps=eps, atol=atol2, rtol=rtol2,
                                          seed=seed + node.id, raise_on_failure=False,
                                          locate=False)
                report.results.append(NodeCheck(node, 2, r.ok, r.max_rel_err,
                                                r.max_abs_err, r.message))
    if raise_on_failure and not report.ok:
        from scratchgan.testing.gradcheck import GradcheckError
        raise GradcheckError(report.to_text())
    return report
