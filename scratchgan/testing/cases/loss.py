"""Cases for the losses."""
from __future__ import annotations

from scratchgan import functions as F
from scratchgan.testing.catalog import OpCase, away_from_zero, register, shape

_REDUCTIONS = ("mean", "sum", "none")


def _make(draw, rng):
    s = shape(draw)
    return (3 * rng.standard_normal(s), rng.uniform(0, 1, s)), {
        "reduction": _REDUCTIONS[draw(0, 2)]}


register(OpCase("bce_with_logits", (F.BCEWithLogits, F.BCEWithLogitsGrad), _make,
                F.bce_with_logits))
register(OpCase("mse", (), _make, F.mse))


def _make_l1(draw, rng):
    """Targets anywhere; inputs at least 0.1 away from them (the kink of |x - t|)."""
    s = shape(draw)
    t = rng.standard_normal(s)
    return (t + away_from_zero(rng, s), t), {"reduction": _REDUCTIONS[draw(0, 2)]}


register(OpCase("l1", (), _make_l1, F.l1))
