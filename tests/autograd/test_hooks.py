"""Hooks: Tensor.register_hook, retain_grad, module forward and parameter-gradient hooks,
removable handles, grad(materialize_grads=True)."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import nn


def leaf(*shape, seed=0):
    return sg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_tensor_hook_observes_the_complete_gradient_once():
    x = leaf(3)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    (h * h + h).sum().backward()        # two consumers: the hook sees the sum, once
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * h.data + 1)
    np.testing.assert_allclose(x.grad.data, 2 * (2 * h.data + 1))


def test_tensor_hook_replaces_the_gradient_flowing_upstream():
    x = leaf(3)
    h = F.tanh(x)
    h.register_hook(lambda g: g * 0.0 + 1.0)
    (h * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, 1 - np.tanh(x.data) ** 2)


def test_leaf_hook_changes_what_is_accumulated_and_what_grad_returns():
    x = leaf(3)
    x.register_hook(lambda g: g * 3.0)
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 6.0))
    (gx,) = sg.grad((x * 2.0).sum(), x)
    np.testing.assert_allclose(gx.data, np.full(3, 6.0))


def test_hooks_run_in_registration_order_each_on_the_previous_result():
    x = leaf(2)
    h = x * 1.0
    order = []
    h.register_hook(lambda g: (order.append("a"), g + 1.0)[1])
    h.register_hook(lambda g: (order.append("b"), g * 10.0)[1])
    h.retain_grad()
    h.sum().backward()
    assert order == ["a", "b"]
    np.testing.assert_allclose(h.grad.data, np.full(2, 20.0))   # retain_grad sees the result
    np.testing.assert_allclose(x.grad.data, np.full(2, 20.0))


def test_removed_hook_no_longer_runs_and_the_tensor_is_back_on_the_fast_path():
    x = leaf(2)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    keep = x.register_hook(lambda g: g * 2.0)
    handle.remove()
    handle.remove()                       # idempotent
    (x * 1.0).sum().backward()
    assert calls == []
    np.testing.assert_allclose(x.grad.data, np.full(2, 2.0))
    keep.remove()
    assert "_grad_hooks" not in x.__dict__
    with x.register_hook(lambda g: calls.append(1)):
        (x * 1.0).sum().backward()
    (x * 1.0).sum().backward()
    assert calls == [1]


def test_hook_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sg.Tensor([1.0]).register_hook(lambda g: None)


def test_hook_returning_a_wrong_shape_is_named():
    x = leaf(3)
    x.register_hook(lambda g: sg.Tensor(np.zeros(2)))
    with pytest.raises(RuntimeError, match="shape"):
        (x * 1.0).sum().backward()


def test_hooks_under_create_graph_see_a_differentiable_gradient_once_per_backward():
    # penalty = sum((d/dx sum(x^3))^2) = sum(9 x^4); a hook on h = x^3 doubles its gradient
    x = leaf(3)
    h = x ** 3
    calls = []

    def double(g):
        calls.append(g.creator is not None or g.requires_grad)
        return g * 2.0
    h.register_hook(double)
    (gx,) = sg.grad(h.sum(), x, create_graph=True)
    assert len(calls) == 1
    np.testing.assert_allclose(gx.data, 6 * x.data ** 2)
    (gx * gx).sum().backward()            # does not pass through h's gradient again
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.data, 2 * 6 * x.data ** 2 * 12 * x.data)


def test_hook_on_an_intermediate_target_of_grad_changes_upstream_targets_too():
    x = leaf(3)
    h = x * 2.0
    h.register_hook(lambda g: g * 10.0)
    gh, gx = sg.grad((h * 1.0).sum(), [h, x])
    np.testing.assert_allclose(gh.data, np.full(3, 10.0))
    np.testing.assert_allclose(gx.data, np.full(3, 20.0))


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf(3)
    h = F.exp(x)
    h.retain_grad()
    (h * 3.0).sum().backward()
    np.testing.assert_allclose(h.grad.data, np.full(3, 3.0))


def test_materialize_grads_returns_zeros_for_unreached_inputs():
    # a gradient penalty does not depend on the critic's last bias
    rng = np.random.default_rng(0)
    W1 = sg.Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    w2 = sg.Tensor(rng.standard_normal((4, 1)), requires_grad=True)
    b2 = sg.Tensor(np.zeros(1), requires_grad=True)
    x = sg.Tensor(rng.standard_normal((5, 2)), requires_grad=True)
    out = F.leaky_relu(x @ W1) @ w2 + b2
    (gx,) = sg.grad(out.sum(), x, create_graph=True)
    penalty = (gx ** 2).sum()
    with pytest.raises(RuntimeError, match="materialize_grads"):
        sg.grad(penalty, [W1, w2, b2], retain_graph=True)
    gW1, gw2, gb2 = sg.grad(penalty, [W1, w2, b2], materialize_grads=True)
    assert gb2.shape == (1,) and gb2.dtype == b2.dtype and not gb2.data.any()
    assert gW1.data.any() and gw2.data.any()


def test_module_forward_hook_observes_and_replaces_the_output():
    sg_layer = nn.Linear(3, 2)
    x = sg.Tensor(np.ones((4, 3), dtype=np.float32))
    seen = []
    h1 = sg_layer.register_forward_hook(lambda m, args, out: seen.append((m, out.shape)))
    h2 = sg_layer.register_forward_hook(lambda m, args, out: out * 0.0)
    y = sg_layer(x)
    assert seen == [(sg_layer, (4, 2))] and not y.data.any()
    h2.remove()
    assert sg_layer(x).data.any()
    h1.remove()
    sg_layer(x)
    assert len(seen) == 2


def test_forward_hook_on_a_batchnorm_in_sequential_sees_the_unfused_output():
    seq = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    seen = []
    seq[1].register_forward_hook(lambda m, a, out: seen.append(out.data.copy()))
    x = sg.Tensor(np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
    y = seq(x)
    assert len(seen) == 1 and (seen[0] < 0).any()           # before the ReLU
    np.testing.assert_allclose(y.data, np.maximum(seen[0], 0), atol=1e-6)


def test_parameter_grad_hook_observes_every_parameter_and_can_scale_it():
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    x = sg.Tensor(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32))
    model(x).sum().backward()
    reference = {n: p.grad.data.copy() for n, p in model.named_parameters()}
    model.zero_grad()
    seen = []

    def halve(module, name, g):
        seen.append(name)
        return g * 0.5
    handle = model.register_parameter_grad_hook(halve)
    model(x).sum().backward()
    assert sorted(seen) == sorted(reference)
    for n, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, 0.5 * reference[n], rtol=1e-6)
    handle.remove()
    model.zero_grad()
    model(x).sum().backward()
    assert len(seen) == len(reference)
    for n, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, reference[n], rtol=1e-6)
