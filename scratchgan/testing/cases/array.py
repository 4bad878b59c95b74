"""Cases for the shape and indexing ops."""
from __future__ import annotations

import numpy as np

from scratchgan import functions as F
from scratchgan.testing.cases.arithmetic import broadcast_pair
from scratchgan.testing.catalog import Draw, OpCase, register, shape


def _axes(draw: Draw, ndim: int):
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    kind = draw(0, 2)
    if kind == 0:
        return None
    if kind == 1:
        return draw(-ndim, ndim - 1)
    return tuple(a for a in range(ndim) if draw(0, 1)) or (0,)


def _make_reshape(draw, rng):
    s = shape(draw)
    size = int(np.prod(s))
    targets = (s[::-1], (size,), (1, size), (-1, s[-1]))
    return (rng.standard_normal(s),), {"shape": targets[draw(0, len(targets) - 1)]}


def _make_transpose(draw, rng):
    s = shape(draw, 1, 4)
    axes = None if draw(0, 3) == 0 else tuple(int(a) for a in rng.permutation(len(s)))
    return (rng.standard_normal(s),), {"axes": axes}


def _make_broadcast_to(draw, rng):
    big, small = sorted(broadcast_pair(draw), key=lambda t: (len(t), np.prod(t)))[::-1]
    if np.broadcast_shapes(big, small) != big:
        big = np.broadcast_shapes(big, small)
    return (rng.standard_normal(small),), {"shape": big}


def _make_sum_to(draw, rng):
    (x,), params = _make_broadcast_to(draw, rng)
    return (rng.standard_normal(params["shape"]),), {"shape": x.shape}


def _make_reduce(draw, rng):
    s = shape(draw)
    return (rng.standard_normal(s),), {"axis": _axes(draw, len(s)), "keepdims": bool(draw(0, 1))}


def distinct(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """Values at least ``gap`` apart (a shuffled ladder with a little noise), so a finite
    difference never changes which entry is the largest (max, maxout)."""
    size = int(np.prod(shape))
    ladder = (rng.permutation(size) - size / 2) * (3 * gap)
    return (ladder + rng.uniform(-gap, gap, size)).reshape(shape)


def _make_max(draw, rng):
    s = shape(draw)
    return (distinct(rng, s),), {"axis": draw(-len(s), len(s) - 1), "keepdims": bool(draw(0, 1))}


def _make_maxout(draw, rng):
    pieces = draw(1, 4)
    return (distinct(rng, (draw(1, 4), draw(1, 3) * pieces)),), {"pieces": pieces}


def _make_getitem(draw, rng):
    s = shape(draw, 1, 3, 2, 5)
    index = tuple(slice(draw(0, d - 1), None, draw(1, 2)) for d in s[:draw(1, len(s))])
    if draw(0, 1):
        index = index[:1] + (Ellipsis,) if len(s) > 1 else index
    return (rng.standard_normal(s),), {"index": index}


def _make_getitem_fancy(draw, rng):
    s = shape(draw, 1, 3, 2, 5)
    picks = np.array([draw(0, s[0] - 1) for _ in range(draw(1, 6))])  # repeats add up
    return (rng.standard_normal(s),), {"index": picks}


def _make_getitem_grad(draw, rng):
    (x,), params = _make_getitem_fancy(draw, rng)
    gy = rng.standard_normal(x[params["index"]].shape)
    return (gy,), {"index": params["index"], "shape": x.shape}


def _make_concat(draw, rng):
    s = shape(draw)
    axis = draw(0, len(s) - 1)
    parts = []
    for _ in range(draw(1, 3)):
        part = list(s)
        part[axis] = draw(1, 3)
        parts.append(rng.standard_normal(part))
    return tuple(parts), {"axis": axis}


def _make_flatten(draw, rng):
    s = shape(draw, 2, 4)
    return (rng.standard_normal(s),), {"start_dim": draw(0, len(s) - 1)}


def _make_upsample_nearest(draw, rng):
    images = (draw(1, 2), draw(1, 3), draw(1, 4), draw(1, 4))
    return (rng.standard_normal(images),), {"scale": draw(1, 3)}


register(OpCase("reshape", (F.Reshape,), _make_reshape, F.reshape))
register(OpCase("transpose", (F.Transpose,), _make_transpose, F.transpose))
register(OpCase("broadcast_to", (F.BroadcastTo,), _make_broadcast_to, F.broadcast_to))
register(OpCase("sum_to", (F.SumTo,), _make_sum_to, F.sum_to))
register(OpCase("sum", (F.Sum,), _make_reduce, F.sum))
register(OpCase("mean", (F.Sum,), _make_reduce, F.mean))
register(OpCase("max", (F.Max,), _make_max, F.max))
register(OpCase("maxout", (F.Max, F.Reshape), _make_maxout, F.maxout))
register(OpCase("getitem", (F.GetItem,), _make_getitem, F.getitem))
register(OpCase("getitem_fancy", (F.GetItem,), _make_getitem_fancy, F.getitem))
register(OpCase("getitem_grad", (F.GetItemGrad,), _make_getitem_grad,
                lambda gy, index, shape: F.GetItemGrad(index, shape)(gy)))
register(OpCase("concat", (F.Concat,), _make_concat, lambda *xs, axis: F.concat(xs, axis)))
register(OpCase("flatten", (F.Reshape,), _make_flatten, F.flatten))
register(OpCase("upsample_nearest", (F.Reshape, F.BroadcastTo), _make_upsample_nearest,
                F.upsample_nearest))
