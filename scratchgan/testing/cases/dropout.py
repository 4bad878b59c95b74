"""Cases for dropout: the keep-mask is drawn here and passed as an input, so the finite
differences see one fixed function (and the mask's own gradient is checked too)."""
from __future__ import annotations

from scratchgan import functions as F
from scratchgan.testing.catalog import OpCase, register, shape

_PROBABILITIES = (0.5, 0.2, 0.9)


def _make(draw, rng):
    s = shape(draw)
    p = _PROBABILITIES[draw(0, len(_PROBABILITIES) - 1)]
    return (rng.standard_normal(s), (rng.random(s) >= p).astype(float)), {"p": p}


register(OpCase("dropout", (F.Dropout,), _make, lambda x, mask, p: F.dropout(x, p, mask=mask)))
