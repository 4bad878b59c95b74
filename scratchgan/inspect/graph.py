"""The backward graph of a Tensor as data, as a text tree and as Graphviz text.

``graph(loss)`` walks from ``loss.creator`` through every Function's saved inputs and
returns a :class:`Graph`: one :class:`Node` per Function (its class, generation, the
shapes and dtypes of its inputs and outputs, the arrays it retains for its backward and
their bytes, its ``Gradients:`` formula from its docstring), numbered in the order a
depth-first walk from the loss first meets them (``#0`` made the loss). A gradient
penalty's graph is walked the same way: it shows the backward Functions the first
gradient was built from (``LeakyReLUGrad``, ``Conv2dGradWeight``, ...), and marks the
forward Functions whose backward it contains (``double``).

``to_text()`` prints the tree (a node met a second time is a reference ``-> #k``),
``to_dot()`` Graphviz source with no Graphviz dependency (``dot -Tsvg graph.dot``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from scratchgan.autograd.function import Function, GraphFreedError
from scratchgan.autograd.tensor import Tensor

__all__ = ["Graph", "Node", "Input", "graph", "formula_of", "tensor_names"]


def formula_of(function: Function | type) -> str:
    """The ``Gradients:`` section of a Function's docstring, on one line ("" if none)."""
    from scratchgan.docgen import parse_docstring
    cls = function if isinstance(function, type) else type(function)
    return parse_docstring(cls).get("Gradients", "")


def tensor_names(names: Mapping[str, Any] | None) -> dict[int, str]:
    """{id(tensor): name} from a mapping of names to Tensors or Modules (a Module's
    parameters are named ``<key>.<dotted name>``)."""
    found: dict[int, str] = {}
    for key, value in (names or {}).items():
        if isinstance(value, Tensor):
            found.setdefault(id(value), key)
        elif hasattr(value, "named_parameters"):
            for name, p in value.named_parameters():
                found.setdefault(id(p), f"{key}.{name}" if key else name)
        else:
            raise TypeError(f"names[{key!r}]: expected a Tensor or a Module, got "
                            f"{type(value).__name__}")
    return found


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@dataclass
class Input:
    """One input of a node: where it comes from and what it holds."""
    shape: tuple[int, ...]
    dtype: str
    kind: str                      # "node" (made by another Function), "leaf", "constant"
    source: int | None = None      # the node that made it (kind "node")
    output_index: int = 0          # which output of that node
    name: str | None = None        # a leaf's name (names= or Tensor.name)
    nbytes: int = 0
    leaf_index: int | None = None  # leaves and constants: one number per Tensor

    def describe(self) -> str:
        what = (f"#{self.source}" + (f"[{self.output_index}]" if self.output_index else "")
                if self.kind == "node" else self.kind + (f" {self.name}" if self.name else ""))
        return f"{what} {_shape(self.shape)} {self.dtype}"


@dataclass
class Node:
    """One Function of the graph."""
    id: int
    name: str                      # the Function's class name
    generation: int
    inputs: list[Input]
    outputs: list[tuple[tuple[int, ...], str]]
    retained_bytes: int            # the inputs it keeps alive for its backward
    formula: str                   # its docstring's Gradients: section
    double: bool = False           # its backward ran with create_graph: it is in this graph
    backward_of: int | None = None  # recorded under detect_anomaly: the node whose backward
    backward_of_name: str | None = None  # made this one (a double-backward graph)
    created_at: str | None = None  # recorded under detect_anomaly: file:line in user code
    function: Function | None = field(default=None, repr=False, compare=False)

    def header(self) -> str:
        outs = ", ".join(f"{_shape(s)} {d}" for s, d in self.outputs)
        marks = "".join([
            "  double" if self.double else "",
            (f"  (from the backward of #{self.backward_of} {self.backward_of_name})"
             if self.backward_of is not None else
             f"  (from the backward of {self.backward_of_name})" if self.backward_of_name
             else ""),
        ])
        return (f"#{self.id} {self.name} -> {outs}  gen {self.generation}  retains "
                f"{_bytes(self.retained_bytes)}{marks}")


