"""The reference leaky ReLU and batch-norm kernels against naive loops."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchgan_kernels as K

DTYPES = [np.float32, np.float64]
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)
bn_shapes = st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda nc: st.one_of(st.just(nc), st.tuples(st.integers(1, 3), st.integers(1, 3)).map(
        lambda hw: nc + hw))).filter(lambda s: s[0] * int(np.prod(s[2:])) >= 2)


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=shapes, seed=st.integers(0, 2**31), slope=st.sampled_from([0.0, 0.01, 0.2]))
def test_leaky_relu(dtype, shape, seed, slope):
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    y = K.get("leaky_relu")(x, slope)
    gx = K.get("leaky_relu_grad")(x, gy, slope)
    assert y.dtype == dtype and gx.dtype == dtype
    for i in np.ndindex(*shape):
        factor = 1.0 if x[i] > 0 else slope
        assert y[i] == pytest.approx(factor * x[i], rel=1e-6)
        assert gx[i] == pytest.approx(factor * gy[i], rel=1e-6)


def naive_channel_stats(x):
    C = x.shape[1]
    values = [[x[i] for i in np.ndindex(*x.shape) if i[1] == c] for c in range(C)]
    mean = np.array([sum(v) / len(v) for v in values])
    var = np.array([sum((u - m) ** 2 for u in v) / len(v) for v, m in zip(values, mean)])
    return mean, var, len(values[0])


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=bn_shapes, seed=st.integers(0, 2**31))
def test_batch_norm_forward_and_backward(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    gamma, beta = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    eps = 1e-5
    mean, var, m = naive_channel_stats(x.astype(np.float64))
    y, bm, bv = K.get("batch_norm_forward")(x, gamma, beta, eps)
    gx, ggamma, gbeta = K.get("batch_norm_backward")(x, gamma, gy, eps)
    assert {a.dtype for a in (y, bm, bv, gx, ggamma, gbeta)} == {np.dtype(dtype)}
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(bm, mean, rtol=tol, atol=tol)
    np.testing.assert_allclose(bv, var, rtol=tol, atol=tol)
    want_ggamma, want_gbeta = np.zeros(C), np.zeros(C)
    for i in np.ndindex(*shape):
        c = i[1]
        xhat = (x[i] - mean[c]) / np.sqrt(var[c] + eps)
        assert y[i] == pytest.approx(gamma[c] * xhat + beta[c], rel=tol, abs=tol)
        want_ggamma[c] += gy[i] * xhat
        want_gbeta[c] += gy[i]
    np.testing.assert_allclose(ggamma, want_ggamma, rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(gbeta, want_gbeta, rtol=tol * 10, atol=tol * 10)
    # gx by the chain rule through mean and variance, written out element by element
    for i in np.ndindex(*shape):
        c = i[1]
        r = 1 / np.sqrt(var[c] + eps)
        xhat = (x[i] - mean[c]) * r
        want = gamma[c] * r * (gy[i] - want_gbeta[c] / m - xhat * want_ggamma[c] / m)
        assert gx[i] == pytest.approx(want, rel=tol * 10, abs=tol * 10)


def test_batch_norm_kernel_errors():
    with pytest.raises(ValueError, match=r"gamma has shape \(2,\), expected \(3,\)"):
        K.get("batch_norm_forward")(np.zeros((2, 3)), np.ones(2), np.zeros(2), 1e-5)
    with pytest.raises(ValueError, match=r"\(N, C, \.\.\.\)"):
        K.get("batch_norm_forward")(np.zeros(3), np.ones(3), np.zeros(3), 1e-5)
