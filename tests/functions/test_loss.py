import math

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.testing import OpTest, all_cases

CASES = all_cases()


def reduce(values, reduction):
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


class TestBCEWithLogits(OpTest):
    case = CASES["bce_with_logits"]

    def expected(self, x, t, reduction):
        p = 1 / (1 + np.exp(-x))
        return reduce(-(t * np.log(p) + (1 - t) * np.log(1 - p)), reduction)


class TestMSE(OpTest):
    case = CASES["mse"]

    def expected(self, x, t, reduction):
        return reduce((x - t) ** 2, reduction)


class TestL1(OpTest):
    case = CASES["l1"]

    def expected(self, x, t, reduction):
        return reduce(np.array([abs(a - b) for a, b in zip(x.ravel(), t.ravel())]).reshape(x.shape),
                      reduction)


def test_l1_subgradient_is_zero_where_the_input_equals_the_target():
    x = sg.Tensor(np.array([1.0, 2.0, 5.0, -1.0]), requires_grad=True)
    F.l1(x, np.array([0.0, 2.0, 7.0, -1.0])).backward()
    np.testing.assert_array_equal(x.grad.data, [0.25, 0.0, -0.25, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_is_stable_for_huge_logits(dtype):
    x = sg.Tensor(np.array([-1000.0, 1000.0, -1000.0, 1000.0], dtype), requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0], dtype)
    loss = F.bce_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.data, [0, 0, 1000, 1000])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0, 0, -1, 1])


def test_bce_with_a_constant_target_matches_the_textbook_loss():
    x = sg.Tensor(np.array([0.3, -1.2]), requires_grad=True)
    loss = F.bce_with_logits(x, 1.0)  # -log D(x), D = sigmoid
    want = np.mean([-math.log(1 / (1 + math.exp(-v))) for v in (0.3, -1.2)])
    assert abs(loss.item() - want) < 1e-12


def test_unknown_reduction():
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        F.mse(sg.Tensor([1.0]), 0.0, reduction="avg")


LOSSES = {"mse": F.mse, "l1": F.l1, "bce_with_logits": F.bce_with_logits}


@pytest.mark.parametrize("name", LOSSES)
def test_a_target_that_only_broadcasts_is_refused(name):
    x, t = sg.Tensor(np.zeros((4, 1))), sg.Tensor(np.arange(4.0))
    with pytest.raises(ValueError, match=re.escape(f"{name}: input shape (4, 1) and target "
                                                   "shape (4,) differ")):
        LOSSES[name](x, t)


@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), data=st.data())
def test_every_target_shape_but_the_input_shape_or_a_scalar_is_refused(shape, data):
    """A target with one length-1 axis more, one axis fewer or one size changed (the first
    two broadcast against the input, the last does not) is refused; the input's shape and
    scalars are taken."""
    name = data.draw(st.sampled_from(sorted(LOSSES)))
    i = data.draw(st.integers(0, len(shape) - 1))
    changed = data.draw(st.sampled_from([
        shape[:i] + (1,) + shape[i:],
        shape[:i] + shape[i + 1:] or (1, 1),     # () would be a scalar, which is taken
        shape[:i] + (shape[i] + 1,) + shape[i + 1:],
    ]))
    loss, x = LOSSES[name], sg.Tensor(np.zeros(shape))
    with pytest.raises(ValueError, match=re.escape(f"{name}: input shape {shape} and target "
                                                   f"shape {changed} differ")):
        loss(x, np.zeros(changed))
    for target in (np.zeros(shape), 0.5, np.float64(0.5), np.array(0.5)):
        assert loss(x, target).shape == ()
