"""See every gradient: hooks, the backward graph, per-node live gradient checks, NaN
attribution.

* hooks: ``Tensor.register_hook``, ``Tensor.retain_grad``, ``Module.register_forward_hook``,
  ``Module.register_parameter_grad_hook`` (each returns a :class:`RemovableHandle`);
* :func:`graph`: the backward graph of a loss as data, ``.to_text()``, ``.to_dot()``;
* :func:`check_graph`: a finite-difference check at every node of a live graph, on the
  activations the forward produced;
* :func:`detect_anomaly`: the first NaN or Inf, forward or backward, named with the
  Function, where user code created it and its inputs' statistics.
"""
from scratchgan.autograd.hooks import RemovableHandle
from scratchgan.inspect.graph import Graph, Input, Node, formula_of, graph

__all__ = ["graph", "Graph", "Node", "Input", "formula_of", "RemovableHandle"]
from scratchgan.inspect.check import GraphCheck, NodeCheck, check_graph  # noqa: E402

__all__ += ["check_graph", "GraphCheck", "NodeCheck"]
from scratchgan.inspect.anomaly import AnomalyError, array_stats, detect_anomaly  # noqa: E402

__all__ += ["detect_anomaly", "AnomalyError", "array_stats"]
