import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import random as sg_random
from scratchgan.config import using_config
from scratchgan.testing import OpTest, all_cases, check_backward, check_double_backward

CASES = all_cases()


class TestDropout(OpTest):
    case = CASES["dropout"]

    def expected(self, x, mask, p):
        return np.array([v * m / (1 - p) for v, m in zip(x.ravel(), mask.ravel())]).reshape(x.shape)


def test_drawn_mask_zeroes_and_scales_and_the_gradient_follows_it():
    sg_random.manual_seed(3)
    x = sg.Tensor(np.ones((200, 50)), requires_grad=True)
    y = F.dropout(x, 0.25)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)   # gx = gy * m / (1 - p), gy = 1


def test_the_mask_is_an_input_of_the_graph_not_a_saved_array():
    x = sg.Tensor(np.ones(10), requires_grad=True)
    y = F.dropout(x, 0.5)
    x_in, mask = y.creator.inputs
    assert x_in is x and not mask.requires_grad
    np.testing.assert_array_equal(mask.data * 2.0, y.data)


def test_drawn_masks_check_in_first_and_second_order():
    """The draw happens before the Function: the op a gradcheck sees is fixed by the seed."""
    def f(x):
        sg_random.manual_seed(0)
        return F.dropout(F.tanh(x), 0.3)
    x = np.random.default_rng(1).standard_normal((4, 5))
    check_backward(f, [x])
    check_double_backward(f, [x])


def test_masks_come_from_the_global_generator_so_a_seed_repeats_them():
    x = sg.Tensor(np.ones((8, 8), np.float32))
    sg_random.manual_seed(7)
    first = F.dropout(x, 0.5).data
    state = sg_random.get_state()
    second = F.dropout(x, 0.5).data
    sg_random.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    sg_random.set_state(state)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, second)
    assert first.dtype == np.float32


def test_identity_in_eval_mode_and_for_p_zero():
    x = sg.Tensor(np.arange(6.0))
    with using_config("train", False):
        assert F.dropout(x, 0.5) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_probability_out_of_range(p):
    with pytest.raises(ValueError, match="dropout probability must be in"):
        F.dropout(sg.Tensor(np.ones(3)), p)