@dataclass
class Graph:
    """A backward graph: ``nodes[0]`` made the loss; ``leaves`` are the Tensors that
    require grad and have no creator (parameters, inputs)."""
    nodes: list[Node]
    root_shape: tuple[int, ...]
    root_dtype: str
    total_retained_bytes: int      # every retained array counted once

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __getitem__(self, i: int) -> Node:
        return self.nodes[i]

    def find(self, name: str) -> list[Node]:
        """The nodes of one Function class."""
        return [n for n in self.nodes if n.name == name]

    def counts(self) -> dict[str, int]:
        """How many nodes of each Function class."""
        out: dict[str, int] = {}
        for n in self.nodes:
            out[n.name] = out.get(n.name, 0) + 1
        return out

    def to_text(self, formulas: bool = True) -> str:
        """A tree from the loss down; each node with its inputs and its formula."""
        lines = [f"backward graph of a {_shape(self.root_shape)} {self.root_dtype} Tensor: "
                 f"{len(self.nodes)} Functions, {_bytes(self.total_retained_bytes)} retained"]
        if not self.nodes:
            return lines[0] + " (a leaf: nothing to differentiate through)"
        printed: set[int] = set()

        def visit(node: Node, prefix: str, label: str, last: bool, top: bool) -> None:
            branch = "" if top else ("`-- " if last else "|-- ")
            lines.append(f"{prefix}{branch}{label}{node.header()}")
            child_prefix = prefix + ("" if top else ("    " if last else "|   "))
            printed.add(node.id)
            if formulas and node.formula:
                bar = "|   " if node.inputs else "    "
                lines.append(f"{child_prefix}{bar}Gradients: {node.formula}")
            for k, x in enumerate(node.inputs):
                end = k == len(node.inputs) - 1
                tag = f"x{k}: "
                if x.kind == "node" and x.source not in printed:
                    visit(self.nodes[x.source], child_prefix, tag, end, False)
                else:
                    more = " (above)" if x.kind == "node" else ""
                    lines.append(f"{child_prefix}{'`-- ' if end else '|-- '}{tag}"
                                 f"{x.describe()}{more}")

        visit(self.nodes[0], "", "", True, True)
        return "\n".join(lines)

    def to_dot(self, formulas: bool = True) -> str:
        """Graphviz source: a box per Function (name, output shapes, formula), an
        ellipse per leaf, edges in the direction the forward ran."""
        def esc(s: str) -> str:
            return s.replace("\\", "\\\\").replace('"', '\\"')

        out = ["digraph backward {", "  rankdir=BT;",
               '  node [shape=box, fontname="monospace", fontsize=10];']
        leaves: set[str] = set()
        for n in self.nodes:
            label = [f"#{n.id} {n.name}",
                     ", ".join(f"{_shape(s)} {d}" for s, d in n.outputs),
                     f"gen {n.generation}, retains {_bytes(n.retained_bytes)}"]
            if formulas and n.formula:
                label.append(n.formula)
            style = ", style=dashed" if n.backward_of is not None or n.backward_of_name else ""
            style += ", peripheries=2" if n.double else ""
            out.append(f'  n{n.id} [label="{esc(chr(10).join(label))}"{style}];'
                       .replace(chr(10), "\\n"))
        for n in self.nodes:
            for k, x in enumerate(n.inputs):
                if x.kind == "node":
                    out.append(f'  n{x.source} -> n{n.id} [label="x{k}"];')
                    continue
                leaf = f"t{x.leaf_index}"
                if leaf not in leaves:
                    leaves.add(leaf)
                    shape = "ellipse" if x.kind == "leaf" else "plaintext"
                    text = (esc(x.name) + "\\n" if x.name else "") + f"{_shape(x.shape)} {x.dtype}"
                    out.append(f'  {leaf} [label="{text}", shape={shape}];')
                out.append(f'  {leaf} -> n{n.id} [label="x{k}"];')
        out.append("}")
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.to_text()


def graph(loss: Tensor, names: Mapping[str, Any] | None = None) -> Graph:
    """The backward graph of ``loss`` (any Tensor that has a creator) as a :class:`Graph`.

    ``names`` labels leaves: ``{"D": critic, "x": x}`` names each of the critic's
    parameters ``D.<dotted name>`` (otherwise a Tensor's ``name``, or none). The graph
    must not have been freed by a backward (call it before, or pass ``retain_graph``).
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"graph() takes a Tensor, got {type(loss).__name__}")
    labels = tensor_names(names)
    ids: dict[int, int] = {}
    order: list[Function] = []
    stack = [loss.creator] if loss.creator is not None else []
    while stack:                           # depth first, inputs in order
        f = stack.pop()
        if id(f) in ids:
            continue
        if f.inputs is None:
            raise GraphFreedError(f"graph(): {f._freed_message()}")
        ids[id(f)] = len(order)
        order.append(f)
        stack.extend(reversed([x.creator for x in f.inputs
                               if x.creator is not None and id(x.creator) not in ids]))
    seen_arrays: set[int] = set()
    leaf_numbers: dict[int, int] = {}
    total = 0
    nodes = []
    for i, f in enumerate(order):
        inputs = []
        for x in f.inputs:
            nbytes = int(x.data.nbytes)
            if id(x.data) not in seen_arrays:
                seen_arrays.add(id(x.data))
                total += nbytes
            if x.creator is not None:
                outs = x.creator._outputs or ()
                index = next((j for j, r in enumerate(outs) if r() is x), 0)
                inputs.append(Input(x.shape, str(x.dtype), "node", ids[id(x.creator)], index,
                                    nbytes=nbytes))
            else:
                inputs.append(Input(x.shape, str(x.dtype), "leaf" if x.requires_grad
                                    else "constant", name=labels.get(id(x), x.name),
                                    nbytes=nbytes,
                                    leaf_index=leaf_numbers.setdefault(id(x), len(leaf_numbers))))
        source = getattr(f, "backward_of", None)
        nodes.append(Node(
            id=i, name=f.name, generation=f.generation, inputs=inputs,
            outputs=[(tuple(s), str(d)) for s, d in f.output_meta],
            retained_bytes=sum(x.nbytes for x in inputs), formula=formula_of(f),
            double=bool(getattr(f, "differentiated", False)),
            backward_of=None if source is None else ids.get(id(source)),
            backward_of_name=None if source is None else source.name,
            created_at=getattr(f, "created_at", None), function=f))
    return Graph(nodes, tuple(loss.shape), str(loss.dtype), total)
