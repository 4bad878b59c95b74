"""Cases for the activations; inputs stay at least 0.1 away from the kink of relu."""
from __future__ import annotations

from scratchgan import functions as F
from scratchgan.testing.catalog import OpCase, away_from_zero, register, shape

_SLOPES = (0.2, 0.01, 0.5)


def _make_kinked(draw, rng):
    return (away_from_zero(rng, shape(draw)),), {}


def _make_leaky(draw, rng):
    return (away_from_zero(rng, shape(draw)),), {"slope": _SLOPES[draw(0, len(_SLOPES) - 1)]}


def _make_leaky_grad(draw, rng):
    s = shape(draw)
    return (away_from_zero(rng, s), rng.standard_normal(s)), {"slope": _SLOPES[draw(0, 2)]}


def _make_smooth(draw, rng):
    return (3 * rng.standard_normal(shape(draw)),), {}


register(OpCase("relu", (F.ReLU,), _make_kinked, F.relu))
register(OpCase("leaky_relu", (F.LeakyReLU,), _make_leaky, F.leaky_relu))
register(OpCase("leaky_relu_grad", (F.LeakyReLUGrad,), _make_leaky_grad,
                lambda x, gy, slope: F.LeakyReLUGrad(slope)(x, gy)))
register(OpCase("sigmoid", (F.Sigmoid,), _make_smooth, F.sigmoid))
register(OpCase("tanh", (F.Tanh,), _make_smooth, F.tanh))
register(OpCase("softplus", (F.Softplus,), _make_smooth, F.softplus))
register(OpCase("log_sigmoid", (F.LogSigmoid,), _make_smooth, F.log_sigmoid))
