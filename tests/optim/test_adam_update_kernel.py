"""The reference adam_update kernel against the formula, element by element, in
float32 and float64."""
import math

import numpy as np
import pytest

from scratchgan_kernels.reference.optim import adam_update


def naive_adam(p, g, m, v, lr, beta1, beta2, eps, step, weight_decay):
    """One Adam step, scalar by scalar, in Python floats."""
    p, m, v = p.astype(float).ravel(), m.astype(float).ravel(), v.astype(float).ravel()
    for i, gi in enumerate(g.astype(float).ravel()):
        gi = gi + weight_decay * p[i]
        m[i] = beta1 * m[i] + (1 - beta1) * gi
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
        m_hat = m[i] / (1 - beta1 ** step)
        v_hat = v[i] / (1 - beta2 ** step)
        p[i] = p[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p, m, v


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 1, 3, 3)])
@pytest.mark.parametrize("step, weight_decay", [(1, 0.0), (5, 0.0), (3, 0.05)])
def test_reference_adam_update_matches_the_formula(dtype, rtol, shape, step, weight_decay):
    rng = np.random.default_rng(step)
    p = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    m = (rng.standard_normal(shape) * 0.1).astype(dtype)
    v = rng.uniform(0, 0.1, shape).astype(dtype)
    args = (1e-3, 0.5, 0.999, 1e-8, step, weight_decay)
    want = naive_adam(p, g, m, v, *args)
    p_id, m_id, v_id = id(p), id(m), id(v)
    assert adam_update(p, g, m, v, *args) is None
    assert (id(p), id(m), id(v)) == (p_id, m_id, v_id)
    for name, got, w in zip("pmv", (p, m, v), want):
        assert got.dtype == dtype
        np.testing.assert_allclose(got.ravel(), w, rtol=rtol, atol=1e-30, err_msg=name)


def test_reference_adam_update_errors():
    p = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"grad is float64\(3,\), param is float32\(3,\)"):
        adam_update(p, np.zeros(3), np.zeros(3, np.float32), np.zeros(3, np.float32),
                    1e-3, 0.9, 0.999, 1e-8, 1)
    with pytest.raises(ValueError, match="step counts from 1"):
        adam_update(p, p.copy(), p.copy(), p.copy(), 1e-3, 0.9, 0.999, 1e-8, 0)
