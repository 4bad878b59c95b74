"""The engine: graph order, accumulation, freeing, retain/create graph, grad()."""
import gc
import weakref

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.autograd import GraphFreedError


def leaf(*shape, seed=0):
    return sg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_diamond_sums_both_paths():
    # y = a*b with a = x^2 and b = exp(x): dy/dx = 2x e^x + x^2 e^x
    x = leaf(5)
    a, b = x ** 2, F.exp(x)
    (a * b).sum().backward()
    v = x.data
    np.testing.assert_allclose(x.grad.data, 2 * v * np.exp(v) + v ** 2 * np.exp(v))


def test_shared_subgraph_used_at_different_depths():
    # h = tanh(x) feeds the output directly and through three more ops
    x = leaf(4)
    h = F.tanh(x)
    y = (h + F.exp(F.exp(h) * 0.5) * 2).sum()
    y.backward()
    t = np.tanh(x.data)
    inner = np.exp(t) * 0.5
    expected = (1 + 2 * np.exp(inner) * inner) * (1 - t ** 2)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_same_tensor_twice_in_one_op():
    x = leaf(3)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_leaf_gradients_accumulate_across_backwards():
    x = leaf(3)
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 5.0))


def test_non_leaf_gradients_are_not_stored_unless_retained():
    x = leaf(3)
    h = x * 2.0
    g = x * 3.0
    g.retain_grad()
    (h * g).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(g.grad.data, h.data)


def test_backward_twice_through_a_freed_graph_raises():
    x = leaf(3)
    y = F.tanh(x).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    y = F.tanh(x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_graph_is_freed_after_backward():
    x = leaf(1000)
    y = F.exp(x)
    ref = weakref.ref(y.creator)
    big = y.creator.inputs[0]
    y.sum().backward()
    assert y.creator.inputs is None and big is x
    del y
    gc.collect()
    assert ref() is None


def test_no_grad_records_nothing():
    x = leaf(3)
    with sg.no_grad():
        y = x * 2.0
    assert y.creator is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_decorator():
    x = leaf(3)

    @sg.no_grad()
    def double(t):
        return t * 2.0

    assert double(x).creator is None


def test_create_graph_false_leaves_grads_without_history():
    x = leaf(3)
    F.tanh(x).sum().backward()
    assert x.grad.creator is None and not x.grad.requires_grad


def test_create_graph_true_gives_differentiable_grads():
    # d/dx sum(x^3) = 3x^2; d/dx sum(3x^2 * w) = 6 x w
    x = leaf(4)
    (gx,) = sg.grad((x ** 3).sum(), x, create_graph=True)
    assert gx.creator is not None
    w = np.random.default_rng(1).standard_normal(4)
    (ggx,) = sg.grad((gx * w).sum(), x)
    np.testing.assert_allclose(ggx.data, 6 * x.data * w)


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf(3)
    h = x * 2.0
    (gh,) = sg.grad((h ** 2).sum(), h)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    assert x.grad is None  # grad() never touches .grad


def test_grad_unused_input():
    x, z = leaf(3), leaf(3, seed=1)
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="not used"):
        sg.grad(y, [x, z], retain_graph=True)
    gx, gz = sg.grad(y, [x, z], allow_unused=True)
    assert gz is None
    np.testing.assert_allclose(gx.data, 2.0)


def test_non_scalar_backward_needs_gy():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="pass gy"):
        (x * 2.0).backward()
    y = x * 2.0
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])


def test_gy_shape_is_checked():
    x = leaf(3)
    with pytest.raises(ValueError, match=r"gy has shape \(2,\)"):
        (x * 2.0).backward(np.ones(2))


def test_mixed_float_dtypes_are_rejected():
    a = sg.Tensor(np.ones(2, np.float32), requires_grad=True)
    b = sg.Tensor(np.ones(2, np.float64))
    with pytest.raises(TypeError, match="float32 and float64"):
        a + b


def test_python_scalars_keep_the_tensor_dtype():
    a = sg.Tensor(np.ones(2, np.float32), requires_grad=True)
    y = (a * 0.1 + 1) ** 2 / 3.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert a.grad.dtype == np.float32


def test_default_dtype_is_float32():
    assert sg.Tensor([1.0, 2.0]).dtype == np.float32
    assert sg.Tensor(np.zeros(2)).dtype == np.float64


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        sg.Tensor(np.arange(3), requires_grad=True)


def test_deep_chain_does_not_recurse():
    x = leaf(2)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 1.0)


def test_third_order():
    # d^3/dx^3 sum(sin-free polynomial x^4) = 24 x
    x = leaf(3)
    (g1,) = sg.grad((x ** 4).sum(), x, create_graph=True)
    (g2,) = sg.grad(g1.sum(), x, create_graph=True)
    (g3,) = sg.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, 24 * x.data)
