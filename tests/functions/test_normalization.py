import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.testing import OpTest, all_cases

CASES = all_cases()


def per_channel(x):
    """x (N, C, ...) as C rows of its values, by explicit loops over channels."""
    return [x[:, c].ravel() for c in range(x.shape[1])]


def naive_bn(x, gamma, beta, mean, var, eps=1e-5):
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        y[:, c] = gamma[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + beta[c]
    return y


class TestBatchNorm(OpTest):
    case = CASES["batch_norm"]

    def expected(self, x, gamma, beta):
        rows = per_channel(x)
        mean = [r.sum() / r.size for r in rows]
        var = [((r - m) ** 2).sum() / r.size for r, m in zip(rows, mean)]
        return naive_bn(x, gamma, beta, mean, var)


class TestBatchNormEval(OpTest):
    case = CASES["batch_norm_eval"]

    def expected(self, x, gamma, beta, running_mean, running_var):
        return naive_bn(x, gamma, beta, running_mean, running_var)


class TestBatchNormGrad(OpTest):
    """The first-order gradients as an op; its expectation is finite differences of
    the training-mode forward, so this also checks the kernel's backward formula."""
    case = CASES["batch_norm_grad"]

    def expected(self, x, gamma, gy):
        beta = np.zeros_like(gamma)

        def f(x_, g_, b_):
            return (TestBatchNorm().expected(x_, g_, b_) * gy).sum()

        grads = []
        for arr, which in ((x, 0), (gamma, 1), (beta, 2)):
            g = np.zeros_like(arr)
            for i in np.ndindex(*arr.shape):
                args = [x.copy(), gamma.copy(), beta.copy()]
                args[which][i] += 1e-6
                plus = f(*args)
                args[which][i] -= 2e-6
                g[i] = (plus - f(*args)) / 2e-6
            grads.append(g)
        return grads

    forward_rtol = {np.float32: 2e-3, np.float64: 1e-6}


def naive_leaky(z, slope):
    out = z.copy()
    for i in np.ndindex(*z.shape):
        if z[i] <= 0:
            out[i] = slope * z[i]
    return out


class TestBatchNormLeakyReLU(OpTest):
    """The fused op is batch norm then leaky ReLU, each written naively."""
    case = CASES["batch_norm_leaky_relu"]

    def expected(self, x, gamma, beta, slope):
        return naive_leaky(TestBatchNorm().expected(x, gamma, beta), slope)


class TestBatchNormLeakyReLUGrad(OpTest):
    """Its gradient op: batch_norm_grad of the masked gy (the mask from y's sign)."""
    case = CASES["batch_norm_leaky_relu_grad"]

    def expected(self, x, gamma, y, gy, slope):
        masked = np.where(y > 0, gy, slope * gy)
        return TestBatchNormGrad().expected(x, gamma, masked)

    forward_rtol = {np.float32: 2e-3, np.float64: 1e-6}


@pytest.mark.parametrize("slope", [0.0, 0.2])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_fused_batch_norm_leaky_relu_equals_the_two_ops(slope, backend):
    """Forward, running statistics and first and second derivatives of the fused op equal
    those of batch_norm followed by leaky_relu (float64, both kernel backends)."""
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((4, 3, 5, 5)) + 0.5
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    gy, v = rng.standard_normal(x0.shape), rng.standard_normal(x0.shape)
    results = []
    with sg.using_config("cpu_kernels", backend):
        for fused in (True, False):
            x = sg.Tensor(x0.copy(), requires_grad=True)
            g = sg.Tensor(gamma.copy(), requires_grad=True)
            rm, rv = np.zeros(3), np.ones(3)
            if fused:
                y = F.batch_norm(x, g, beta, rm, rv, training=True, slope=slope)
            else:
                y = F.leaky_relu(F.batch_norm(x, g, beta, rm, rv, training=True), slope)
            gx, gg = sg.grad([y], [x, g], [gy], create_graph=True)
            ggx = sg.grad([F.sum(gx * v) + F.sum(gg)], [x])[0]
            results.append([y.data, rm, rv, gx.data, gg.data, ggx.data])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_batch_norm_grad_outputs_match_finite_differences():
    rng = np.random.default_rng(0)
    x, gamma, gy = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(3), rng.standard_normal((4, 3, 2, 2))
    gx, ggamma, gbeta = F.BatchNormGrad(1e-5)(x, gamma, gy)
    want = TestBatchNormGrad().expected(x, gamma, gy)
    for got, w in zip((gx, ggamma, gbeta), want):
        np.testing.assert_allclose(got.data, w, rtol=1e-6, atol=1e-7)


def test_running_statistics_update_with_unbiased_variance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 2, 2))
    rm, rv = np.zeros(3), np.ones(3)
    F.batch_norm(sg.Tensor(x), np.ones(3), np.zeros(3), rm, rv, training=True, momentum=0.1)
    rows = per_channel(x)
    np.testing.assert_allclose(rm, [0.1 * r.mean() for r in rows])
    np.testing.assert_allclose(rv, [0.9 + 0.1 * r.var(ddof=1) for r in rows])


def test_eval_mode_follows_config_and_uses_running_statistics():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2))
    rm, rv = np.array([0.5, -0.5]), np.array([2.0, 0.5])
    with sg.using_config("train", False):
        y = F.batch_norm(sg.Tensor(x), np.ones(2), np.zeros(2), rm, rv)
    np.testing.assert_allclose(y.data, (x - rm) / np.sqrt(rv + 1e-5))


def test_errors():
    x = sg.Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"gamma has shape \(2,\), expected \(3,\)"):
        F.batch_norm(x, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(sg.Tensor(np.zeros((1, 3))), np.ones(3), np.zeros(3), training=True)
    with pytest.raises(ValueError, match="needs running_mean"):
        F.batch_norm(x, np.ones(3), np.zeros(3), training=False)
