import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.testing import OpTest, all_cases

CASES = all_cases()


def copy_by_index(x, out_shape, source_index):
    """out[i] = x[source_index(i)] for every index i of out: a loop, the naive way."""
    out = np.empty(out_shape)
    for i in np.ndindex(*out_shape):
        out[i] = x[source_index(i)]
    return out


class TestReshape(OpTest):
    case = CASES["reshape"]

    def expected(self, x, shape):
        flat = list(x.ravel())  # row-major order is what reshape keeps
        return np.array(flat).reshape(shape)


class TestTranspose(OpTest):
    case = CASES["transpose"]

    def expected(self, x, axes):
        axes = tuple(reversed(range(x.ndim))) if axes is None else axes
        out_shape = tuple(x.shape[a] for a in axes)

        def source(i):
            src = [0] * x.ndim
            for k, a in enumerate(axes):
                src[a] = i[k]
            return tuple(src)
        return copy_by_index(x, out_shape, source)


class TestBroadcastTo(OpTest):
    case = CASES["broadcast_to"]

    def expected(self, x, shape):
        lead = len(shape) - x.ndim
        return copy_by_index(x, shape, lambda i: tuple(
            0 if x.shape[k] == 1 else i[lead + k] for k in range(x.ndim)))


class TestSumTo(OpTest):
    case = CASES["sum_to"]

    def expected(self, x, shape):
        out = np.zeros(shape)
        lead = x.ndim - len(shape)
        for i in np.ndindex(*x.shape):
            out[tuple(0 if shape[k] == 1 else i[lead + k] for k in range(len(shape)))] += x[i]
        return out


def naive_sum(x, axis, keepdims):
    axes = set(range(x.ndim)) if axis is None else {a % x.ndim for a in np.atleast_1d(axis)}
    out_shape = tuple(1 if k in axes else d for k, d in enumerate(x.shape))
    out = np.zeros(out_shape)
    for i in np.ndindex(*x.shape):
        out[tuple(0 if k in axes else v for k, v in enumerate(i))] += x[i]
    if not keepdims:
        out = out.reshape(tuple(d for k, d in enumerate(x.shape) if k not in axes))
    return out, int(np.prod([x.shape[k] for k in axes]))


class TestSum(OpTest):
    case = CASES["sum"]

    def expected(self, x, axis, keepdims):
        return naive_sum(x, axis, keepdims)[0]


class TestMean(OpTest):
    case = CASES["mean"]

    def expected(self, x, axis, keepdims):
        total, n = naive_sum(x, axis, keepdims)
        return total / n


def naive_max(x, axis, keepdims):
    """max over one axis by a loop over the others."""
    axis %= x.ndim
    rest = x.shape[:axis] + x.shape[axis + 1:]
    out = np.empty(rest)
    for i in np.ndindex(*rest):
        out[i] = max(x[i[:axis] + (k,) + i[axis:]] for k in range(x.shape[axis]))
    return np.expand_dims(out, axis) if keepdims else out


class TestMax(OpTest):
    case = CASES["max"]

    def expected(self, x, axis, keepdims):
        return naive_max(x, axis, keepdims)


