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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", [((64, 1), (1, 37)), ((3, 5, 1), (1, 1, 4)),
                                    ((2, 1, 4, 1), (3, 1, 6))])
def test_matmul_with_inner_dimension_one_is_the_outer_product_bit_for_bit(dtype, shapes):
    """An inner dimension of 1 (D.fc's input gradient) is computed as a broadcast product,
    not by BLAS: the same values and shape as ``@``, batch axes broadcast alike."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(dtype) for s in shapes)
    got = F.matmul(sg.Tensor(a), sg.Tensor(b)).data
    np.testing.assert_array_equal(got, a @ b)
    assert got.shape == (a @ b).shape and got.dtype == dtype
