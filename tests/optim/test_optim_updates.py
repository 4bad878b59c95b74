"""SGD, Adam and RMSprop: three steps against the update rules written out here,
parameter groups, skipped parameters and bad arguments."""
import math

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn, optim
from scratchgan.config import using_config
from scratchgan.testing.optest import cpu_backends

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.3, 0.2, 1.0]), np.array([1.5, 0.0, -0.7])]
START = np.array([1.0, -2.0, 0.5])


def run(make_optimizer, dtype=np.float64):
    """The parameter's values after each of three steps with the GRADS."""
    p = nn.Parameter(START.astype(dtype))
    opt = make_optimizer([p])
    values = []
    for g in GRADS:
        p.grad = sg.Tensor(g.astype(dtype))
        opt.step()
        values.append(p.data.copy())
    return values


def sgd_by_hand(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    p, b, out = START.copy(), None, []
    for g in GRADS:
        g = g + weight_decay * p
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.3},
                                    {"momentum": 0.8, "nesterov": True},
                                    {"momentum": 0.5, "weight_decay": 0.1},
                                    {"weight_decay": 0.2}])
def test_sgd(kwargs):
    got = run(lambda ps: optim.SGD(ps, lr=0.1, **kwargs))
    for step, (a, b) in enumerate(zip(got, sgd_by_hand(0.1, **kwargs))):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=f"step {step + 1}")


def adam_by_hand(lr, beta1, beta2, eps, weight_decay):
    p, m, v, out = START.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_on_every_cpu_backend(dtype, rtol, weight_decay):
    want = adam_by_hand(0.01, 0.5, 0.9, 1e-6, weight_decay)
    for backend in cpu_backends():
        with using_config("cpu_kernels", backend):
            got = run(lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.9), eps=1e-6,
                                            weight_decay=weight_decay), dtype)
        for step, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=rtol, err_msg=f"{backend}, step {step + 1}")


def test_adam_state():
    p = nn.Parameter(START.copy())
    opt = optim.Adam([p])
    p.grad = sg.Tensor(GRADS[0])
    opt.step()
    opt.step()
    state = opt.state[p]
    assert state["step"] == 2 and set(state) == {"step", "exp_avg", "exp_avg_sq"}


def rmsprop_by_hand(lr, alpha, eps, momentum=0.0, weight_decay=0.0):
    p, s, b, out = START.copy(), np.zeros(3), np.zeros(3), []
    for g in GRADS:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        d = g / (np.sqrt(s) + eps)
        if momentum:
            b = momentum * b + d
            d = b
        p = p - lr * d
        out.append(p)
    return out


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"weight_decay": 0.1, "momentum": 0.5}])
def test_rmsprop(kwargs):
    got = run(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-6, **kwargs))
    for step, (a, b) in enumerate(zip(got, rmsprop_by_hand(0.01, 0.9, 1e-6, **kwargs))):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=f"step {step + 1}")


def test_the_first_rmsprop_step_by_its_closed_form():
    (p,) = run(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.99, eps=0.0))[:1]
    g = GRADS[0]
    np.testing.assert_allclose(p, START - 0.01 * g / (math.sqrt(0.01) * np.abs(g)), rtol=1e-12)


def test_updates_are_in_place_and_skip_parameters_without_grad():
    model = nn.Linear(2, 1)
    weight, data = model.weight, model.weight.data
    bias_before = model.bias.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.weight.grad = sg.Tensor(np.ones((1, 2), np.float32))
    opt.step()
    assert model.weight is weight and model.weight.data is data
    np.testing.assert_array_equal(model.bias.data, bias_before)
    assert opt.state.get(model.bias) is None
    opt.zero_grad()
    assert model.weight.grad is None


def test_param_groups_have_their_own_hyperparameters():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    a.grad, b.grad = sg.Tensor(np.ones(2)), sg.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.data, -0.1)
    np.testing.assert_allclose(b.data, -1.0)
    opt.param_groups[0]["lr"] = 0.5  # the user (or a scheduler) changes lr
    opt.step()
    np.testing.assert_allclose(a.data, -0.6)
    assert "group 1: 1 parameters, lr=1.0" in repr(opt)


def test_a_trained_model_gets_better():
    """A few hundred Adam steps fit y = 2x - 1 with a Linear layer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1)).astype(np.float32)
    y = 2 * x - 1
    model = nn.Linear(1, 1)
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        loss = sg.functions.mse(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3


def test_bad_arguments():
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam(nn.ReLU().parameters())
    with pytest.raises(ValueError, match="not a trainable leaf"):
        optim.Adam([sg.Tensor(np.zeros(2))])
    with pytest.raises(ValueError, match="not a trainable leaf"):
        optim.Adam([p * 2.0])
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray"):
        optim.Adam([p, np.zeros(2)])
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.Adam(p)
    with pytest.raises(ValueError, match="appears twice"):
        optim.Adam([p, p])
    with pytest.raises(ValueError, match="has no hyper-parameter momentum"):
        optim.Adam([{"params": [p], "momentum": 0.9}])
    with pytest.raises(ValueError, match="lr must be a number >= 0, got -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match=r"betas must be a pair of numbers in \[0, 1\)"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="betas must be"):
        optim.Adam([p], betas=0.9)
    with pytest.raises(ValueError, match="nesterov needs momentum > 0 and dampening = 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="alpha must be a number in"):
        optim.RMSprop([p], alpha=1.5)
    opt = optim.SGD([p], lr=0.1)
    p.grad = sg.Tensor(np.zeros(2, np.float32))
    with pytest.raises(ValueError, match=r"a parameter is float64\(2,\) but its grad is "
                                         r"float32\(2,\)"):
        opt.step()
