"""In-place changes between forward and backward: counted by Tensor._version, caught by
the Functions whose backward reads the changed Tensor. And Tensor(array) copies."""
import re

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import nn, optim
from scratchgan.autograd import grad


def changed(fn, which, then, now):
    return re.escape(f"{fn}: its {which}, needed for the backward, was changed in place after "
                     f"forward (version {then} -> {now})")


def test_assigning_data_bumps_the_version():
    t = sg.Tensor(np.zeros(3))
    assert t._version == 0
    t.data = np.ones(3)
    t.data += 1.0                      # an assignment too: t.data = t.data.__iadd__(1)
    assert t._version == 2 and t.data.tolist() == [2.0, 2.0, 2.0]


def test_a_changed_input_makes_backward_refuse():
    x = sg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w = sg.Tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True, name="w")
    y = F.sum(x * w)
    w.data = w.data * 2
    with pytest.raises(RuntimeError, match=changed("Mul", "input 1 ('w', shape (3,))", 0, 1)):
        y.backward()


def test_a_changed_output_makes_backward_refuse():
    x = sg.Tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = F.exp(x)
    loss = F.sum(y)
    y.data = np.zeros(2)
    with pytest.raises(RuntimeError, match=changed("Exp", "output 0", 0, 1)):
        loss.backward()


def test_ops_that_read_only_shapes_do_not_mind():
    x = sg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = sg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = F.sum(F.reshape(x + b, (2, 1)))
    b.data = b.data + 10.0
    y.backward()                      # add's gradient does not depend on its inputs
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1),
                                  lambda ps: optim.Adam(ps, lr=0.1)])
def test_an_optimizer_step_before_backward_is_caught(make):
    layer = nn.Linear(3, 2)
    opt = make(layer.parameters())
    loss = F.sum(layer(np.ones((4, 3), np.float32)) ** 2)
    loss.backward(retain_graph=True)
    before = layer.weight._version
    opt.step()
    assert layer.weight._version > before
    with pytest.raises(RuntimeError, match=r"Linear: its input 1 \(shape \(2, 3\)\), needed "
                                           r"for the backward, was changed in place"):
        loss.backward()


def test_init_and_load_state_dict_bump_the_parameters():
    layer = nn.Linear(2, 2)            # its initialisation was a fill too
    v = layer.weight._version
    y = F.sum(layer(np.ones((1, 2), np.float32)))
    nn.init.normal_(layer.weight)
    with pytest.raises(RuntimeError, match=changed("Linear", "input 1 (shape (2, 2))", v, v + 1)):
        y.backward()
    b = layer.bias._version
    layer.load_state_dict(layer.state_dict())
    assert (layer.weight._version, layer.bias._version) == (v + 2, b + 1)


def test_double_backward_through_a_changed_weight_is_caught():
    x = sg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    w = sg.Tensor(np.array([0.5, 3.0]), requires_grad=True)
    (g,) = grad(F.sum(x * x * w), x, create_graph=True)      # g = 2 x w, built from w
    penalty = F.sum(g * g)
    w.data = w.data + 1.0
    with pytest.raises(RuntimeError, match=r"Mul: its input \d \(shape \(2,\)\), needed for "
                                           r"the backward, was changed in place"):
        penalty.backward()


def test_double_backward_without_changes_is_unaffected():
    x = sg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    w = sg.Tensor(np.array([0.5, 3.0]), requires_grad=True)
    (g,) = grad(F.sum(x * x * w), x, create_graph=True)
    F.sum(g * g).backward()                                 # sum 4 x^2 w^2
    np.testing.assert_allclose(x.grad.data, 8 * x.data * w.data ** 2)
    np.testing.assert_allclose(w.grad.data, 8 * x.data ** 2 * w.data)


def test_the_constructor_copies_the_array():
    a = np.array([1.0, 2.0, 3.0])
    x = sg.Tensor(a, requires_grad=True)
    y = F.sum(x * x)
    a[:] = 10.0                        # the caller's array, edited after forward
    y.backward()
    np.testing.assert_array_equal(x.data, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0, 6.0])
    assert not np.shares_memory(sg.Tensor(x).data, x.data)
    assert not np.shares_memory(sg.Tensor(a, dtype=np.float32).data, a)


def test_arrays_the_library_makes_are_not_copied():
    x = sg.Tensor(np.arange(6.0), requires_grad=True)
    assert np.shares_memory(x.detach().data, x.data)
    y = F.reshape(x, (2, 3))           # a view, wrapped as it is
    assert np.shares_memory(y.data, x.data)
