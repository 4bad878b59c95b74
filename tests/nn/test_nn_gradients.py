"""Each layer through check_backward (and check_double_backward where a GAN penalty
differentiates it twice), in float64, w.r.t. its input and its parameters.

``of_params`` turns a module into a function of (x, *parameters): the drawn Tensors
stand in for the module's Parameters during the call, so the gradient checker sees
the gradients w.r.t. them.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
from scratchgan import nn
from scratchgan.random import manual_seed
from scratchgan.testing import check_backward, check_double_backward
from scratchgan.testing.cases.array import distinct


def of_params(module, names):
    owners = dict(module.named_modules())
    slots = [(owners[name.rpartition(".")[0]], name.rpartition(".")[2]) for name in names]

    def f(x, *params):
        saved = [owner._parameters[local] for owner, local in slots]
        for (owner, local), p in zip(slots, params):
            owner._parameters[local] = p
        try:
            return module(x)
        finally:
            for (owner, local), p in zip(slots, saved):
                owner._parameters[local] = p

    return f


def inputs(module, x):
    """(f, [x, *parameter arrays]) for the checkers."""
    names = [n for n, _ in module.named_parameters()]
    arrays = [x] + [p.data.copy() for _, p in module.named_parameters()]
    return of_params(module, names), arrays


def rng():
    return np.random.default_rng(0)


def check(module, x, double):
    manual_seed(0)
    f, arrays = inputs(module.to(dtype=np.float64), x)
    tensors = [sg.Tensor(a, requires_grad=True) for a in arrays]
    y = f(*tensors)
    y.backward(np.random.default_rng(1).standard_normal(y.shape))
    assert all(t.grad is not None and np.any(t.grad.data) for t in tensors), \
        "every input and parameter must reach the output"
    check_backward(f, arrays)
    if double:
        check_double_backward(f, arrays)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    check(nn.Linear(3, 4, bias=bias), rng().standard_normal((5, 3)), double=True)


def test_conv2d():
    check(nn.Conv2d(2, 3, 3, stride=2, padding=1), rng().standard_normal((2, 2, 5, 4)), double=True)


def test_conv_transpose2d():
    check(nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1, output_padding=1),
          rng().standard_normal((2, 2, 3, 3)), double=True)


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm2d, (3, 2, 2, 3))])
def test_batchnorm_training_mode(layer, shape):
    bn = layer(shape[1])
    bn.weight.data[:] = rng().uniform(0.5, 1.5, shape[1])
    bn.bias.data[:] = rng().standard_normal(shape[1])
    check(bn, rng().standard_normal(shape), double=True)


def test_batchnorm_eval_mode():
    bn = nn.BatchNorm2d(2)
    bn.running_mean[:] = [0.3, -0.2]
    bn.running_var[:] = [1.5, 0.7]
    check(bn.eval(), rng().standard_normal((2, 2, 3, 3)), double=False)


@pytest.mark.parametrize("layer", [nn.LeakyReLU(0.2), nn.ReLU(), nn.Tanh(), nn.Sigmoid(),
                                   nn.Flatten(), nn.Unflatten(1, (2, 3))])
def test_parameter_free_layers(layer):
    x = rng().uniform(0.1, 1, (4, 6)) * rng().choice([-1, 1], (4, 6))  # away from the kink at 0
    check(layer, x, double=False)


def test_embedding_gradient_wrt_its_table():
    emb = nn.Embedding(4, 3).to(dtype=np.float64)
    labels = np.array([[0, 3], [3, 3]])
    check_backward(lambda W: of_params(emb, ["weight"])(labels, W), [emb.weight.data.copy()])


def test_small_discriminator_end_to_end():
    D = nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(2, 2, 3, 1, 1),
                      nn.BatchNorm2d(2), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * 3 * 3, 1))
    check(D, rng().standard_normal((3, 1, 6, 6)), double=True)


@pytest.mark.parametrize("make", [lambda: nn.Linear(4, 3), lambda: nn.Conv2d(2, 3, 3, padding=1),
                                  lambda: nn.ConvTranspose2d(2, 3, 3, stride=2)],
                         ids=["Linear", "Conv2d", "ConvTranspose2d"])
def test_spectral_norm_in_eval_mode(make):
    """Eval mode holds u and v fixed: the map is a function of (x, weight_orig, bias),
    and the gradient flows through sigma."""
    manual_seed(0)
    layer = nn.spectral_norm(make())
    x = rng().standard_normal((2, 4) if isinstance(layer, nn.Linear) else (2, 2, 3, 3))
    check(layer.eval(), x, double=isinstance(layer, nn.Linear))


@settings(deadline=None, max_examples=15)
@given(n=st.integers(2, 5), c=st.integers(1, 3), side=st.integers(1, 3), seed=st.integers(0, 99))
def test_minibatch_std_to_second_order(n, c, side, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, side, side))
    check(nn.MinibatchStd(), x, double=True)


@settings(deadline=None, max_examples=15)
@given(n=st.integers(1, 4), width=st.integers(1, 4), units=st.integers(1, 3),
       pieces=st.integers(1, 3), seed=st.integers(0, 99))
def test_maxout_to_second_order(n, width, units, pieces, seed):
    """The pieces' pre-activations are kept apart (a shuffled ladder) so no finite
    difference changes a winner."""
    r = np.random.default_rng(seed)
    layer = nn.Maxout(width, units, pieces)
    x = r.standard_normal((n, width))
    weight = r.standard_normal((units * pieces, width)) * 0.01    # the bias decides winners
    layer.linear.weight.data[:] = weight
    layer.linear.bias.data[:] = distinct(r, (units * pieces,), gap=0.5)
    f, arrays = inputs(layer.to(dtype=np.float64), x)
    check_backward(f, arrays)
    check_double_backward(f, arrays)
