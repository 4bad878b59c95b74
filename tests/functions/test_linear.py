import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.testing import OpTest, all_cases

CASES = all_cases()


class TestMatMul(OpTest):
    case = CASES["matmul"]

    def expected(self, a, b):
        return np.einsum("...nk,...km->...nm", a, b)


class TestLinear(OpTest):
    case = CASES["linear"]

    def expected(self, x, W, b=None):
        y = np.einsum("...i,oi->...o", x, W)
        return y if b is None else y + b


def test_shape_errors():
    with pytest.raises(ValueError, match="inner dimensions"):
        F.matmul(sg.Tensor(np.zeros((2, 3))), sg.Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"needs W of shape \(O, 3\)"):
        F.linear(sg.Tensor(np.zeros((2, 3))), sg.Tensor(np.zeros((4, 5))))
    with pytest.raises(ValueError, match=r"bias has shape \(3,\), expected \(4,\)"):
        F.linear(sg.Tensor(np.zeros((2, 3))), sg.Tensor(np.zeros((4, 3))), sg.Tensor(np.zeros(3)))
