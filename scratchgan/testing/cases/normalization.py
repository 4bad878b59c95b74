"""Cases for batch norm: training mode, eval mode and the gradient op itself, alone and
fused with a leaky ReLU (whose inputs stay at least 0.1 away from the kink)."""
from __future__ import annotations

import numpy as np

from scratchgan import functions as F
from scratchgan.testing.catalog import OpCase, away_from_zero, positive, register

_SLOPES = (0.2, 0.0, 0.5)


def _bn_inputs(draw, rng):
    C = draw(1, 3)
    spatial = () if draw(0, 1) else (draw(1, 3), draw(1, 3))
    N = draw(2, 4) if not spatial else draw(1, 3)
    if not spatial or N * spatial[0] * spatial[1] < 2:
        N = max(N, 2)
    x = 2 * rng.standard_normal((N, C) + spatial) + rng.standard_normal(C).reshape(
        (1, C) + (1,) * len(spatial))
    return x, rng.uniform(0.5, 1.5, C) * rng.choice((-1, 1), C), rng.standard_normal(C)


def _make_train(draw, rng):
    return _bn_inputs(draw, rng), {}


def _make_eval(draw, rng):
    x, gamma, beta = _bn_inputs(draw, rng)
    C = x.shape[1]
    return (x, gamma, beta), {"running_mean": rng.standard_normal(C),
                              "running_var": positive(rng, (C,))}


def _make_grad(draw, rng):
    x, gamma, _ = _bn_inputs(draw, rng)
    return (x, gamma, rng.standard_normal(x.shape)), {}


def _make_fused(draw, rng):
    """Inputs whose batch-norm output z keeps |z| >= 0.1 (the activation's kink), drawn
    again until it does."""
    slope = _SLOPES[draw(0, len(_SLOPES) - 1)]
    while True:
        x, gamma, beta = _bn_inputs(draw, rng)
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
        if np.abs(gamma.reshape(bshape) * xhat + beta.reshape(bshape)).min() >= 0.1:
            return (x, gamma, beta), {"slope": slope}


def _make_fused_grad(draw, rng):
    x, gamma, _ = _bn_inputs(draw, rng)
    return ((x, gamma, away_from_zero(rng, x.shape), rng.standard_normal(x.shape)),
            {"slope": _SLOPES[draw(0, len(_SLOPES) - 1)]})


register(OpCase("batch_norm", (F.BatchNorm,), _make_train,
                lambda x, g, b: F.batch_norm(x, g, b, training=True)))
register(OpCase("batch_norm_eval", (), _make_eval,
                lambda x, g, b, running_mean, running_var: F.batch_norm(
                    x, g, b, running_mean, running_var, training=False)))
register(OpCase("batch_norm_grad", (F.BatchNormGrad,), _make_grad,
                lambda x, gamma, gy: F.BatchNormGrad(1e-5)(x, gamma, gy)))
register(OpCase("batch_norm_leaky_relu", (F.BatchNormLeakyReLU,), _make_fused,
                lambda x, g, b, slope: F.batch_norm(x, g, b, training=True, slope=slope)))
register(OpCase("batch_norm_leaky_relu_grad", (F.BatchNormLeakyReLUGrad,), _make_fused_grad,
                lambda x, gamma, y, gy, slope: F.BatchNormLeakyReLUGrad(1e-5, slope)(
                    x, gamma, y, gy)))
