"""End to end: the WGAN-GP penalty through a small critic, against finite differences.

The critic chains conv2d, leaky_relu, conv_transpose2d, batch_norm and linear, so
the penalty's gradient w.r.t. the weights runs the double backward of every one.
"""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.testing import check_backward


def critic(x, W1, b1, W2, gamma, beta, W3, b3):
    h = F.leaky_relu(F.conv2d(x, W1, b1, stride=2, padding=1), 0.2)          # (N, 4, 3, 3)
    h = F.conv_transpose2d(h, W2, stride=2, padding=1, output_padding=1)      # (N, 2, 6, 6)
    h = F.leaky_relu(F.batch_norm(h, gamma, beta, training=True), 0.2)
    return F.linear(F.flatten(h), W3, b3)                                      # (N, 1)


def gradient_penalty(x_hat, *weights):
    """mean over the batch of (||grad_x D(x_hat)||_2 - 1)^2, eps inside the root."""
    (g,) = sg.grad(critic(x_hat, *weights).sum(), x_hat, create_graph=True)
    norm = F.sqrt(F.sum(g * g, axis=(1, 2, 3)) + 1e-12)
    return F.mean((norm - 1.0) ** 2)


def weights(rng):
    return [rng.standard_normal((4, 1, 3, 3)) * 0.5, rng.standard_normal(4) * 0.1,
            rng.standard_normal((4, 2, 3, 3)) * 0.5, rng.uniform(0.5, 1.5, 2),
            rng.standard_normal(2) * 0.1, rng.standard_normal((1, 72)) * 0.3,
            rng.standard_normal(1) * 0.1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wgan_gp_penalty_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((3, 1, 6, 6)), rng.standard_normal((3, 1, 6, 6))
    eps = rng.uniform(size=(3, 1, 1, 1))
    x_hat = eps * real + (1 - eps) * fake

    def penalty(*ws):
        return gradient_penalty(sg.Tensor(x_hat, requires_grad=True), *ws)

    check_backward(penalty, weights(rng), atol=1e-6, rtol=1e-5, seed=seed)


def test_wgan_gp_penalty_gradient_elementwise_for_the_conv_weights():
    rng = np.random.default_rng(7)
    x_hat = rng.standard_normal((2, 1, 6, 6))
    ws = weights(rng)
    others = ws[1:]

    def penalty(W1):
        return gradient_penalty(sg.Tensor(x_hat, requires_grad=True), W1, *others)

    check_backward(penalty, [ws[0]], mode="full", atol=1e-6, rtol=1e-5)


def test_penalty_is_finite_when_the_gradient_vanishes():
    # with eps inside the square root, a zero gradient gives a finite penalty gradient
    x = sg.Tensor(np.zeros((2, 3)), requires_grad=True)
    w = sg.Tensor(np.zeros((1, 3)), requires_grad=True)
    (g,) = sg.grad(F.linear(x, w).sum(), x, create_graph=True)
    gp = F.mean((F.sqrt(F.sum(g * g, axis=1) + 1e-12) - 1.0) ** 2)
    gp.backward()
    assert np.all(np.isfinite(w.grad.data))
