"""Cases for batch norm: training mode, eval mode and the gradient op itself."""
from __future__ import annotations

from scratchgan import functions as F
from scratchgan.testing.catalog import OpCase, positive, register


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


register(OpCase("batch_norm", (F.BatchNorm,), _make_train,
                lambda x, g, b: F.batch_norm(x, g, b, training=True)))
register(OpCase("batch_norm_eval", (), _make_eval,
                lambda x, g, b, running_mean, running_var: F.batch_norm(
                    x, g, b, running_mean, running_var, training=False)))
register(OpCase("batch_norm_grad", (F.BatchNormGrad,), _make_grad,
                lambda x, gamma, gy: F.BatchNormGrad(1e-5)(x, gamma, gy)))
