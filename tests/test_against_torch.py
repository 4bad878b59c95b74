"""Cross-check against PyTorch's autograd, when PyTorch is installed (it is not a
dependency: CI skips this file visibly). First and second order, float64, on
random graphs that chain conv2d, tanh, conv_transpose2d, batch_norm, leaky_relu,
sigmoid, linear, softplus, log_sigmoid and bce_with_logits."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def conv_graph(lib, x, W1, b, W2, gamma, beta, stride, padding, output_padding):
    if lib == "ours":
        h = F.tanh(F.conv2d(x, W1, b, stride=stride, padding=padding))
        h = F.conv_transpose2d(h, W2, stride=stride, padding=padding, output_padding=output_padding)
        y = F.leaky_relu(F.batch_norm(h, gamma, beta, training=True), 0.1)
        return F.sum(y * y * F.sigmoid(y))
    h = torch.tanh(TF.conv2d(x, W1, b, stride=stride, padding=padding))
    h = TF.conv_transpose2d(h, W2, stride=stride, padding=padding, output_padding=output_padding)
    y = TF.leaky_relu(TF.batch_norm(h, None, None, gamma, beta, training=True), 0.1)
    return (y * y * torch.sigmoid(y)).sum()


def penalty_graph(lib, x, W, b, t):
    if lib == "ours":
        out = F.bce_with_logits(F.linear(F.softplus(x), W, b), t) + F.mean(F.log_sigmoid(x) ** 2)
        return out
    return (TF.binary_cross_entropy_with_logits(TF.linear(TF.softplus(x), W, b), torch.tensor(t))
            + (TF.logsigmoid(x) ** 2).mean())


def first_and_second(lib, graph, arrays, **kw):
    """grads of graph, and grads of sum_i ||grad_i||^2 (the penalty pattern)."""
    if lib == "ours":
        xs = [sg.Tensor(a, requires_grad=True) for a in arrays]
        gs = sg.grad(graph(lib, *xs, **kw), xs, create_graph=True)
        second = sg.grad(sum(F.sum(g * g) for g in gs), xs)
        return [g.numpy() for g in gs], [g.numpy() for g in second]
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    gs = torch.autograd.grad(graph(lib, *xs, **kw), xs, create_graph=True)
    second = torch.autograd.grad(sum((g * g).sum() for g in gs), xs)
    return [g.detach().numpy() for g in gs], [g.numpy() for g in second]


def assert_same(ours, theirs):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("seed", range(12))
def test_conv_batchnorm_graph_matches_torch(seed):
    rng = np.random.default_rng(seed)
    N, C, OC = rng.integers(1, 4, size=3)
    KH, KW = rng.integers(1, 4, size=2)
    stride = tuple(int(s) for s in rng.integers(1, 3, size=2))
    padding = (int(rng.integers(0, KH)), int(rng.integers(0, KW)))
    output_padding = (int(rng.integers(0, stride[0])), int(rng.integers(0, stride[1])))
    H, W = max(KH, 3) + int(rng.integers(0, 4)), max(KW, 3) + int(rng.integers(0, 4))
    N = max(N, 2)
    arrays = [rng.standard_normal((N, C, H, W)), rng.standard_normal((OC, C, KH, KW)),
              rng.standard_normal(OC), rng.standard_normal((OC, C, KH, KW)),
              rng.uniform(0.5, 1.5, C), rng.standard_normal(C)]
    kw = dict(stride=stride, padding=padding, output_padding=output_padding)
    ours, theirs = (first_and_second(lib, conv_graph, arrays, **kw) for lib in ("ours", "torch"))
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])


def test_gradient_penalty_through_losses_matches_torch():
    rng = np.random.default_rng(0)
    t = rng.uniform(size=(5, 3))
    arrays = [rng.standard_normal((5, 7)), rng.standard_normal((3, 7)), rng.standard_normal(3)]
    ours, theirs = (first_and_second(lib, penalty_graph, arrays, t=t) for lib in ("ours", "torch"))
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])