class TestMaxout(OpTest):
    case = CASES["maxout"]

    def expected(self, x, pieces):
        n, width = x.shape
        return np.array([[max(x[i, j * pieces:(j + 1) * pieces]) for j in range(width // pieces)]
                         for i in range(n)])


def test_max_gives_a_tie_to_the_first_entry_at_every_order():
    x = sg.Tensor(np.array([[1.0, 3.0, 3.0, -2.0], [5.0, 5.0, 5.0, 5.0]]), requires_grad=True)
    gy = sg.Tensor(np.array([2.0, -1.0]), requires_grad=True)
    y = F.max(x, axis=1)
    np.testing.assert_array_equal(y.data, [3.0, 5.0])
    (gx,) = sg.grad(y, x, grad_outputs=gy, create_graph=True)
    np.testing.assert_array_equal(gx.data, [[0, 2, 0, 0], [-1, 0, 0, 0]])
    # the backward is linear in gy: its gradient at ggx reads ggx at the winners
    ggx = np.arange(8.0).reshape(2, 4)
    (ggy,) = sg.grad(gx, gy, grad_outputs=sg.Tensor(ggx))
    np.testing.assert_array_equal(ggy.data, [1.0, 4.0])


def test_max_and_maxout_name_bad_shapes():
    with pytest.raises(ValueError, match="axis 1 of shape"):
        F.max(np.zeros((2, 0)), axis=1)
    with pytest.raises(ValueError, match=r"maxout: needs \(N, units \* 3\) features"):
        F.maxout(np.zeros((2, 4)), 3)


class TestGetItem(OpTest):
    case = CASES["getitem"]

    def expected(self, x, index):
        # spell the slices out as explicit index lists along each axis
        if Ellipsis in index:
            index = index[:-1]
        picks = [list(range(*s.indices(x.shape[k]))) for k, s in enumerate(index)]
        picks += [list(range(d)) for d in x.shape[len(index):]]
        return copy_by_index(x, tuple(len(p) for p in picks),
                             lambda i: tuple(p[k] for k, p in zip(i, picks)))


class TestGetItemFancy(OpTest):
    case = CASES["getitem_fancy"]

    def expected(self, x, index):
        return np.stack([x[int(k)] for k in index])


class TestGetItemGrad(OpTest):
    case = CASES["getitem_grad"]

    def expected(self, gy, index, shape):
        out = np.zeros(shape)
        for row, k in enumerate(index):  # repeated indices add up
            out[int(k)] += gy[row]
        return out


class TestConcat(OpTest):
    case = CASES["concat"]

    def expected(self, *xs, axis):
        sizes = [x.shape[axis] for x in xs]
        shape = list(xs[0].shape)
        shape[axis] = sum(sizes)

        def source(i):
            k, j = 0, i[axis]
            while j >= sizes[k]:
                j -= sizes[k]
                k += 1
            return k, i[:axis] + (j,) + i[axis + 1:]
        out = np.empty(shape)
        for i in np.ndindex(*shape):
            k, src = source(i)
            out[i] = xs[k][src]
        return out


class TestFlatten(OpTest):
    case = CASES["flatten"]

    def expected(self, x, start_dim):
        return np.array(list(x.ravel())).reshape(x.shape[:start_dim] + (-1,))


class TestUpsampleNearest(OpTest):
    case = CASES["upsample_nearest"]

    def expected(self, x, scale):
        n, c, h, w = x.shape
        return copy_by_index(x, (n, c, h * scale, w * scale),
                             lambda i: (i[0], i[1], i[2] // scale, i[3] // scale))


def test_upsample_nearest_gradient_sums_each_block():
    x = sg.Tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    gy = np.arange(16.0).reshape(1, 1, 4, 4)
    F.upsample_nearest(x, 2).backward(sg.Tensor(gy))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7],
                                                         [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]])


def test_upsample_nearest_names_bad_input():
    with pytest.raises(ValueError, match=r"needs images \(N, C, H, W\), got shape \(2, 3\)"):
        F.upsample_nearest(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="scale must be a positive integer, got 1.5"):
        F.upsample_nearest(np.zeros((1, 1, 2, 2)), 1.5)


def test_shape_errors_name_the_shapes():
    x = sg.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*as \(4, 2\)"):
        F.reshape(x, (4, 2))
    with pytest.raises(ValueError, match=r"cannot be broadcast to \(3, 3\)"):
        F.broadcast_to(x, (3, 3))
    with pytest.raises(ValueError, match="out of range"):
        F.sum(x, axis=2)
    with pytest.raises(ValueError, match="differ outside axis 0"):
        F.concat([x, sg.Tensor(np.zeros((2, 4)))], axis=0)
    with pytest.raises(IndexError, match=r"invalid for shape \(2, 3\)"):
        x[5]
    with pytest.raises(ValueError, match="not a permutation"):
        F.transpose(x, (0, 0))


@pytest.mark.parametrize("shape, bad, at", [((3.0, 2.0), "3.0", 0), ((3, True), "True", 1),
                                            ((6, np.float64(1)), "np.float64(1.0)", 1)])
def test_reshape_sizes_must_be_integers(shape, bad, at):
    x = sg.Tensor(np.zeros(6))
    with pytest.raises(TypeError, match=re.escape(f"reshape: sizes must be integers, got {bad} "
                                                  f"at position {at} of shape")):
        F.reshape(x, shape)
    assert F.reshape(x, (np.int64(3), -1)).shape == (3, 2)


@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple), data=st.data())
def test_the_mean_of_no_elements_is_refused(shape, data):
    """Over every axis and over each single axis: refused where the averaged axes hold no
    element (the mean would be NaN), computed otherwise (even if the result is empty)."""
    x = sg.Tensor(np.ones(shape))
    for axis in [None] + list(range(len(shape))):
        kept = shape if axis is None else (shape[axis],)
        if 0 in kept:
            what = "the Tensor" if axis is None else f"axis {axis}"
            with pytest.raises(ValueError, match=re.escape(f"mean: {what} of shape {shape} "
                                                          "holds no elements")):
                F.mean(x, axis)
        else:
            np.testing.assert_array_equal(F.mean(x, axis).data, np.ones(shape).mean(axis))
