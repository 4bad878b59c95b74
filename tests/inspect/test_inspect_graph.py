"""inspect.graph: the backward graph as data, as a text tree and as Graphviz text."""
from pathlib import Path

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import inspect as si
from scratchgan import nn

EXPECTED = Path(__file__).parent / "expected"


def small_graph():
    """y = sum(tanh(x @ W) * 2) + sum(x): a diamond on x, a constant, two named leaves."""
    x = sg.Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True, name="x")
    W = sg.Tensor(np.ones((3, 1)), requires_grad=True, name="W")
    return F.sum(F.tanh(x @ W) * 2.0) + F.sum(x), x, W


def test_graph_as_data():
    y, x, W = small_graph()
    g = si.graph(y)
    assert [n.name for n in g] == ["Add", "Sum", "Mul", "Tanh", "MatMul", "Sum"]
    assert g[0].generation == 4 and g[4].generation == 0
    matmul = g.find("MatMul")[0]
    assert [(i.kind, i.name, i.shape, i.dtype) for i in matmul.inputs] == [
        ("leaf", "x", (2, 3), "float64"), ("leaf", "W", (3, 1), "float64")]
    assert matmul.outputs == [((2, 1), "float64")]
    assert matmul.retained_bytes == 6 * 8 + 3 * 8
    assert g[2].inputs[0].kind == "node" and g[2].inputs[0].source == 3
    assert g[2].inputs[1].kind == "constant"
    assert g[3].formula == "gx = gy * (1 - y^2)"          # from Tanh's docstring
    # x (48 B) is retained by MatMul and by the last Sum but counted once: x, W (24 B),
    # the outputs of MatMul, Tanh, Mul (16 B each), the constant and the first Sum (8 B each)
    assert g.total_retained_bytes == 48 + 24 + 3 * 16 + 8 + 8 + 8


def test_text_and_dot_match_the_stored_expectation():
    y, _, _ = small_graph()
    g = si.graph(y)
    assert g.to_text() == (EXPECTED / "small_graph.txt").read_text().rstrip("\n")
    assert g.to_dot() == (EXPECTED / "small_graph.dot").read_text()


def test_names_label_a_modules_parameters():
    D = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Linear(3, 1))
    x = sg.Tensor(np.ones((4, 2), dtype=np.float32))
    text = si.graph(D(x).sum(), names={"D": D}).to_text()
    for name in ("D.0.weight", "D.0.bias", "D.2.weight", "D.2.bias"):
        assert f"leaf {name} " in text


def test_a_gradient_penalty_graph_shows_the_backward_functions_and_marks_double():
    rng = np.random.default_rng(0)
    D = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Linear(3, 1))
    x = sg.Tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    (gx,) = sg.grad(D(x).sum(), x, create_graph=True)
    penalty = F.mean((F.sqrt(F.sum(gx ** 2, axis=1)) - 1.0) ** 2)
    g = si.graph(penalty, names={"D": D})
    counts = g.counts()
    assert counts["LeakyReLUGrad"] == 1 and counts["Linear"] == 1
    assert [n.name for n in g if n.double] == ["Linear"]     # the critic's first layer
    assert "LeakyReLUGrad" in g.to_text() and "double" in g.to_text()
    assert "peripheries=2" in g.to_dot()


def test_backward_of_is_shown_when_recorded_under_detect_anomaly():
    x = sg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with si.detect_anomaly():
        y = F.tanh(x)
        (gx,) = sg.grad(y.sum(), x, create_graph=True)
    g = si.graph(gx.sum())
    tanh = g.find("Tanh")[0]
    made = [n for n in g if n.backward_of_name == "Tanh"]
    assert made and all(n.backward_of == tanh.id for n in made)
    assert "test_inspect_graph.py" in tanh.created_at
    assert f"(from the backward of #{tanh.id} Tanh)" in g.to_text()


def test_a_freed_graph_is_a_clear_error():
    y, _, _ = small_graph()
    y.backward()
    with pytest.raises(sg.autograd.GraphFreedError, match="retain_graph"):
        si.graph(y)
