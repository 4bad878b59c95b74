"""Cases for the element-wise arithmetic ops."""
from __future__ import annotations

from scratchgan import functions as F
from scratchgan.testing.catalog import Draw, OpCase, away_from_zero, positive, register, shape


def broadcast_pair(draw: Draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast together: the second drops leading axes and/or
    has some axes of length 1; half the time the two are swapped."""
    a = shape(draw)
    b = tuple(1 if draw(0, 2) == 0 else d for d in a[draw(0, len(a) - 1):])
    return (a, b) if draw(0, 1) else (b, a)


def _binary(name: str, fn, function: type, positive_rhs: bool = False) -> OpCase:
    def make(draw, rng):
        sa, sb = broadcast_pair(draw)
        rhs = positive(rng, sb) if positive_rhs else rng.standard_normal(sb)
        return (rng.standard_normal(sa), rhs), {}
    return register(OpCase(name, (function,), make, fn))


def _unary(name: str, fn, function: type, domain_positive: bool = False) -> OpCase:
    def make(draw, rng):
        s = shape(draw)
        return ((positive(rng, s) if domain_positive else rng.standard_normal(s)),), {}
    return register(OpCase(name, (function,), make, fn))


_binary("add", lambda a, b: a + b, F.Add)
_binary("sub", lambda a, b: a - b, F.Sub)
_binary("mul", lambda a, b: a * b, F.Mul)
_binary("div", lambda a, b: a / b, F.Div, positive_rhs=True)
_unary("neg", lambda x: -x, F.Neg)
_unary("exp", F.exp, F.Exp)
_unary("log", F.log, F.Log, domain_positive=True)
_unary("sqrt", F.sqrt, F.Sqrt, domain_positive=True)

_EXPONENTS = (2.0, 3.0, -1.0, 0.5, 1.5, -2.5)


def _make_pow(draw, rng):
    return (positive(rng, shape(draw)),), {"c": _EXPONENTS[draw(0, len(_EXPONENTS) - 1)]}


register(OpCase("pow", (F.Pow,), _make_pow, lambda x, c: x ** c))


def _make_abs(draw, rng):
    return (away_from_zero(rng, shape(draw)),), {}


def _make_abs_grad(draw, rng):
    s = shape(draw)
    return (away_from_zero(rng, s), rng.standard_normal(s)), {}


register(OpCase("abs", (F.Abs,), _make_abs, F.abs))
register(OpCase("abs_grad", (F.AbsGrad,), _make_abs_grad, lambda x, gy: F.AbsGrad()(x, gy)))
