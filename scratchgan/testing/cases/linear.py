"""Cases for matmul and linear."""
from __future__ import annotations

from scratchgan import functions as F
from scratchgan.testing.catalog import OpCase, register


def _make_matmul(draw, rng):
    n, k, m = draw(1, 4), draw(1, 4), draw(1, 4)
    batch = tuple(draw(1, 3) for _ in range(draw(0, 2)))
    b0 = tuple(1 if draw(0, 2) == 0 else d for d in batch)  # broadcast batches
    b1 = batch[draw(0, len(batch)):] if batch else ()
    return (rng.standard_normal(b0 + (n, k)), rng.standard_normal(b1 + (k, m))), {}


def _make_linear(draw, rng):
    n, i, o = draw(1, 5), draw(1, 5), draw(1, 5)
    lead = (n,) if draw(0, 3) else (draw(1, 2), n)  # also an input with extra leading axes
    x, W = rng.standard_normal(lead + (i,)), rng.standard_normal((o, i))
    return ((x, W, rng.standard_normal(o)) if draw(0, 2) else (x, W)), {}


register(OpCase("matmul", (F.MatMul,), _make_matmul, F.matmul))
register(OpCase("linear", (F.Linear,), _make_linear, lambda x, W, b=None: F.linear(x, W, b)))
