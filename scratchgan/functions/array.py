"""Shape and indexing Functions: reshape, transpose, broadcast_to, sum_to, sum,
mean, max (and maxout over grouped features), getitem (and its gradient op), concat,
flatten, and nearest-neighbour upsampling (a reshape and a broadcast).

Broadcasting is undone in one place, ``sum_to``: every op whose forward
broadcasts calls it on its gradients.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor, as_array
from scratchgan.backend import get_array_module


def _normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a Tensor of {ndim} dimensions")
    return tuple(sorted(int(a) % ndim for a in axes))


class Reshape(Function):
    """Reshape: y = x viewed with another shape.

    Shapes:    x: any; y: ``shape`` (same size)
    Gradients: gx = reshape(gy, x.shape)
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view shape {x.shape} ({x.size} elements) "
                             f"as {self.shape}") from None

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` viewed as ``shape``: a sequence of ints (NumPy integers too, not bools or
    floats), one of which may be -1 (inferred from the size)."""
    for i, s in enumerate(shape):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"reshape: sizes must be integers, got {s!r} at position {i} of "
                            f"shape {tuple(shape)!r}")
    shape = tuple(int(s) for s in shape)
    if isinstance(x, Tensor) and x.shape == shape:
        return x
    return Reshape(shape)(x)


class Transpose(Function):
    """Transpose: y = x with its axes permuted (reversed when ``axes`` is None).

    Shapes:    x: (d0, ..., dn); y: (d[axes[0]], ..., d[axes[n]])
    Gradients: gx = transpose(gy, argsort(axes))
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x):
        if self.axes is not None and sorted(a % x.ndim for a in self.axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {self.axes} are not a permutation of "
                             f"the {x.ndim} axes of shape {x.shape}")
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy)
        return transpose(gy, tuple(int(a) for a in np.argsort([a % gy.ndim for a in self.axes])))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    return Transpose(None if axes is None else tuple(axes))(x)


class BroadcastTo(Function):
    """Broadcast: y = x repeated along new or length-1 axes (NumPy rules).

    Shapes:    x: broadcastable to ``shape``; y: ``shape``
    Gradients: gx = sum_to(gy, x.shape)
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        xp = get_array_module(x)
        try:
            return xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to "
                             f"{self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    shape = tuple(shape)
    if isinstance(x, Tensor) and x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


class SumTo(Function):
    """Sum to a shape: undo broadcasting, y = sum of x over the broadcast axes.

    Shapes:    x: any that ``shape`` broadcasts to; y: ``shape``
    Gradients: gx = broadcast_to(gy, x.shape)
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        if lead < 0 or any(s not in (1, d) for s, d in zip(self.shape, x.shape[lead:])):
            raise ValueError(f"sum_to: shape {x.shape} does not broadcast from {self.shape}")
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(self.shape) if s == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape) if lead else y

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def sum_to(x: Any, shape: Sequence[int]) -> Tensor:
    shape = tuple(shape)
    if isinstance(x, Tensor) and x.shape == shape:
        return x
    return SumTo(shape)(x)


class Sum(Function):
    """Sum: y = sum of x over ``axis`` (all axes when None).

    Shapes:    x: any; y: x.shape without the summed axes (kept as 1 if ``keepdims``)
    Gradients: gx = broadcast_to(gy with the summed axes restored as 1, x.shape)
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, axis: tuple[int, ...], keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x_shape = self.inputs[0].shape
        kept = tuple(1 if i in self.axis else d for i, d in enumerate(x_shape))
        return broadcast_to(reshape(gy, kept), x_shape)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 (mirrors numpy)
    x = x if isinstance(x, Tensor) else Tensor(x)
    return Sum(_normalize_axes(axis, x.ndim), keepdims)(x)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: ``sum(x, axis) / n``, n the number of elements summed, which must
    not be 0 (the mean of nothing is a ValueError, not NaN)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    axes = _normalize_axes(axis, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes]))
    if n == 0:
        what = "the Tensor" if axis is None else f"axis {axis!r}"
        raise ValueError(f"mean: {what} of shape {x.shape} holds no elements, and the mean of "
                         "no elements is undefined")
    return sum(x, axes, keepdims) * (1.0 / n)


class Max(Function):
    """Maximum over one axis: y = max_k x[..., k, ...].

    Shapes:    x: any; y: x.shape without ``axis`` (kept as 1 if ``keepdims``)
    Gradients: gx = gy * onehot(argmax_k x), restored along ``axis``: the whole gradient
               goes to the winning entry. Ties go to the lowest index k (numpy's argmax),
               so the gradient is deterministic where the max is not differentiable.
    Double:    gx is linear in gy with a mask fixed by x (piecewise constant), so
               d(gx)/d(gy) applied to ggx is sum_k ggx * onehot = ggx at the winner, and
               d(gx)/dx = 0 almost everywhere: the backward is a product by a constant.
    """

    def __init__(self, axis: int, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        if x.shape[self.axis] == 0:
            raise ValueError(f"max: axis {self.axis} of shape {x.shape} is empty")
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0].data
        xp = get_array_module(x)
        winner = xp.expand_dims(xp.argmax(x, axis=self.axis), self.axis)
        positions = xp.arange(x.shape[self.axis]).reshape(
            tuple(-1 if i == self.axis else 1 for i in range(x.ndim)))
        onehot = Tensor._from_array((positions == winner).astype(x.dtype))
        kept = tuple(1 if i == self.axis else d for i, d in enumerate(x.shape))
        return reshape(gy, kept) * onehot


def max(x: Any, axis: int = -1, keepdims: bool = False) -> Tensor:  # noqa: A001 (mirrors numpy)
    """The maximum of ``x`` over one ``axis`` (ties: the gradient goes to the first)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    (axis,) = _normalize_axes(axis, x.ndim)
    return Max(axis, keepdims)(x)


def maxout(x: Any, pieces: int) -> Tensor:
    """Maxout (Goodfellow et al. 2013) over grouped features: (N, units * pieces) ->
    (N, units), unit j the max of features j * pieces ... j * pieces + pieces - 1."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim != 2 or pieces < 1 or x.shape[1] % pieces:
        raise ValueError(f"maxout: needs (N, units * {pieces}) features, got shape {x.shape}")
    return max(reshape(x, (x.shape[0], x.shape[1] // pieces, pieces)), axis=2)


def upsample_nearest(x: Any, scale: int = 2) -> Tensor:
    """Nearest-neighbour upsampling of images (N, C, H, W) -> (N, C, s H, s W): pixel
    (i, j) of the output is pixel (i // s, j // s) of the input. Written as
    reshape (N, C, H, 1, W, 1) -> broadcast_to (N, C, H, s, W, s) -> reshape, so its
    gradient is broadcast_to's sum_to: gx[i, j] = sum of gy over the s x s block of
    (i, j), and the double backward is the upsampling again (both maps are linear)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"upsample_nearest: scale must be a positive integer, got {scale!r}")
    if x.ndim != 4:
        raise ValueError(f"upsample_nearest: needs images (N, C, H, W), got shape {x.shape}")
    n, c, h, w = x.shape
    s = int(scale)
    blocks = broadcast_to(reshape(x, (n, c, h, 1, w, 1)), (n, c, h, s, w, s))
    return reshape(blocks, (n, c, h * s, w * s))


def _normalize_index(index: Any) -> Any:
    """Replace Tensors in an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(_normalize_index(i) for i in index)
    return index.data if isinstance(index, Tensor) else index


def _index_on(xp: Any, index: Any) -> Any:
    """``index`` for an array of module ``xp``: on the GPU, host integer arrays (and lists)
    in it are copied to the device once, so gathers and scatter-adds run there."""
    if xp is np:
        return index
    if isinstance(index, tuple):
        return tuple(_index_on(xp, i) for i in index)
    if isinstance(index, (np.ndarray, list)):
        return xp.asarray(index)
    return index


class GetItem(Function):
    """Indexing: y = x[index] (basic slicing or integer-array indexing).

    Shapes:    x: any; y: x[index].shape
    Gradients: gx = getitem_grad(gy, index, x.shape)  (scatter-add of gy into zeros)
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x):
        self.index = _index_on(get_array_module(x), self.index)  # kept for the backward
        try:
            return x[self.index]
        except IndexError as e:
            raise IndexError(f"getitem: index {self.index!r} is invalid for shape {x.shape}: {e}") from None

    def backward(self, gy):
        return GetItemGrad(self.index, self.inputs[0].shape)(gy)


def getitem(x: Any, index: Any) -> Tensor:
    return GetItem(_normalize_index(index))(x)


class GetItemGrad(Function):
    """Gradient of indexing: gx = zeros(shape) with gy added at ``index``
    (repeated indices add up).

    Shapes:    gy: x[index].shape; gx: ``shape``
    Gradients: ggy = ggx[index]  (scatter-add and gather are adjoint)
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index = index
        self.shape = shape

    def forward(self, gy):
        xp = get_array_module(gy)
        self.index = _index_on(xp, self.index)
        gx = xp.zeros(self.shape, gy.dtype)
        xp.add.at(gx, self.index, gy)    # CuPy >= 13: cupy.add.at, atomic adds
        return gx

    def backward(self, ggx):
        return getitem(ggx, self.index)


class Concat(Function):
    """Concatenation along ``axis``: y = [x_1, ..., x_k].

    Shapes:    x_i: equal except along ``axis``; y: sizes along ``axis`` added
    Gradients: gx_i = gy[..., offset_i : offset_i + size_i, ...]  (a getitem)
    """

    saved_inputs = ()  # backward reads shapes only

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs):
        xp = get_array_module(*xs)
        try:
            return xp.concatenate(xs, axis=self.axis)
        except ValueError:
            raise ValueError(f"concat: shapes {[x.shape for x in xs]} differ outside "
                             f"axis {self.axis}") from None

    def backward(self, gy):
        gxs, start = [], 0
        for x in self.inputs:
            index = [slice(None)] * gy.ndim
            index[self.axis] = slice(start, start + x.shape[self.axis])
            gxs.append(getitem(gy, tuple(index)))
            start += x.shape[self.axis]
        return tuple(gxs)


def concat(xs: Sequence[Any], axis: int = 0) -> Tensor:
    if not xs:
        raise ValueError("concat needs at least one Tensor")
    ndim = as_array(xs[0].data if isinstance(xs[0], Tensor) else xs[0]).ndim
    return Concat(_normalize_axes(axis, ndim)[0])(*xs)


def flatten(x: Any, start_dim: int = 1) -> Tensor:
    """Collapse the axes from ``start_dim`` on into one: (N, C, H, W) -> (N, C*H*W)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    start = _normalize_axes(start_dim, x.ndim)[0]
    return reshape(x, x.shape[:start] + (int(np.prod(x.shape[start:])),))
